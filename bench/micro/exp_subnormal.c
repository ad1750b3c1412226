/* Tandem's float exp (CRenderer.expSource) three ways, on inputs whose results are normal,
 * subnormal, or round to 0, to measure what an underflowing multiply costs:
 *   old:  p * 2^(k/2) * 2^(k-k/2) for every input (before this file);
 *   zero: the same, with p replaced by 0 below ln(2^-150) so that no lane underflows to 0
 *         (what the generated code does now);
 *   bits: results below 2^-126 built from their integer bit pattern, p * 2^(k+149) rounded,
 *         so that no subnormal arithmetic happens at all.
 * All three give the same bits on every input tried (printed). 8192 floats, L2-resident, so
 * the time is the arithmetic's, not memory's.
 * Build and run:
 *   clang -O3 -march=native -fno-math-errno -fopenmp-simd bench/micro/exp_subnormal.c -o /tmp/es -lm && /tmp/es
 * Measured on the 2-core AMD EPYC VM (2026-11-22), ns an element, one thread:
 *   inputs near -10:   old 0.156, zero 0.153, bits 0.205
 *   inputs near -95:   old 0.469, zero 0.474, bits 0.208   (genuine subnormal results)
 *   inputs near -1000: old 0.543, zero 0.154, bits 0.207   (results round to 0; GMM's case)
 * `zero` is free on ordinary inputs and removes GMM's cost; `bits` would also remove the cost
 * of genuine subnormals, at 30% on ordinary inputs, which Black-Scholes would pay. */
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#define TK_INLINE static inline __attribute__((always_inline))
#define POLY \
  const float xc = x < -0x1.ap+6f ? -0x1.ap+6f : (x > 0x1.64p+6f ? 0x1.64p+6f : x); \
  const float kf = rintf(xc * 0x1.715476p+0f); \
  float r = fmaf(kf, -0x1.62e4p-1f, xc); \
  r = fmaf(kf, -0x1.7f7d1cp-20f, r); \
  float p = 0x1.a0d2cep-13f; \
  p = fmaf(p, r, 0x1.6e879cp-10f); \
  p = fmaf(p, r, 0x1.11121p-7f); \
  p = fmaf(p, r, 0x1.555382p-5f); \
  p = fmaf(p, r, 0x1.555554p-3f); \
  p = fmaf(p, r, 0x1p-1f); \
  p = fmaf(p, r * r, r + 0x1p+0f);
TK_INLINE float exp_old(float x) {
  POLY
  const int32_t k = (int32_t)kf, k1 = k >> 1, k2 = k - k1;
  union { int32_t i; float f; } s1 = { (k1 + 127) << 23 }, s2 = { (k2 + 127) << 23 };
  const float y = p * s1.f * s2.f;
  return x != x ? x : y;
}
TK_INLINE float exp_zero(float x) {
  POLY
  p = x < -0x1.9fe36ap+6f ? 0x0p+0f : p;
  const int32_t k = (int32_t)kf, k1 = k >> 1, k2 = k - k1;
  union { int32_t i; float f; } s1 = { (k1 + 127) << 23 }, s2 = { (k2 + 127) << 23 };
  const float y = p * s1.f * s2.f;
  return x != x ? x : y;
}
TK_INLINE float exp_bits(float x) {
  POLY
  const int32_t k = (int32_t)kf;
  const int32_t sub = k < -125, k1 = k >> 1, k2 = sub ? 149 : k - k1;
  union { int32_t i; float f; } s1 = { sub ? 127 << 23 : (k1 + 127) << 23 }, s2 = { (k2 + (sub ? k : 0) + 127) << 23 };
  const float z = p * s1.f * s2.f;
  union { int32_t i; float f; } b = { (int32_t)rintf(sub ? z : 0.0f) };
  const float y = sub ? b.f : z;
  return x != x ? x : y;
}
#define N 8192
static float in[N], out[3][N];
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define RUN(NAME, F) __attribute__((noinline)) static void NAME(const float *a, float *b) { \
  _Pragma("omp simd") for (int i = 0; i < N; i++) b[i] = F(a[i]); }
RUN(run_old, exp_old)
RUN(run_zero, exp_zero)
RUN(run_bits, exp_bits)
int main(void) {
  void (*fs[3])(const float *, float *) = {run_old, run_zero, run_bits};
  const char *names[3] = {"old", "zero", "bits"};
  const float from[3] = {-10, -95, -1000}, step[3] = {0.001f, 0.01f, 0.001f};
  for (int c = 0; c < 3; c++) {
    for (int i = 0; i < N; i++) in[i] = from[c] + (float)(i % 1000) * step[c];
    printf("inputs from %6g:", from[c]);
    for (int f = 0; f < 3; f++) {
      double best = 1e9;
      for (int r = 0; r < 50; r++) {
        double t = now();
        for (int q = 0; q < 200; q++) fs[f](in, out[f]);
        t = (now() - t) / 200;
        if (t < best) best = t;
      }
      printf("  %s %.3f ns", names[f], best / N * 1e9);
    }
    int differ = 0;
    for (int i = 0; i < N; i++) differ += memcmp(&out[0][i], &out[1][i], 4) != 0 || memcmp(&out[0][i], &out[2][i], 4) != 0;
    printf("  (elements whose bits differ: %d)\n", differ);
  }
  return 0;
}
