"""NumPy side of ZProbe+NPBenchA.swift: npbench kernels (spcl/npbench, NumPy versions, read from the
mirror at $NPBENCH_REPO, default /work/.mirror/spcl+npbench/repo) run on npbench's own inputs.

    python3 bench/probes/npbench_a.py NAME [S|M] [reps]

saves the inputs of NAME's `initialize` at the preset (bench_info/<short>.json) under
/tmp/npb/NAME_<size>/<array>.npy (Swift loads them: `tandem example n5_NAME m=0|1`), runs the kernel
`reps` times (default 5) on fresh copies (as npbench does: copies outside the timing) and prints
first_s, best_s (best of the rest) and checksums of the last rep's outputs as JSON, with the same
keys as the Swift version. The timing is of the kernel call alone (the checksums after it)."""
import sys, os, json, time, subprocess, importlib.util, pathlib
import numpy as np

REPO = os.environ.get("NPBENCH_REPO", "/work/.mirror/spcl+npbench/repo")
SRC = pathlib.Path("/tmp/npb/src")

# name -> (benchmark folder, bench_info short name, kernel module, kernel function, outputs)
PROGRAMS = {
    "hdiff": ("weather_stencils/hdiff", "hdiff", "hdiff", "hdiff"),
    "vadv": ("weather_stencils/vadv", "vadv", "vadv", "vadv"),
    "softmax": ("deep_learning/softmax", "softmax", "softmax", "softmax"),
    "conv2d_bias": ("deep_learning/conv2d_bias", "conv2d_bias", "conv2d", "conv2d_bias"),
    "mlp": ("deep_learning/mlp", "mlp", "mlp", "mlp"),
    "lenet": ("deep_learning/lenet", "lenet", "lenet", "lenet5"),
    "azimint_naive": ("azimint_naive", "azimint_naive", "azimint_naive", "azimint_naive"),
    "azimint_hist": ("azimint_hist", "azimint_hist", "azimint_hist", "azimint_hist"),
    "arc_distance": ("pythran/arc_distance", "arc_distance", "arc_distance", "arc_distance"),
    "compute": ("compute", "compute", "compute", "compute"),
    "go_fast": ("go_fast", "go_fast", "go_fast", "go_fast"),
    "mandelbrot1": ("mandelbrot1", "mandelbrot1", "mandelbrot1", "mandelbrot"),
    "mandelbrot2": ("mandelbrot2", "mandelbrot2", "mandelbrot2", "mandelbrot"),
    "contour_integral": ("contour_integral", "contour_integral", "contour_integral", "contour_integral"),
    "spmv": ("spmv", "spmv", "spmv", "spmv"),
    "crc16": ("crc16", "crc16", "crc16", "crc16"),
    "stockham_fft": ("stockham_fft", "stockham_fft", "stockham_fft", "stockham_fft"),
    "scattering_self_energies": ("scattering_self_energies", "scattering_self_energies",
                                 "scattering_self_energies", "scattering_self_energies"),
    "resnet": ("deep_learning/resnet", "resnet", "resnet", "resnet_basicblock"),
}


def show(path):
    return subprocess.run(["git", "-C", REPO, "show", "HEAD:" + path], check=True, capture_output=True, text=True).stdout


def load(folder, module, numpy_impl):
    name = module + ("_numpy" if numpy_impl else "")
    SRC.mkdir(parents=True, exist_ok=True)
    f = SRC / (folder.replace("/", "_") + "_" + name + ".py")
    f.write_text(show(f"npbench/benchmarks/{folder}/{name}.py"))
    spec = importlib.util.spec_from_file_location(f.stem, f)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def checksums(key, a, out):
    a = np.asarray(a)
    if np.iscomplexobj(a):
        f = a.ravel()
        out[key + "_re_sum"] = float(f.real.sum())
        out[key + "_im_sum"] = float(f.imag.sum())
        out[key + "_abs"] = float(np.abs(f).sum())
        for tag, i in (("e0", 0), ("emid", f.size // 2), ("elast", f.size - 1)):
            out[f"{key}_{tag}_re"] = float(f[i].real)
            out[f"{key}_{tag}_im"] = float(f[i].imag)
    else:
        f = a.ravel()
        out[key + "_sum"] = float(f.sum(dtype=np.float64))
        out[key + "_abs"] = float(np.abs(f).sum(dtype=np.float64))
        for tag, i in (("e0", 0), ("emid", f.size // 2), ("elast", f.size - 1)):
            out[f"{key}_{tag}"] = float(f[i])


def main():
    name = sys.argv[1]
    size = sys.argv[2] if len(sys.argv) > 2 else "S"
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    folder, short, module, func = PROGRAMS[name]
    info = json.loads(show(f"bench_info/{short}.json"))["benchmark"]
    params = info["parameters"][size]
    kern = getattr(load(folder, module, True), func)
    outdir = pathlib.Path(f"/tmp/npb/{name}_{size}")
    outdir.mkdir(parents=True, exist_ok=True)
    if "init" in info:
        init = load(folder, module, False).initialize
        np.random.seed(42)   # mlp's input uses the global generator; saved anyway
        vals = init(*[params[p] for p in info["init"]["input_args"]])
        if not isinstance(vals, tuple):
            vals = (vals,)
        env = dict(params)
        env.update(zip(info["init"]["output_args"], vals))
    else:
        env = dict(params)
    for k in info.get("array_args", []):
        np.save(outdir / f"{k}.npy", env[k])
    for k, v in env.items():  # integer/float scalars that are inputs too (dtr_stage, N, ...)
        if np.isscalar(v) and k not in params:
            np.save(outdir / f"{k}.npy", np.asarray(v))
    # the call: npbench's argument list, names mapped (mandelbrot's XN/YN are positional)
    args = [env[a] for a in info["input_args"]]
    times, result = [], None
    for _ in range(reps):
        call = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
        t0 = time.perf_counter()
        r = kern(*call)
        times.append(time.perf_counter() - t0)
        result = (r, call)
    r, call = result
    out = {"name": name, "size": size, "first_s": times[0], "best_s": min(times[1:]) if reps > 1 else times[0]}
    outs = info.get("output_args", []) or {"scattering_self_energies": ["Sigma"]}.get(name, [])
    if r is None:
        for k in outs:
            checksums(k, call[info["input_args"].index(k)], out)
    elif isinstance(r, tuple):
        for i, v in enumerate(r):
            checksums(f"out{i}", v, out)
    elif np.isscalar(r) or np.ndim(r) == 0:
        out["out_value"] = float(r)
    else:
        checksums("out", r, out)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
