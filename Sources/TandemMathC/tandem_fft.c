// The radix-2 passes of `fft` (Sources/Tandem/FFTPlan.swift) over several lines at once, in C so
// that each pass's loop runs on the CPU's widest vectors: a Swift build for baseline x86-64 ran
// the butterflies two doubles at a time (SSE2), and the first passes of a short line (halves of
// 1, 2, 4 points) one complex value at a time. Where the loader can choose (ifunc, x86-64
// Linux), clones built for AVX-512 and AVX2 run on CPUs that have them and the baseline one
// elsewhere; every clone does the same operations in the same order (no contraction into fused
// multiply-adds, no reassociation), so the results are the same bits on every CPU and equal to
// the one-line Swift loop's.
#include "TandemMathC.h"

#pragma STDC FP_CONTRACT OFF

#if defined(__x86_64__) && defined(__linux__) && defined(__clang__)
#define TK_FFT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TK_FFT_CLONES
#endif

TK_FFT_CLONES void tandem_fft_pow2_lines(double *re, double *im, long n, long width,
                                         const double *stage_re, const double *stage_im,
                                         const long *swaps, long swap_count) {
  // The bit-reversal permutation: rows of `width` values swapped (one line: single values,
  // without a loop over the lines a swap).
  if (width == 1) {
    for (long t = 0; t < swap_count; t += 2) {
      const long i = swaps[t], j = swaps[t + 1];
      const double xr = re[i], xi = im[i];
      re[i] = re[j]; im[i] = im[j];
      re[j] = xr; im[j] = xi;
    }
  } else {
    for (long t = 0; t < swap_count; t += 2) {
      double *restrict ar = re + swaps[t] * width, *restrict br = re + swaps[t + 1] * width;
      double *restrict ai = im + swaps[t] * width, *restrict bi = im + swaps[t + 1] * width;
      for (long q = 0; q < width; q++) {
        const double xr = ar[q], xi = ai[q];
        ar[q] = br[q]; ai[q] = bi[q];
        br[q] = xr; bi[q] = xi;
      }
    }
  }
  for (long size = 2; size <= n; size <<= 1) {
    const long half = size / 2;
    const double *wr = stage_re + (half - 1), *wi = stage_im + (half - 1);
    for (long start = 0; start < n; start += size) {
      if (width == 1) {
        // One line: the butterflies of a pass side by side.
        double *restrict ar = re + start, *restrict ai = im + start;
        double *restrict br = ar + half, *restrict bi = ai + half;
        for (long k = 0; k < half; k++) {
          const double xr = br[k] * wr[k] - bi[k] * wi[k], xi = br[k] * wi[k] + bi[k] * wr[k];
          br[k] = ar[k] - xr; bi[k] = ai[k] - xi;
          ar[k] = ar[k] + xr; ai[k] = ai[k] + xi;
        }
        continue;
      }
      for (long k = 0; k < half; k++) {
        // Point k of every line with point k + half, one twiddle for all of them.
        const double w_r = wr[k], w_i = wi[k];
        double *restrict ar = re + (start + k) * width, *restrict ai = im + (start + k) * width;
        double *restrict br = ar + half * width, *restrict bi = ai + half * width;
        for (long q = 0; q < width; q++) {
          const double xr = br[q] * w_r - bi[q] * w_i, xi = br[q] * w_i + bi[q] * w_r;
          br[q] = ar[q] - xr; bi[q] = ai[q] - xi;
          ar[q] = ar[q] + xr; ai[q] = ai[q] + xi;
        }
      }
    }
  }
}

// The lines' points into the interleaved scratch and back: a strided axis's group reads rows of
// neighbouring lines (contiguous on both sides), the last axis's group reads whole lines (a
// transpose, read in order); the generic index arithmetic of one Swift loop for both vectorised
// neither, and took as long as the butterflies.
TK_FFT_CLONES void tandem_fft_gather(const double *pr, const double *pi, double *xr, double *xi,
                                     long points, long width, long point_stride, long line_stride,
                                     double sign) {
  if (line_stride == 1) {
    for (long j = 0; j < points; j++) {
      const double *restrict sr = pr + j * point_stride, *restrict si = pi + j * point_stride;
      double *restrict dr = xr + j * width, *restrict di = xi + j * width;
      for (long q = 0; q < width; q++) { dr[q] = sr[q]; di[q] = sign * si[q]; }
    }
    return;
  }
  for (long q = 0; q < width; q++) {
    const double *restrict sr = pr + q * line_stride, *restrict si = pi + q * line_stride;
    for (long j = 0; j < points; j++) {
      xr[j * width + q] = sr[j * point_stride];
      xi[j * width + q] = sign * si[j * point_stride];
    }
  }
}

TK_FFT_CLONES void tandem_fft_scatter(double *pr, double *pi, const double *xr, const double *xi,
                                      long points, long width, long point_stride, long line_stride,
                                      double scale, double imaginary_scale) {
  if (line_stride == 1) {
    for (long j = 0; j < points; j++) {
      double *restrict dr = pr + j * point_stride, *restrict di = pi + j * point_stride;
      const double *restrict sr = xr + j * width, *restrict si = xi + j * width;
      for (long q = 0; q < width; q++) { dr[q] = sr[q] * scale; di[q] = si[q] * imaginary_scale; }
    }
    return;
  }
  for (long q = 0; q < width; q++) {
    double *restrict dr = pr + q * line_stride, *restrict di = pi + q * line_stride;
    for (long j = 0; j < points; j++) {
      dr[j * point_stride] = xr[j * width + q] * scale;
      di[j * point_stride] = xi[j * width + q] * imaginary_scale;
    }
  }
}
