// Tandem's fmod (CRenderer+Preamble.swift, fmodSource) against glibc's, f64 and f32, 4096 elements x 2000,
// independent elements. Build: clang -O3 -march=native -fno-math-errno -ffp-contract=off fmod.c -lm
// (the kernels' flags). The fallback sits behind a call never inlined, as in the kernels.
#include <math.h>
#include <stdio.h>
#include <time.h>
#define TK_INLINE static inline __attribute__((always_inline))
__attribute__((noinline)) static double tk_fmod_call(double x, double y) { return fmod(x, y); }
__attribute__((noinline)) static float tk_fmodf_call(float x, float y) { return fmodf(x, y); }
TK_INLINE double tk_fmod(double x, double y) {
  const double q = x / y;
  if (!(fabs(q) < 0x1p52) || fabs(x) == (double)INFINITY || fabs(y) == (double)INFINITY) return tk_fmod_call(x, y);
  double r = fma(-trunc(q), y, x);
  if (r != 0.0 && ((r < 0.0) != (x < 0.0))) r += copysign(fabs(y), x);
  return r == 0.0 ? copysign(0.0, x) : r;
}
TK_INLINE float tk_fmodf(float x, float y) {
  const float q = x / y;
  if (!(fabsf(q) < 0x1p23f) || fabsf(x) == (float)INFINITY || fabsf(y) == (float)INFINITY) return tk_fmodf_call(x, y);
  float r = fmaf(-truncf(q), y, x);
  if (r != 0.0f && ((r < 0.0f) != (x < 0.0f))) r += copysignf(fabsf(y), x);
  return r == 0.0f ? copysignf(0.0f, x) : r;
}
static double now(){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec+t.tv_nsec*1e-9;}
#define N 4096
int main(){ static double a[N], b[N]; static float f[N], g[N];
 for(int i=0;i<N;i++){a[i]=0.25+7000.0*(i%1000)/1000.; f[i]=a[i];}
 double t0=now(); for(int r=0;r<2000;r++) for(int i=0;i<N;i++) b[i]=fmod(a[i]+r,7.3);
 double t1=now(); for(int r=0;r<2000;r++) for(int i=0;i<N;i++) b[i]=tk_fmod(a[i]+r,7.3);
 double t2=now(); for(int r=0;r<2000;r++) for(int i=0;i<N;i++) g[i]=fmodf(f[i]+r,7.3f);
 double t3=now(); for(int r=0;r<2000;r++) for(int i=0;i<N;i++) g[i]=tk_fmodf(f[i]+r,7.3f);
 double t4=now();
 double n=2000.0*N; printf("fmod %.2f tk_fmod %.2f fmodf %.2f tk_fmodf %.2f ns\n",(t1-t0)/n*1e9,(t2-t1)/n*1e9,(t3-t2)/n*1e9,(t4-t3)/n*1e9); return b[3]>g[3]; }
