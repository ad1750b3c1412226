#!/usr/bin/env python3
"""Points per OpenCL work-item on a device on CPU cores (PoCL): the measurement behind
`AcceleratorLaunch.pointsPerItem`.

Usage (pyopencl needed; not a dependency of the project):
    TANDEM_OPENCL_SOURCE=/tmp/clsrc TANDEM_DEVICE=opencl TANDEM_CACHE_DIR=/tmp/fresh \
        tandem run black_scholes n=1000000 iterations=1
    python3 bench/opencl/points_per_item.py /tmp/clsrc/<the program with tandem_kernel_split>.cl

Takes Black-Scholes' body from the program Tandem generated (one work-item per point, the form
a GPU gets) and times it on 4·10^6 points: elementwise with 1, 4, 8 and 16 points a work-item,
and as the split sum's fold with one point a step (what a GPU gets) and with eight into eight
lanes (what a device on CPU cores gets now). Prints ns a point, best of four.
"""
import sys, time
import numpy as np
import pyopencl as cl

src = open(sys.argv[1]).read()
pre = src[:src.index("__kernel void tandem_kernel(")]
split = src[src.index("__kernel void tandem_kernel_split"):src.index("__kernel void tandem_kernel_combine")]
body = split[split.index("const int64_t i0 = t_;"):split.index("acc0 +=")]
stores = "b3[i0] = v32; b4[i0] = v36;"
ARGS = ("__global const double *restrict b0, __global const double *restrict b1, __global const double *restrict b2, "
        "__global double *restrict b3, __global double *restrict b4, const long I0, const long I1, const long I2, "
        + ", ".join(f"const double F{i}" for i in range(6)))
elementwise = ""
for w in (1, 4, 8, 16):
    elementwise += (f"__kernel void e{w}({ARGS}) {{ const int64_t j_ = (int64_t)get_global_id(0) * {w};\n"
                    f"  const int m_ = (int)min((int64_t){w}, I0 - j_);\n"
                    f"  for (int l_ = 0; l_ < m_; l_++) {{ const int64_t t_ = j_ + l_; {body} {stores} }} }}\n")
lanes = split.replace("tandem_kernel_split", "split_lanes8")
lanes = lanes.replace("const int64_t nj_ = (hi - lo + TK_THREADS - 1) / TK_THREADS;",
                      "double l0_[8], l1_[8]; for (int l_ = 0; l_ < 8; l_++) { l0_[l_] = 0.0; l1_[l_] = 0.0; }\n"
                      "const int64_t nj_ = (hi - lo + TK_THREADS * 8 - 1) / (TK_THREADS * 8);")
head = lanes[lanes.index("const int64_t t_ = lo + j_ * TK_THREADS + lid;"):lanes.index("acc1 += v36;") + len("acc1 += v36;")]
lanes = lanes.replace(head, "const int64_t tb_ = lo + (j_ * TK_THREADS + lid) * 8;\n"
                      "const int m_ = (int)min((int64_t)8, hi - tb_);\n{\n"
                      f"for (int l_ = 0; l_ < m_; l_++) {{ const int64_t t_ = tb_ + l_;\n{body} l0_[l_] += v32; l1_[l_] += v36;\n}}\n")
lanes = lanes.replace("    sh_[lid * 4 + 0].d = acc0;",
                      "    for (int l_ = 0; l_ < 8; l_++) { acc0 += l0_[l_]; acc1 += l1_[l_]; }\n    sh_[lid * 4 + 0].d = acc0;", 1)

ctx = cl.create_some_context(interactive=False)
q = cl.CommandQueue(ctx)
prg = cl.Program(ctx, pre + split + lanes + elementwise).build()
n = 4_000_000
rng = np.random.default_rng(1)
inputs = [rng.uniform(5, 30, n), rng.uniform(1, 2, n), rng.uniform(1, 100, n)]
mf = cl.mem_flags
bufs = [cl.Buffer(ctx, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=a) for a in inputs]
out = [cl.Buffer(ctx, mf.READ_WRITE, n * 8) for _ in range(2)]
F = [np.float64(v) for v in (-0.02, 1.0, 0.5, 0.02 + 0.3 * 0.3 / 2, 0.3, np.sqrt(2.0))]
parts = min(1024, n // 8192)
part = cl.Buffer(ctx, mf.READ_WRITE, parts * 32)


def best(run):
    t = 1e9
    for _ in range(4):
        q.finish(); t0 = time.perf_counter(); run(); q.finish()
        t = min(t, time.perf_counter() - t0)
    return t / n * 1e9


ref = None
for w in (1, 4, 8, 16):
    k = cl.Kernel(prg, f"e{w}")
    ns = best(lambda: k(q, ((n + w - 1) // w,), None, *bufs, *out, np.int64(n), np.int64(0), np.int64(0), *F))
    got = np.empty(n); cl.enqueue_copy(q, got, out[0]); q.finish()
    ref = got if ref is None else ref
    print(f"elementwise, {w:2d} points a work-item: {ns:6.2f} ns a point{'' if np.array_equal(got, ref) else '  (DIFFERENT VALUES)'}")
for name, label in (("tandem_kernel_split", "sum, one point a step     "), ("split_lanes8", "sum, eight points in lanes")):
    k = cl.Kernel(prg, name)
    ns = best(lambda: k(q, (parts * 128, 1), (128, 1), *bufs, *out, np.int64(n), np.int64(0), np.int64(0), *F, part, np.int64(parts)))
    p = np.empty(parts * 4); cl.enqueue_copy(q, p, part); q.finish()
    print(f"{label}: {ns:6.2f} ns a point (sum {p[0::4].sum():.10g})")
