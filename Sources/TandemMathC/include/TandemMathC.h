#ifndef TANDEM_MATH_C_H
#define TANDEM_MATH_C_H

/// Tandem's own exp, operation for operation the C kernels' `tk_exp` / `tk_expf`
/// (`CRenderer.expSource`), for the interpreter: the same constants and the same fused
/// multiply-adds, so both give the same bits. Compiled here, not in Swift, so that each fused
/// multiply-add is one instruction where the CPU has one (a Swift build for baseline x86-64
/// calls glibc's `fma` for each: 13 calls an exp, most of an interpreted option pricer's time).
double tandem_exp(double x);
float tandem_expf(float x);

/// C's fmod (fmodf), bit for bit, as the kernels' `tk_fmod` / `tk_fmodf` compute it: a fused
/// multiply-add instead of libm's loop (1.6 ns against 16-29).
double tandem_fmod(double x, double y);
float tandem_fmodf(float x, float y);

/// `y[k] = tandem_exp(x[k])` for k < n.
void tandem_exp_row(const double *x, double *y, long n);
/// `y[k] = (double)tandem_expf((float)x[k])` for k < n (float values held as doubles).
void tandem_expf_row(const double *x, double *y, long n);

/// The forward transform of `width` lines of `n` points (a power of two) at once, in place:
/// point j of line q at `re[j * width + q]`, `im[j * width + q]`. `stage_re`/`stage_im` hold
/// each radix-2 pass's twiddles side by side (`FFTPlan`), `swaps` the index pairs of the
/// bit-reversal permutation (`swap_count` values, two a pair).
void tandem_fft_pow2_lines(double *re, double *im, long n, long width,
                           const double *stage_re, const double *stage_im,
                           const long *swaps, long swap_count);

/// Point j of line q, at `pr[j * point_stride + q * line_stride]` (and `pi`), into the interleaved
/// scratch `xr[j * width + q]` (and `xi`, times `sign`), for j < points, q < width.
void tandem_fft_gather(const double *pr, const double *pi, double *xr, double *xi,
                       long points, long width, long point_stride, long line_stride, double sign);
/// The inverse of `tandem_fft_gather`, the real parts times `scale`, the imaginary parts times
/// `imaginary_scale`.
void tandem_fft_scatter(double *pr, double *pi, const double *xr, const double *xi,
                        long points, long width, long point_stride, long line_stride,
                        double scale, double imaginary_scale);

#endif
