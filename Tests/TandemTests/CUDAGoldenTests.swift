import Testing
import Tandem
import TandemCompiler

/// Golden text of the CUDA dialect: the entry points (grid-stride loop, block tree reduction,
/// in-order combine) of representative kernels. The preamble is the C preamble's text with
/// `__device__` helpers and declared types (checked below; the C golden test pins its text).
@Suite("CUDA golden", .planned)
struct CUDAGoldenTests {
    /// The source from the argument struct on (what the CUDA dialect adds to the shared emitter).
    func entryPoints(_ source: String) -> String {
        guard let r = source.range(of: "typedef struct {") else { return "(no argument struct)\n" + source }
        return String(source[r.lowerBound...])
    }

    @Test("SOR stencil: one thread per point of a grid-stride loop, 2-D index from the flat one")
    func stencil() throws {
        var a = Tensor<Double>.zeros([6, 6])
        a[0, .all] = Tensor(1.0)
        try a.flush()
        let c = a[1..<5, 1..<5]
        let work = 0.2 * (c + a[0..<4, 1..<5] + a[2..<6, 1..<5] + a[1..<5, 0..<4] + a[1..<5, 2..<6])
        let sources = Tandem.generatedCUDA(work)
        try #require(sources.count == 1)
        #expect(entryPoints(sources[0]) == STENCIL_CUDA)
    }

    @Test("argmax along an axis: rows, block tree with first-index ties, in-order combine")
    func argmax() throws {
        let v = Tensor<Double>.uniform([7, 9], seed: 3, in: -2...2)
        try v.flush()
        let sources = Tandem.generatedCUDA(v.argmax(axis: 1))
        try #require(sources.count == 1)
        #expect(entryPoints(sources[0]) == ARGMAX_CUDA)
    }

    @Test("uniform generated on the device and float erf")
    func uniformErf() throws {
        let u = Tensor<Float>.uniform([1000], seed: 5, in: -3...3)
        let sources = Tandem.generatedCUDA(u.erf() * 0.5 + 0.5)
        try #require(sources.count == 1)
        #expect(entryPoints(sources[0]) == UNIFORM_ERF_CUDA)
    }

    @Test("the CUDA preamble is the C preamble with device helpers and no headers")
    func preamble() throws {
        let x = Tensor<Double>.uniform([10], seed: 1)
        let cuda = Tandem.generatedCUDA(x.erf())[0], c = Tandem.generatedC(x.erf())[0]
        #expect(!cuda.contains("#include"))
        #expect(!cuda.contains("static inline"))
        #expect(cuda.contains("static __device__ __forceinline__ double tk_uniform(uint64_t seed, int64_t i) {"))
        #expect(cuda.contains("typedef long long int64_t;"))
        // The shared text: the helpers' bodies are the same lines in both dialects, except that
        // C kernels call Tandem's own exp (tk_exp, tk_expf: C only) where CUDA uses the device's.
        let body = { (s: String) in s.split(separator: "\n").filter { $0.hasPrefix("  ") && !$0.contains("a.I[") && !$0.contains("I[") } }
        #expect(c.contains("TK_INLINE double tk_exp(double x) {") && !cuda.contains("tk_exp"))
        var inExp = false
        let cHelpers = String(c[..<c.range(of: "void tandem_kernel")!.lowerBound]).split(separator: "\n").filter { line in
            if line.contains(" tk_exp(double x) {") || line.contains(" tk_expf(float x) {") { inExp = true }
            defer { if line == "}" { inExp = false } }
            return !inExp
        }
        let cLines = Set(body(cHelpers.joined(separator: "\n").replacing("tk_exp", with: "exp")))
        let cudaLines = Set(body(String(cuda[..<cuda.range(of: "typedef struct {")!.lowerBound])))
        #expect(!cLines.isEmpty && cLines == cudaLines)
    }
}

