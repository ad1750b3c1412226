// Tandem's exp for the interpreter: `CRenderer.expSource` (the C kernels' tk_exp, tk_expf),
// operation for operation. fma is exact, so the hardware instruction and glibc's fma give the
// same bits; where the loader can choose (ifunc, x86-64 Linux), a clone built for FMA runs on
// CPUs that have it and the baseline one elsewhere.
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "TandemMathC.h"

// Every multiply and add rounded on its own, as in the kernels (built with -ffp-contract=off).
#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__) && defined(__linux__) && defined(__clang__)
#define TK_CLONES __attribute__((target_clones("fma", "default")))
#else
#define TK_CLONES
#endif

static inline float tk_expf_body(float x) {
  const float xc = x < -0x1.ap+6f ? -0x1.ap+6f : (x > 0x1.64p+6f ? 0x1.64p+6f : x);
  const float kf = rintf(xc * 0x1.715476p+0f);
  float r = fmaf(kf, -0x1.62e4p-1f, xc);
  r = fmaf(kf, -0x1.7f7d1cp-20f, r);
  float p = 0x1.a0d2cep-13f;
  p = fmaf(p, r, 0x1.6e879cp-10f);
  p = fmaf(p, r, 0x1.11121p-7f);
  p = fmaf(p, r, 0x1.555382p-5f);
  p = fmaf(p, r, 0x1.555554p-3f);
  p = fmaf(p, r, 0x1p-1f);
  p = fmaf(p, r * r, r + 0x1p+0f);
  p = x < -0x1.9fe36ap+6f ? 0x0p+0f : p;
  const int32_t k = kf != kf ? 0 : (int32_t)kf, k1 = k >> 1, k2 = k - k1;
  const uint32_t b1 = (uint32_t)(k1 + 127) << 23, b2 = (uint32_t)(k2 + 127) << 23;
  float s1, s2;
  memcpy(&s1, &b1, sizeof s1);
  memcpy(&s2, &b2, sizeof s2);
  const float y = p * s1 * s2;
  return x != x ? x : y;
}

static inline double tk_exp_body(double x) {
  const double xc = x < -0x1.75p+9 ? -0x1.75p+9 : (x > 0x1.63p+9 ? 0x1.63p+9 : x);
  const double kd = rint(xc * 0x1.71547652b82fep+0);
  double r = fma(kd, -0x1.62e42feep-1, xc);
  r = fma(kd, -0x1.a39ef35793c76p-33, r);
  double p = 0x1.6124613a86d09p-33;
  p = fma(p, r, 0x1.1eed8eff8d898p-29);
  p = fma(p, r, 0x1.ae64567f544e4p-26);
  p = fma(p, r, 0x1.27e4fb7789f5cp-22);
  p = fma(p, r, 0x1.71de3a556c734p-19);
  p = fma(p, r, 0x1.a01a01a01a01ap-16);
  p = fma(p, r, 0x1.a01a01a01a01ap-13);
  p = fma(p, r, 0x1.6c16c16c16c17p-10);
  p = fma(p, r, 0x1.1111111111111p-7);
  p = fma(p, r, 0x1.5555555555555p-5);
  p = fma(p, r, 0x1.5555555555555p-3);
  p = fma(p, r, 0x1p-1);
  p = fma(p, r, 0x1p+0);
  p = fma(p, r, 0x1p+0);
  p = x < -0x1.74910d52d3052p+9 ? 0x0p+0 : p;
  const int64_t k = kd != kd ? 0 : (int64_t)kd, k1 = k >> 1, k2 = k - k1;
  const uint64_t b1 = (uint64_t)(k1 + 1023) << 52, b2 = (uint64_t)(k2 + 1023) << 52;
  double s1, s2;
  memcpy(&s1, &b1, sizeof s1);
  memcpy(&s2, &b2, sizeof s2);
  const double y = p * s1 * s2;
  return x != x ? x : y;
}

TK_CLONES double tandem_exp(double x) { return tk_exp_body(x); }
TK_CLONES float tandem_expf(float x) { return tk_expf_body(x); }

TK_CLONES void tandem_exp_row(const double *x, double *y, long n) {
  for (long k = 0; k < n; k++) y[k] = tk_exp_body(x[k]);
}

TK_CLONES void tandem_expf_row(const double *x, double *y, long n) {
  for (long k = 0; k < n; k++) y[k] = (double)tk_expf_body((float)x[k]);
}

// C's fmod, exact, as the kernels' tk_fmod / tk_fmodf (`CRenderer.fmodSource`): the truncated
// quotient's remainder by one fused multiply-add, one step back where it came out on the wrong
// side; libm's fmod only past 2^52 (2^23), for infinities and for a zero divisor. 1.6 ns
// against glibc's 16-29 (`bench/micro/fmod.c`).
TK_CLONES double tandem_fmod(double x, double y) {
  const double q = x / y;
  if (!(fabs(q) < 0x1p52) || fabs(x) == (double)INFINITY || fabs(y) == (double)INFINITY) return fmod(x, y);
  double r = fma(-trunc(q), y, x);
  if (r != 0.0 && ((r < 0.0) != (x < 0.0))) r += copysign(fabs(y), x);
  return r == 0.0 ? copysign(0.0, x) : r;
}

TK_CLONES float tandem_fmodf(float x, float y) {
  const float q = x / y;
  if (!(fabsf(q) < 0x1p23f) || fabsf(x) == (float)INFINITY || fabsf(y) == (float)INFINITY) return fmodf(x, y);
  float r = fmaf(-truncf(q), y, x);
  if (r != 0.0f && ((r < 0.0f) != (x < 0.0f))) r += copysignf(fabsf(y), x);
  return r == 0.0f ? copysignf(0.0f, x) : r;
}
