// Laned sums of a transcendental body (a Black-Scholes-like log * sqrt + exp): `omp simd
// reduction` against the eight-lane forms (see laned_sum.c). A block held in a vector-typed
// variable vectorises here but not on Tandem's real Black-Scholes kernel (clang: "loop control
// flow is not understood"); a plain array copied into the vector after the block does both.
// Build: clang -O3 -march=native -fno-math-errno -ffp-contract=off -fopenmp-simd -fveclib=libmvec -std=c11 bs_lanes.c -lm -lmvec
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <time.h>
typedef double T;
typedef double tk_lanes_f64 __attribute__((vector_size(64)));
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
#define BODY(i) const T x = a[i]; const double v = (double)(log(x) * sqrt(x) + exp(-x));
__attribute__((noinline)) double plain(const T *restrict a, int64_t n) {
  double acc = 0;
  #pragma omp simd reduction(+:acc)
  for (int64_t i = 0; i < n; i++) { BODY(i) acc += v; }
  return acc;
}
__attribute__((noinline)) double vec8(const T *restrict a, int64_t n) {
  tk_lanes_f64 L = {0,0,0,0,0,0,0,0};
  const int64_t m = n & ~7;
  for (int64_t b = 0; b < m; b += 8) {
    tk_lanes_f64 t;
    #pragma omp simd
    for (int64_t k = 0; k < 8; k++) { const int64_t i = b + k; BODY(i) t[k] = v; }
    L = L + t;
  }
  return L[0] + L[1] + L[2] + L[3] + L[4] + L[5] + L[6] + L[7];
}
__attribute__((noinline)) double vec8nounroll(const T *restrict a, int64_t n) {
  tk_lanes_f64 L = {0,0,0,0,0,0,0,0};
  const int64_t m = n & ~7;
  for (int64_t b = 0; b < m; b += 8) {
    tk_lanes_f64 t;
    #pragma omp simd
    #pragma clang loop unroll(disable)
    for (int64_t k = 0; k < 8; k++) { const int64_t i = b + k; BODY(i) t[k] = v; }
    L = L + t;
  }
  return L[0] + L[1] + L[2] + L[3] + L[4] + L[5] + L[6] + L[7];
}
__attribute__((noinline)) double buffered(const T *restrict a, int64_t n) {
  double l[8] = {0};
  double t[512];
  for (int64_t c0 = 0; c0 < n; c0 += 512) {
    const int64_t ce = c0 + 512 < n ? c0 + 512 : n;
    #pragma omp simd
    for (int64_t i = c0; i < ce; i++) { BODY(i) t[i - c0] = v; }
    const int64_t cnt = ce - c0; int64_t k = 0;
    for (; k + 8 <= cnt; k += 8) { for (int q = 0; q < 8; q++) l[q] += t[k + q]; }
    for (; k < cnt; k++) l[k & 7] += t[k];
  }
  return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

__attribute__((noinline)) double arr8(const T *restrict a, int64_t n) {
  tk_lanes_f64 L = {0,0,0,0,0,0,0,0};
  const int64_t m = n & ~7;
  for (int64_t b = 0; b < m; b += 8) {
    double t[8];
    #pragma omp simd
    for (int64_t k = 0; k < 8; k++) { const int64_t i = b + k; BODY(i) t[k] = v; }
    tk_lanes_f64 tv; __builtin_memcpy(&tv, t, sizeof tv);
    L = L + tv;
  }
  return L[0] + L[1] + L[2] + L[3] + L[4] + L[5] + L[6] + L[7];
}
int main(int argc, char **argv) {
  int64_t n = 1 << 20;
  T *a = malloc(n * sizeof(T));
  for (int64_t i = 0; i < n; i++) a[i] = 0.5 + (T)((i * 2654435761u) % 1000) / 100;
  double (*f[5])(const T *, int64_t) = {plain, vec8, vec8nounroll, buffered, arr8};
  const char *names[5] = {"omp simd reduction", "vector lanes", "vector lanes no unroll", "buffered 512", "array 8 then vector"};
  for (int r = 0; r < 2; r++) for (int k = 0; k < 5; k++) {
    double best = 1e9, s = 0;
    for (int rep = 0; rep < 10; rep++) { double t0 = now(); s = f[k](a, n); double t = now() - t0; if (t < best) best = t; }
    printf("%-24s %.3f ms (%.3f ns an element) sum %.17g\n", names[k], best * 1e3, best * 1e9 / n, s);
  }
}