let STENCIL_CUDA = """
typedef struct { void *B[2]; int64_t I[13]; double F[1]; } tk_args;

extern "C" __global__ void __launch_bounds__(TK_THREADS) tandem_kernel(const tk_args a) {
  const int64_t I0 = a.I[0];
  const int64_t I1 = a.I[1];
  const int64_t I2 = a.I[2];
  const int64_t I3 = a.I[3];
  const int64_t I4 = a.I[4];
  const int64_t I5 = a.I[5];
  const int64_t I6 = a.I[6];
  const int64_t I7 = a.I[7];
  const int64_t I8 = a.I[8];
  const int64_t I9 = a.I[9];
  const int64_t I10 = a.I[10];
  const int64_t I11 = a.I[11];
  const int64_t I12 = a.I[12];
  const double F0 = a.F[0];
  const double *__restrict__ b0 = (const double *)a.B[0];
  double *__restrict__ b1 = (double *)a.B[1];
  const int64_t np = I0 * I1;
  for (int64_t q = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; q < np; q += (int64_t)blockDim.x * gridDim.x) {
    int64_t r_ = q;
    const int64_t i1 = r_ % I1; r_ /= I1;
    const int64_t i0 = r_;
    const double v0 = (double)F0;
    const double v1 = b0[I2 + i0 * I3 + i1];
    const double v2 = b0[I4 + i0 * I5 + i1];
    const double v3 = (v1 + v2);
    const double v4 = b0[I6 + i0 * I7 + i1];
    const double v5 = (v3 + v4);
    const double v6 = b0[I8 + i0 * I9 + i1];
    const double v7 = (v5 + v6);
    const double v8 = b0[I10 + i0 * I11 + i1];
    const double v9 = (v7 + v8);
    const double v10 = (v0 * v9);
    b1[I12 + i0 * 4 + i1] = v10;
  }
}

"""

