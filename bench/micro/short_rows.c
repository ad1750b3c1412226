// Short-row sums in Tandem's eight-lane order (Kernel.lanedReduction): y[i] = sum_j x[i, j] * w[j]
// over rows of `length` doubles, as the laned loop adds them with its tail (the last length % 8
// elements) element by element into lanes in memory ("element", before), as one more vector
// block padded with the identity and masked reads ("padded", CRenderer's `paddedTail`), padded
// with clamped in-row reads ("clamped"), and blocked over 32 outputs ("blocked", the column
// form). All four give the same bits. Run: clang -O3 -march=native -fno-math-errno
// -ffp-contract=off -fopenmp-simd short_rows.c -o short_rows && ./short_rows 20000 10
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
typedef double tk_lanes_f64 __attribute__((vector_size(64)));
__attribute__((noinline)) void element(const double *restrict b0, const double *restrict b1, double *restrict b2, int64_t lo, int64_t hi, int64_t I1, int64_t I3) {
  for (int64_t i0 = lo; i0 < hi; i0++) {
    double acc0 = 0.0;
    {
      tk_lanes_f64 L0_ = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
      const int64_t s_ = 0, e_ = I1, w_ = s_ + ((e_ - s_) & ~(int64_t)31), m_ = s_ + ((e_ - s_) & ~(int64_t)7);
      for (int64_t b_ = s_; b_ < w_; b_ += 32) {
        double t0_[32];
        #pragma omp simd
        for (int64_t l_ = 0; l_ < 32; l_++) { const int64_t i1 = b_ + l_; t0_[l_] = b0[i0 * I3 + i1] * b1[i1]; }
        for (int q_ = 0; q_ < 32; q_ += 8) { tk_lanes_f64 v_; __builtin_memcpy(&v_, t0_ + q_, sizeof v_); L0_ = L0_ + v_; }
      }
      for (int64_t b_ = w_; b_ < m_; b_ += 8) {
        double t0_[8];
        #pragma omp simd
        for (int64_t l_ = 0; l_ < 8; l_++) { const int64_t i1 = b_ + l_; t0_[l_] = b0[i0 * I3 + i1] * b1[i1]; }
        for (int q_ = 0; q_ < 8; q_ += 8) { tk_lanes_f64 v_; __builtin_memcpy(&v_, t0_ + q_, sizeof v_); L0_ = L0_ + v_; }
      }
      double l0_[8]; for (int l_ = 0; l_ < 8; l_++) { l0_[l_] = (double)L0_[l_]; }
      for (int64_t i1 = m_; i1 < e_; i1++) { const int64_t l_ = (i1 - m_) & 7; l0_[l_] += b0[i0 * I3 + i1] * b1[i1]; }
      acc0 += (((l0_[0] + l0_[1]) + (l0_[2] + l0_[3])) + ((l0_[4] + l0_[5]) + (l0_[6] + l0_[7])));
    }
    b2[i0] = acc0;
  }
}
__attribute__((noinline)) void padded(const double *restrict b0, const double *restrict b1, double *restrict b2, int64_t lo, int64_t hi, int64_t I1, int64_t I3) {
  for (int64_t i0 = lo; i0 < hi; i0++) {
    double acc0 = 0.0;
    {
      tk_lanes_f64 L0_ = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
      const int64_t s_ = 0, e_ = I1, w_ = s_ + ((e_ - s_) & ~(int64_t)31), m_ = s_ + ((e_ - s_) & ~(int64_t)7);
      for (int64_t b_ = s_; b_ < w_; b_ += 32) {
        double t0_[32];
        #pragma omp simd
        for (int64_t l_ = 0; l_ < 32; l_++) { const int64_t i1 = b_ + l_; t0_[l_] = b0[i0 * I3 + i1] * b1[i1]; }
        for (int q_ = 0; q_ < 32; q_ += 8) { tk_lanes_f64 v_; __builtin_memcpy(&v_, t0_ + q_, sizeof v_); L0_ = L0_ + v_; }
      }
      for (int64_t b_ = w_; b_ < m_; b_ += 8) {
        double t0_[8];
        #pragma omp simd
        for (int64_t l_ = 0; l_ < 8; l_++) { const int64_t i1 = b_ + l_; t0_[l_] = b0[i0 * I3 + i1] * b1[i1]; }
        for (int q_ = 0; q_ < 8; q_ += 8) { tk_lanes_f64 v_; __builtin_memcpy(&v_, t0_ + q_, sizeof v_); L0_ = L0_ + v_; }
      }
      if (m_ < e_) {
        double t0_[8]; const int64_t t_ = e_ - m_;
        #pragma omp simd
        for (int64_t l_ = 0; l_ < 8; l_++) { const int64_t i1 = m_ + l_; t0_[l_] = l_ < t_ ? b0[i0 * I3 + i1] * b1[i1] : 0.0; }
        { tk_lanes_f64 v_; __builtin_memcpy(&v_, t0_, sizeof v_); L0_ = L0_ + v_; }
      }
      double l0_[8]; for (int l_ = 0; l_ < 8; l_++) { l0_[l_] = (double)L0_[l_]; }
      acc0 += (((l0_[0] + l0_[1]) + (l0_[2] + l0_[3])) + ((l0_[4] + l0_[5]) + (l0_[6] + l0_[7])));
    }
    b2[i0] = acc0;
  }
}
__attribute__((noinline)) void clamped(const double *restrict b0, const double *restrict b1, double *restrict b2, int64_t lo, int64_t hi, int64_t I1, int64_t I3) {
  for (int64_t i0 = lo; i0 < hi; i0++) {
    double acc0 = 0.0;
    {
      tk_lanes_f64 L0_ = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
      const int64_t s_ = 0, e_ = I1, w_ = s_ + ((e_ - s_) & ~(int64_t)31), m_ = s_ + ((e_ - s_) & ~(int64_t)7);
      for (int64_t b_ = s_; b_ < w_; b_ += 32) {
        double t0_[32];
        #pragma omp simd
        for (int64_t l_ = 0; l_ < 32; l_++) { const int64_t i1 = b_ + l_; t0_[l_] = b0[i0 * I3 + i1] * b1[i1]; }
        for (int q_ = 0; q_ < 32; q_ += 8) { tk_lanes_f64 v_; __builtin_memcpy(&v_, t0_ + q_, sizeof v_); L0_ = L0_ + v_; }
      }
      for (int64_t b_ = w_; b_ < m_; b_ += 8) {
        double t0_[8];
        #pragma omp simd
        for (int64_t l_ = 0; l_ < 8; l_++) { const int64_t i1 = b_ + l_; t0_[l_] = b0[i0 * I3 + i1] * b1[i1]; }
        for (int q_ = 0; q_ < 8; q_ += 8) { tk_lanes_f64 v_; __builtin_memcpy(&v_, t0_ + q_, sizeof v_); L0_ = L0_ + v_; }
      }
      if (m_ < e_) {
        double t0_[8]; const int64_t t_ = e_ - m_;
        #pragma omp simd
        for (int64_t l_ = 0; l_ < 8; l_++) { const int64_t i1 = m_ + (l_ < t_ ? l_ : t_ - 1); const double v0 = b0[i0 * I3 + i1]; const double v1 = b1[i1]; const double v2 = v0 * v1; t0_[l_] = l_ < t_ ? v2 : 0.0; }
        { tk_lanes_f64 v_; __builtin_memcpy(&v_, t0_, sizeof v_); L0_ = L0_ + v_; }
      }
      double l0_[8]; for (int l_ = 0; l_ < 8; l_++) { l0_[l_] = (double)L0_[l_]; }
      acc0 += (((l0_[0] + l0_[1]) + (l0_[2] + l0_[3])) + ((l0_[4] + l0_[5]) + (l0_[6] + l0_[7])));
    }
    b2[i0] = acc0;
  }
}
// blocked outputs: cb outputs at a time, reduce loop outside a vector loop over outputs
#define CB 32
__attribute__((noinline)) void blocked(const double *restrict b0, const double *restrict b1, double *restrict b2, int64_t lo, int64_t hi, int64_t I1, int64_t I3) {
  for (int64_t c0_ = lo; c0_ < hi; c0_ += CB) {
    const int64_t cn_ = hi - c0_ < CB ? hi - c0_ : CB;
    double A0_[8][CB];
    for (int l_ = 0; l_ < 8; l_++) for (int64_t c_ = 0; c_ < cn_; c_++) A0_[l_][c_] = 0.0;
    int64_t r0_ = 0;
    for (; r0_ + 8 <= I1; r0_ += 8) {
      #pragma omp simd
      for (int64_t c_ = 0; c_ < cn_; c_++) {
        const int64_t i0 = c0_ + c_;
        for (int l = 0; l < 8; l++) A0_[l][c_] += b0[i0 * I3 + r0_ + l] * b1[r0_ + l];
      }
    }
    for (; r0_ < I1; r0_++) {
      const int64_t l_ = r0_ & 7;
      #pragma omp simd
      for (int64_t c_ = 0; c_ < cn_; c_++) { const int64_t i0 = c0_ + c_; A0_[l_][c_] += b0[i0 * I3 + r0_] * b1[r0_]; }
    }
    #pragma omp simd
    for (int64_t c_ = 0; c_ < cn_; c_++) {
      double acc0 = 0.0;
      acc0 += (((A0_[0][c_] + A0_[1][c_]) + (A0_[2][c_] + A0_[3][c_])) + ((A0_[4][c_] + A0_[5][c_]) + (A0_[6][c_] + A0_[7][c_])));
      b2[c0_ + c_] = acc0;
    }
  }
}
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
typedef void (*Kernel)(const double *restrict, const double *restrict, double *restrict, int64_t, int64_t, int64_t, int64_t);
int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s rows length\n", argv[0]); return 1; }
  int64_t n = atol(argv[1]), k = atol(argv[2]);
  double *x = malloc(n * k * 8), *w = malloc(k * 8), *y[4];
  for (int64_t i = 0; i < n * k; i++) x[i] = (double)rand() / RAND_MAX - 0.5;
  for (int64_t i = 0; i < k; i++) w[i] = (double)rand() / RAND_MAX;
  Kernel ks[4] = {element, padded, clamped, blocked};
  const char *names[4] = {"element", "padded", "clamped", "blocked"};
  double best[4] = {1e9, 1e9, 1e9, 1e9};
  for (int v = 0; v < 4; v++) y[v] = malloc(n * 8);
  for (int r = 0; r < 50; r++)
    for (int v = 0; v < 4; v++) { double t = now(); ks[v](x, w, y[v], 0, n, k, k); t = now() - t; if (t < best[v]) best[v] = t; }
  printf("%ld rows of %ld:", n, k);
  for (int v = 0; v < 4; v++) {
    int same = 1; for (int64_t i = 0; i < n; i++) if (y[v][i] != y[0][i]) { same = 0; break; }
    printf(" %s %.1f us%s", names[v], best[v] * 1e6, same ? "" : " (DIFFERENT BITS)");
  }
  printf("\n");
  return 0;
}
