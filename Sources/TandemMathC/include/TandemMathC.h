#ifndef TANDEM_MATH_C_H
#define TANDEM_MATH_C_H

/// Tandem's own exp, operation for operation the C kernels' `tk_exp` / `tk_expf`
/// (`CRenderer.expSource`), for the interpreter: the same constants and the same fused
/// multiply-adds, so both give the same bits. Compiled here, not in Swift, so that each fused
/// multiply-add is one instruction where the CPU has one (a Swift build for baseline x86-64
/// calls glibc's `fma` for each: 13 calls an exp, most of an interpreted option pricer's time).
double tandem_exp(double x);
float tandem_expf(float x);

/// `y[k] = tandem_exp(x[k])` for k < n.
void tandem_exp_row(const double *x, double *y, long n);
/// `y[k] = (double)tandem_expf((float)x[k])` for k < n (float values held as doubles).
void tandem_expf_row(const double *x, double *y, long n);

#endif