let ARGMAX_CUDA = """
typedef struct { void *B[2]; int64_t I[5]; double F[1]; } tk_args;

extern "C" __global__ void __launch_bounds__(TK_THREADS) tandem_kernel(const tk_args a) {
  const int64_t I0 = a.I[0];
  const int64_t I1 = a.I[1];
  const int64_t I2 = a.I[2];
  const int64_t I3 = a.I[3];
  const int64_t I4 = a.I[4];
  const double *__restrict__ b0 = (const double *)a.B[0];
  int64_t *__restrict__ b1 = (int64_t *)a.B[1];
  const int64_t np = I0;
  for (int64_t q = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; q < np; q += (int64_t)blockDim.x * gridDim.x) {
    const int64_t i0 = q;
    double acc0 = (-INFINITY); int64_t arg0 = 0; (void)arg0;
    for (int64_t i1 = 0; i1 < I1; i1++) {
      const double v0 = b0[I2 + i0 * I3 + i1];
      { const double t_ = v0; if (t_ > acc0 || (t_ != t_ && acc0 == acc0)) { acc0 = t_; arg0 = i1; } }
    }
    const int64_t v1 = arg0;
    b1[I4 + i0] = v1;
  }
}

extern "C" __global__ void __launch_bounds__(TK_THREADS) tandem_kernel_split(const tk_args a, tandem_acc *__restrict__ part, const int64_t nparts) {
  const int64_t I0 = a.I[0];
  const int64_t I1 = a.I[1];
  const int64_t I2 = a.I[2];
  const int64_t I3 = a.I[3];
  const int64_t I4 = a.I[4];
  const double *__restrict__ b0 = (const double *)a.B[0];
  int64_t *__restrict__ b1 = (int64_t *)a.B[1];
  const int64_t np = I0;
  const int64_t nr = I1;
  const int64_t c = blockIdx.x;
  const int64_t lo = nr * c / nparts, hi = nr * (c + 1) / nparts;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __shared__ tandem_acc sh_[(TK_THREADS / 32) * 2];
  for (int64_t q = blockIdx.y; q < np; q += gridDim.y) {
    const int64_t i0 = q;
    double acc0 = (-INFINITY); int64_t arg0 = 0; (void)arg0;
    for (int64_t t_ = lo + threadIdx.x; t_ < hi; t_ += TK_THREADS) {
      const int64_t i1 = t_;
      const double v0 = b0[I2 + i0 * I3 + i1];
      { const double t_ = v0; if (t_ > acc0 || (t_ != t_ && acc0 == acc0)) { acc0 = t_; arg0 = i1; } }
    }
    for (int o_ = 16; o_ > 0; o_ >>= 1) {
      { const double v_ = __shfl_down_sync(0xffffffffu, acc0, o_); const int64_t a_ = __shfl_down_sync(0xffffffffu, arg0, o_); if (v_ > acc0 || (v_ != v_ && acc0 == acc0) || ((v_ == acc0 || (v_ != v_ && acc0 != acc0)) && a_ < arg0)) { acc0 = v_; arg0 = a_; } }
    }
    if (lane == 0) {
      sh_[warp * 2 + 0].d = acc0; sh_[warp * 2 + 1].i = arg0;
    }
    __syncthreads();
    if (warp == 0) {
      acc0 = lane < TK_THREADS / 32 ? sh_[lane * 2 + 0].d : (-INFINITY); arg0 = lane < TK_THREADS / 32 ? sh_[lane * 2 + 1].i : 0;
      for (int o_ = 16; o_ > 0; o_ >>= 1) {
        { const double v_ = __shfl_down_sync(0xffffffffu, acc0, o_); const int64_t a_ = __shfl_down_sync(0xffffffffu, arg0, o_); if (v_ > acc0 || (v_ != v_ && acc0 == acc0) || ((v_ == acc0 || (v_ != v_ && acc0 != acc0)) && a_ < arg0)) { acc0 = v_; arg0 = a_; } }
      }
      if (lane == 0) {
        part[(c * np + q) * 2 + 0].d = acc0; part[(c * np + q) * 2 + 1].i = arg0;
      }
    }
    __syncthreads();
  }
}

extern "C" __global__ void __launch_bounds__(TK_THREADS) tandem_kernel_combine(const tk_args a, const tandem_acc *__restrict__ parts, const int64_t nparts) {
  const int64_t I0 = a.I[0];
  const int64_t I1 = a.I[1];
  const int64_t I2 = a.I[2];
  const int64_t I3 = a.I[3];
  const int64_t I4 = a.I[4];
  const double *__restrict__ b0 = (const double *)a.B[0];
  int64_t *__restrict__ b1 = (int64_t *)a.B[1];
  const int64_t np = I0;
  for (int64_t q = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; q < np; q += (int64_t)blockDim.x * gridDim.x) {
    const int64_t i0 = q;
    double acc0 = (-INFINITY); int64_t arg0 = 0; (void)arg0;
    for (int64_t c = 0; c < nparts; c++) {
      { const double t_ = parts[(c * np + q) * 2 + 0].d; if (t_ > acc0 || (t_ != t_ && acc0 == acc0)) { acc0 = t_; arg0 = parts[(c * np + q) * 2 + 1].i; } }
    }
    const int64_t v1 = arg0;
    b1[I4 + i0] = v1;
  }
}

"""

let UNIFORM_ERF_CUDA = """
typedef struct { void *B[1]; int64_t I[3]; double F[3]; } tk_args;

extern "C" __global__ void __launch_bounds__(TK_THREADS) tandem_kernel(const tk_args a) {
  const int64_t I0 = a.I[0];
  const int64_t I1 = a.I[1];
  const int64_t I2 = a.I[2];
  const double F0 = a.F[0];
  const double F1 = a.F[1];
  const double F2 = a.F[2];
  float *__restrict__ b0 = (float *)a.B[0];
  const int64_t np = I0;
  for (int64_t q = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; q < np; q += (int64_t)blockDim.x * gridDim.x) {
    const int64_t i0 = q;
    const float v0 = (float)(F0 + (F1 - F0) * tk_uniform((uint64_t)I2, I1 + i0));
    const float v1 = tk_erff(v0);
    const float v2 = (float)F2;
    const float v3 = (v1 * v2);
    const float v4 = (v3 + v2);
    b0[I1 + i0] = v4;
  }
}

"""
