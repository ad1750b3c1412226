// Laned sums (Kernel.lanedReduction): the sum of |0.2 * (5-point stencil) - centre| over an
// n x n grid (SOR's sweep-and-residual kernel) as `omp simd reduction` adds it (order left to
// clang) and in the fixed eight-lane order Tandem's interpreter and C code share, several ways.
// Build: clang -O3 -march=native -fno-math-errno -ffp-contract=off -fopenmp-simd -std=c11 laned_sum.c -lm
// (T is float; change the typedef and fabsf to measure double).
#define _POSIX_C_SOURCE 199309L
// Sum of |0.2*(5-point stencil) - centre| over an n x n float grid, three ways.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <time.h>
typedef float T;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
#define BODY(i0, i1) const T c = a[(i0 + 1) * N + i1 + 1]; \
  const T w = (T)0.2f * ((((c + a[i0 * N + i1 + 1]) + a[(i0 + 2) * N + i1 + 1]) + a[(i0 + 1) * N + i1]) + a[(i0 + 1) * N + i1 + 2]); \
  out[i0 * n + i1] = w; const double v = (double)fabsf(w - c);
__attribute__((noinline)) double plain(const T *restrict a, T *restrict out, int64_t n, int64_t N) {
  double acc = 0;
  for (int64_t i0 = 0; i0 < n; i0++) {
    #pragma omp simd reduction(+:acc)
    for (int64_t i1 = 0; i1 < n; i1++) { BODY(i0, i1) acc += v; }
  }
  return acc;
}
__attribute__((noinline)) double blocks8(const T *restrict a, T *restrict out, int64_t n, int64_t N) {
  double acc = 0;
  for (int64_t i0 = 0; i0 < n; i0++) {
    double l[8]; for (int k = 0; k < 8; k++) l[k] = 0;
    const int64_t m = n & ~7;
    for (int64_t b = 0; b < m; b += 8) {
      #pragma omp simd
      for (int64_t k = 0; k < 8; k++) { const int64_t i1 = b + k; BODY(i0, i1) l[k] += v; }
    }
    for (int64_t i1 = m; i1 < n; i1++) { BODY(i0, i1) l[i1 - m] += v; }
    acc += ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
  }
  return acc;
}
__attribute__((noinline)) double buffered(const T *restrict a, T *restrict out, int64_t n, int64_t N) {
  double acc = 0;
  for (int64_t i0 = 0; i0 < n; i0++) {
    double l[8]; for (int k = 0; k < 8; k++) l[k] = 0;
    double t[256];
    for (int64_t c0 = 0; c0 < n; c0 += 256) {
      const int64_t ce = c0 + 256 < n ? c0 + 256 : n;
      #pragma omp simd
      for (int64_t i1 = c0; i1 < ce; i1++) { BODY(i0, i1) t[i1 - c0] = v; }
      const int64_t cnt = ce - c0; int64_t k = 0;
      for (; k + 8 <= cnt; k += 8) { for (int q = 0; q < 8; q++) l[q] += t[k + q]; }
      for (; k < cnt; k++) l[k & 7] += t[k];
    }
    acc += ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
  }
  return acc;
}

__attribute__((noinline)) double blocks16(const T *restrict a, T *restrict out, int64_t n, int64_t N) {
  double acc = 0;
  for (int64_t i0 = 0; i0 < n; i0++) {
    double l[16]; for (int k = 0; k < 16; k++) l[k] = 0;
    const int64_t m = n & ~15;
    for (int64_t b = 0; b < m; b += 16) {
      #pragma omp simd
      for (int64_t k = 0; k < 16; k++) { const int64_t i1 = b + k; BODY(i0, i1) l[k] += v; }
    }
    for (int64_t i1 = m; i1 < n; i1++) { BODY(i0, i1) l[i1 - m] += v; }
    acc += (((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))) + (((l[8] + l[9]) + (l[10] + l[11])) + ((l[12] + l[13]) + (l[14] + l[15])));
  }
  return acc;
}
__attribute__((noinline)) double vec8(const T *restrict a, T *restrict out, int64_t n, int64_t N) {
  typedef double v8d __attribute__((vector_size(64)));
  double acc = 0;
  for (int64_t i0 = 0; i0 < n; i0++) {
    v8d L = {0,0,0,0,0,0,0,0};
    const int64_t m = n & ~7;
    for (int64_t b = 0; b < m; b += 8) {
      v8d t;
      #pragma omp simd
      for (int64_t k = 0; k < 8; k++) { const int64_t i1 = b + k; BODY(i0, i1) t[k] = v; }
      L += t;
    }
    double l[8]; for (int k = 0; k < 8; k++) l[k] = L[k];
    for (int64_t i1 = m; i1 < n; i1++) { BODY(i0, i1) l[i1 - m] += v; }
    acc += ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
  }
  return acc;
}

__attribute__((noinline)) double arr8(const T *restrict a, T *restrict out, int64_t n, int64_t N) {
  typedef double v8d __attribute__((vector_size(64)));
  double acc = 0;
  for (int64_t i0 = 0; i0 < n; i0++) {
    v8d L = {0,0,0,0,0,0,0,0};
    const int64_t m = n & ~7;
    for (int64_t b = 0; b < m; b += 8) {
      double t[8];
      #pragma omp simd
      for (int64_t k = 0; k < 8; k++) { const int64_t i1 = b + k; BODY(i0, i1) t[k] = v; }
      v8d tv; __builtin_memcpy(&tv, t, sizeof tv);
      L += tv;
    }
    double l[8]; for (int k = 0; k < 8; k++) l[k] = L[k];
    for (int64_t i1 = m; i1 < n; i1++) { BODY(i0, i1) l[i1 - m] += v; }
    acc += ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
  }
  return acc;
}
int main(int argc, char **argv) {
  int64_t n = argc > 1 ? atoll(argv[1]) : 1022, N = n + 2;
  T *a = malloc(N * N * sizeof(T)), *out = malloc(n * n * sizeof(T));
  for (int64_t i = 0; i < N * N; i++) a[i] = (T)((i * 2654435761u) % 1000) / 1000;
  double (*f[6])(const T *, T *, int64_t, int64_t) = {plain, blocks8, buffered, blocks16, vec8, arr8};
  const char *names[6] = {"omp simd reduction", "lanes, blocks of 8", "lanes, buffered 256", "lanes 16", "vector_size lanes", "array 8 then vector"};
  for (int r = 0; r < 2; r++) for (int k = 0; k < 6; k++) {
    double best = 1e9, s = 0;
    for (int rep = 0; rep < 20; rep++) { double t0 = now(); s = f[k](a, out, n, N); double t = now() - t0; if (t < best) best = t; }
    printf("%-22s %.3f ms  (%.3f ns a point)  sum %.17g\n", names[k], best * 1e3, best * 1e9 / (n * n), s);
  }
}
