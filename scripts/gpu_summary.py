#!/usr/bin/env python3
"""One Markdown table from the files scripts/gpu-check.sh writes into $OUT (for bench/RESULTS.md).

  python3 scripts/gpu_summary.py OUT_DIR

Reads bench-cuda.json and bench-cpu.json (`tandem bench --json`), peers-f64.json and
peers-f32.json (bench/peers/gpu_peers.py), devices.txt and nvidia-smi.txt. Missing files are
reported, not fatal. Each Tandem column names the device its kernels really ran on, so a run
asked for `cuda` that ran on the CPU cannot pass for a GPU result.
"""
import json
import os
import re
import sys


def load(path):
    try:
        with open(path) as f:
            text = f.read()
        start = text.find("{")
        return json.loads(text[start:]) if start >= 0 else None
    except (OSError, ValueError):
        return None


def peers_from_log(path):
    """The results a peers run printed before it was stopped (its JSON is written at the end):
    lines `workload [peer, dtype] ...` followed by `  S s (warm-up W s) check C`."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    results = []
    for m in re.finditer(r"^(\w+) \[(\w+), \w+\] \.\.\.\n\s+([0-9.]+) s \(warm-up ([0-9.]+) s\) check (\w+)", text, re.M):
        seconds, warm = float(m.group(3)), float(m.group(4))
        results.append({"workload": m.group(1), "peer": m.group(2), "seconds": seconds,
                        "compile_seconds": max(0.0, warm - seconds), "check": m.group(5)})
    return {"results": results, "from_log": True} if results else None


def fmt(x, digits=4):
    return "-" if x is None else f"{x:.{digits}f}"


def main(out):
    lines = []
    gpu = "unknown GPU"
    try:
        with open(os.path.join(out, "nvidia-smi.txt")) as f:
            m = re.search(r"NVIDIA [A-Z0-9][^|]*?(?=\s{2,}|\|)", f.read())
            gpu = m.group(0).strip() if m else gpu
    except OSError:
        pass
    tandem_copy = None
    try:
        with open(os.path.join(out, "devices.txt")) as f:
            text = f.read()
        m = re.search(r"copy bandwidth ([0-9.]+) GB/s", text)
        tandem_copy = float(m.group(1)) if m else None
        lines.append("```\n" + text.strip() + "\n```\n")
    except OSError:
        lines.append("(no devices.txt)\n")

    bench = {dev: load(os.path.join(out, f"bench-{dev}.json")) for dev in ("cuda", "cpu", "opencl")}
    peers = {dt: load(os.path.join(out, f"peers-{dt}.json")) or peers_from_log(os.path.join(out, f"peers-{dt}.log"))
             for dt in ("f64", "f32")}
    peer_copy = (peers["f64"] or {}).get("copy_bandwidth", {}).get("gb_per_s")
    copy_gbs = tandem_copy or peer_copy

    def tandem(dev, w, dt):
        for r in (bench[dev] or {}).get("rows", []):
            if r["workload"] == w and r["dtype"] == dt:
                return r
        return None

    def peer(name, w, dt):
        for r in (peers[dt] or {}).get("results", []):
            if r["peer"] == name and r["workload"] == w and r["check"] == "pass":
                return r
        return None

    size = (bench["cuda"] or bench["cpu"] or {}).get("size", "?")
    lines.append(f"Device: {gpu}. Size {size}; median of the timed runs, compute only; peers' compile time apart.")
    if copy_gbs:
        lines.append(f"Device-to-device copy bandwidth: {copy_gbs:.0f} GB/s"
                     + (f" (Tandem, cuMemcpyDtoDAsync)" if tandem_copy else " (CuPy)")
                     + (f"; CuPy measures {peer_copy:.0f} GB/s" if tandem_copy and peer_copy else "") + ".")
    lines.append("")
    lines.append("| workload | dtype | tandem `cuda` s (ran on) | tandem `opencl` s (ran on) | tandem `cpu` s | CuPy s | PyTorch s | JAX s (compile) | CuPy / tandem | tandem / JAX |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    names = ["black_scholes", "sor", "red_black_sor", "shallow_water", "nbody", "gmm_em"]
    for dt in ("f64", "f32"):
        for w in names:
            tc, tp, to_ = tandem("cuda", w, dt), tandem("cpu", w, dt), tandem("opencl", w, dt)
            cu, to, jx = peer("cupy", w, dt), peer("torch", w, dt), peer("jax", w, dt)
            t = tc["seconds"] if tc else None
            cells = [w, dt,
                     f"{fmt(t)} ({tc['device'] or '?'}, {tc['check']})" if tc else "-",
                     f"{fmt(to_['seconds'])} ({to_['device'] or '?'}, {to_['check']})" if to_ else "-",
                     f"{fmt(tp['seconds'])} ({tp['check']})" if tp else "-",
                     fmt(cu and cu["seconds"]), fmt(to and to["seconds"]),
                     f"{fmt(jx['seconds'])} ({jx['compile_seconds']:.1f})" if jx else "-",
                     f"{cu['seconds'] / t:.2f}" if cu and t else "-",
                     f"{t / jx['seconds']:.2f}" if jx and t else "-"]
            lines.append("| " + " | ".join(cells) + " |")
    bs = tandem("cuda", "black_scholes", "f32")
    if bs and copy_gbs:
        p = bs["params"]
        moved = 3 * 4 * p["n"] * p["iterations"]
        gbs = moved / bs["seconds"] / 1e9
        lines.append("")
        lines.append(f"black_scholes f32 on `{bs['device']}`: {gbs:.0f} GB/s of input read (3 x n x 4 B per iteration) = "
                     f"{100 * gbs / copy_gbs:.0f}% of the copy bandwidth (target: at least 70%, on `cuda`).")
    for dt in ("f64", "f32"):
        if (peers[dt] or {}).get("from_log"):
            lines.append(f"- peers {dt}: read from the log of a run stopped at its time limit (the rows it reached)")
        for m in (peers[dt] or {}).get("missing", []):
            lines.append(f"- peer {m['peer']} missing ({dt}): {m['install']}")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "gpu-check-out")
