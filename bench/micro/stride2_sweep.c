/* One colour sweep of red-black SOR, float32, n = 2048 (rows of 2050), in place, three ways:
 *   generated: the kernel Tandem emits (two rows a row pair, every other column; offsets, strides
 *              and extents read from the launch's int parameters at run time);
 *   literal:   the same code with every int parameter a literal (one compiled kernel per size
 *              and colour);
 *   loop:      the loop Numba's peer runs (rows and columns from i and j, row length constant).
 * clang 21 vectorises all three 16 wide, but only the last two load whole rows and shuffle out
 * the colour (vpermt2ps); the generated one gathers. Partial specialisation does not recover it:
 * offsets alone literal, strides and extent alone literal, or the neighbours' offsets written as
 * the centre's plus a constant all stay at the generated kernel's speed or below (offsets
 * relative with literal strides: 3 to 4.5 ms, scalar). Kept for the next attempt at this sweep.
 * Build and run:
 *   clang -O3 -march=native -fno-math-errno -fopenmp-simd bench/micro/stride2_sweep.c -o /tmp/s2 && /tmp/s2
 * Measured on the 2-core AMD EPYC VM (2026-11-22), one thread, best of 7 x 20 sweeps, in L2/L3:
 * generated 1.30 to 1.70 ms a sweep, literal 0.98 to 1.09, loop 0.88 to 1.01. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}

#define BODY(P) \
  for (int64_t i0 = lo; i0 < hi; i0++) { \
    for (int64_t i1 = 0; i1 < P(1); i1++) { \
      for (int64_t i2 = 0; i2 < P(2); i2++) { \
        const float v1 = b0[P(3) + i0 * P(4) + i1 * P(13) + i2 * 2]; \
        const float v4 = b0[P(5) + i0 * P(6) + i1 * P(14) + i2 * 2]; \
        const float v5 = b0[P(7) + i0 * P(8) + i1 * P(15) + i2 * 2]; \
        const float v7 = b0[P(9) + i0 * P(10) + i1 * P(16) + i2 * 2]; \
        const float v9 = b0[P(11) + i0 * P(12) + i1 * P(17) + i2 * 2]; \
        b0[P(3) + i0 * P(4) + i1 * P(13) + i2 * 2] = a * v1 + b * (((v4 + v5) + v7) + v9); \
      } \
    } \
  }

/* The red sweep's launch: extents (row pairs, 2, columns), then each access's offset and
 * strides (centre, up, down, left, right). */
static const int64_t RED[18] = {1024, 2, 1024, 2051, 4100, 1, 4100, 4101, 4100, 2050, 4100, 2052, 4100, 2051, 2051, 2051, 2051, 2051};

#define RUNTIME(k) I[k]
__attribute__((noinline)) static void generated(float *restrict b0, const int64_t *restrict I, float a, float b, int64_t lo, int64_t hi) {
  BODY(RUNTIME)
}
#define LITERAL(k) (k == 1 ? 2 : k == 2 ? 1024 : k == 3 ? 2051 : k == 5 ? 1 : k == 7 ? 4101 : k == 9 ? 2050 : k == 11 ? 2052 : \
                    k >= 13 ? 2051 : 4100)
__attribute__((noinline)) static void literal(float *restrict b0, const int64_t *restrict I, float a, float b, int64_t lo, int64_t hi) {
  (void)I;
  BODY(LITERAL)
}
__attribute__((noinline)) static void loop(float *restrict A, const int64_t *restrict I, float a, float b, int64_t lo, int64_t hi) {
  (void)I;
  const int64_t m = 2050, n = 2048;
  for (int64_t k = lo; k < hi; k++) for (int64_t h = 0; h < 2; h++) {
    const int64_t i = 1 + 2 * k + h, j0 = 1 + h;
    for (int64_t j = j0; j < n + 1; j += 2)
      A[i * m + j] = a * A[i * m + j] + b * (A[(i - 1) * m + j] + A[(i + 1) * m + j] + A[i * m + j - 1] + A[i * m + j + 1]);
  }
}

typedef void (*sweep)(float *restrict, const int64_t *restrict, float, float, int64_t, int64_t);

int main(int argc, char **argv) {
  (void)argv;
  const int64_t m = 2050;
  float *g = aligned_alloc(64, m * m * sizeof(float));
  int64_t *ints = malloc(sizeof RED);   /* read at run time: the compiler cannot fold them */
  for (int k = 0; k < 18; k++) ints[k] = RED[k] * (argc > 0 ? 1 : 2);
  const sweep ways[3] = {generated, literal, loop};
  const char *names[3] = {"generated", "literal", "loop"};
  float *out[3];
  for (int w = 0; w < 3; w++) {
    for (int64_t i = 0; i < m * m; i++) g[i] = (float)(i % 97) / 97.0f;
    double best = 1e9;
    for (int r = 0; r < 7; r++) {
      const double t0 = now();
      for (int s = 0; s < 20; s++) ways[w](g, ints, -0.5f, 0.375f, 0, 1024);
      const double t = (now() - t0) / 20;
      if (t < best) best = t;
    }
    out[w] = malloc(m * m * sizeof(float));
    for (int64_t i = 0; i < m * m; i++) out[w][i] = g[i];
    printf("%-10s %.3f ms a sweep\n", names[w], best * 1e3);
  }
  int same = 1;
  for (int64_t i = 0; i < m * m; i++) same &= out[0][i] == out[1][i] && out[0][i] == out[2][i];
  printf("same results: %s\n", same ? "yes" : "NO");
  return 0;
}
