// N-body's float32 force row (one target against n sources, three sums) with the summation
// forms issue 21's float-lanes variant was chosen from: the rules' double lanes (A), float lanes
// widened once a block (B), float lanes over the whole row (C), a float omp simd reduction (D),
// blocks of 32 widened every 256 or 1024 elements (E: KernelVariant.floatSums is E 32/256).
// clang -O3 -march=native -fno-math-errno -ffp-contract=off -fopenmp-simd -std=gnu11 float_sums.c -lm && ./a.out 4096 2
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
typedef double tk_lanes_f64 __attribute__((vector_size(64)));
typedef float tk_lanes_f32 __attribute__((vector_size(32)));
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define BODY \
          const int64_t i1 = b_ + l_; \
          const float v2 = x[i1] - xi; const float v5 = F0 * m[i1]; \
          const float v8 = y[i1] - yi; const float v9 = v8 * v8; \
          const float v12 = z[i1] - zi; const float v13 = v12 * v12; \
          const float v16 = (v9 + v13) + v2 * v2; const float v17 = v16 + F0; \
          const float v18 = sqrtf(v17); const float v19 = v17 * v18; const float v20 = v5 / v19; \
          t0_[l_] = v2 * v20; t1_[l_] = v12 * v20; t2_[l_] = v8 * v20;
__attribute__((noinline)) void rowA(int64_t n, const float*restrict x,const float*restrict y,const float*restrict z,const float*restrict m, float F0, double*out){
  for (int64_t i0=0;i0<n;i0++){ float xi=x[i0],yi=y[i0],zi=z[i0];
    tk_lanes_f64 L0_={0},L1_={0},L2_={0};
    for (int64_t b_=0;b_<n;b_+=32){ float t0_[32],t1_[32],t2_[32];
      #pragma omp simd
      for (int64_t l_=0;l_<32;l_++){ BODY }
      for (int q_=0;q_<32;q_+=8){tk_lanes_f32 v_;memcpy(&v_,t0_+q_,32);L0_=L0_+__builtin_convertvector(v_,tk_lanes_f64);}
      for (int q_=0;q_<32;q_+=8){tk_lanes_f32 v_;memcpy(&v_,t1_+q_,32);L1_=L1_+__builtin_convertvector(v_,tk_lanes_f64);}
      for (int q_=0;q_<32;q_+=8){tk_lanes_f32 v_;memcpy(&v_,t2_+q_,32);L2_=L2_+__builtin_convertvector(v_,tk_lanes_f64);}
    }
    double s=0; for(int l=0;l<8;l++) s+=L0_[l]+L1_[l]+L2_[l]; out[i0]=s; }
}
// float lanes within a block of W, widened once a block
#define ROWB(NAME,W) __attribute__((noinline)) void NAME(int64_t n, const float*restrict x,const float*restrict y,const float*restrict z,const float*restrict m, float F0, double*out){ \
  for (int64_t i0=0;i0<n;i0++){ float xi=x[i0],yi=y[i0],zi=z[i0]; \
    tk_lanes_f64 L0_={0},L1_={0},L2_={0}; \
    for (int64_t b_=0;b_<n;b_+=W){ float t0_[W],t1_[W],t2_[W]; \
      _Pragma("omp simd") \
      for (int64_t l_=0;l_<W;l_++){ BODY } \
      tk_lanes_f32 F0_={0},F1_={0},F2_={0}; \
      for (int q_=0;q_<W;q_+=8){tk_lanes_f32 v_;memcpy(&v_,t0_+q_,32);F0_+=v_;memcpy(&v_,t1_+q_,32);F1_+=v_;memcpy(&v_,t2_+q_,32);F2_+=v_;} \
      L0_+=__builtin_convertvector(F0_,tk_lanes_f64);L1_+=__builtin_convertvector(F1_,tk_lanes_f64);L2_+=__builtin_convertvector(F2_,tk_lanes_f64); \
    } \
    double s=0; for(int l=0;l<8;l++) s+=L0_[l]+L1_[l]+L2_[l]; out[i0]=s; } }
ROWB(rowB32,32)
ROWB(rowB64,64)
ROWB(rowB256,256)

#define ROWE(NAME,W,FL) __attribute__((noinline)) void NAME(int64_t n, const float*restrict x,const float*restrict y,const float*restrict z,const float*restrict m, float F0, double*out){ \
  for (int64_t i0=0;i0<n;i0++){ float xi=x[i0],yi=y[i0],zi=z[i0]; \
    tk_lanes_f64 L0_={0},L1_={0},L2_={0}; tk_lanes_f32 F0_={0},F1_={0},F2_={0}; \
    for (int64_t b_=0;b_<n;b_+=W){ float t0_[W],t1_[W],t2_[W]; \
      _Pragma("omp simd") \
      for (int64_t l_=0;l_<W;l_++){ BODY } \
      for (int q_=0;q_<W;q_+=8){tk_lanes_f32 v_;memcpy(&v_,t0_+q_,32);F0_+=v_;memcpy(&v_,t1_+q_,32);F1_+=v_;memcpy(&v_,t2_+q_,32);F2_+=v_;} \
      if (((b_ + W) & (FL - 1)) == 0) { L0_+=__builtin_convertvector(F0_,tk_lanes_f64);L1_+=__builtin_convertvector(F1_,tk_lanes_f64);L2_+=__builtin_convertvector(F2_,tk_lanes_f64); F0_=(tk_lanes_f32){0};F1_=F0_;F2_=F0_;} \
    } \
    L0_+=__builtin_convertvector(F0_,tk_lanes_f64);L1_+=__builtin_convertvector(F1_,tk_lanes_f64);L2_+=__builtin_convertvector(F2_,tk_lanes_f64); \
    double s=0; for(int l=0;l<8;l++) s+=L0_[l]+L1_[l]+L2_[l]; out[i0]=s; } }
ROWE(rowE256,32,256)
ROWE(rowE1024,32,1024)
ROWE(rowE64_256,64,256)
// float lanes over the whole row
__attribute__((noinline)) void rowC(int64_t n, const float*restrict x,const float*restrict y,const float*restrict z,const float*restrict m, float F0, double*out){
  for (int64_t i0=0;i0<n;i0++){ float xi=x[i0],yi=y[i0],zi=z[i0];
    tk_lanes_f32 F0_={0},F1_={0},F2_={0};
    for (int64_t b_=0;b_<n;b_+=32){ float t0_[32],t1_[32],t2_[32];
      #pragma omp simd
      for (int64_t l_=0;l_<32;l_++){ BODY }
      for (int q_=0;q_<32;q_+=8){tk_lanes_f32 v_;memcpy(&v_,t0_+q_,32);F0_+=v_;memcpy(&v_,t1_+q_,32);F1_+=v_;memcpy(&v_,t2_+q_,32);F2_+=v_;}
    }
    double s=0; for(int l=0;l<8;l++) s+=F0_[l]+F1_[l]+F2_[l]; out[i0]=s; }
}
// omp simd reduction in float (what Numba-like code does)
__attribute__((noinline)) void rowD(int64_t n, const float*restrict x,const float*restrict y,const float*restrict z,const float*restrict m, float F0, double*out){
  for (int64_t i0=0;i0<n;i0++){ float xi=x[i0],yi=y[i0],zi=z[i0]; float a0=0,a1=0,a2=0;
    #pragma omp simd reduction(+:a0,a1,a2)
    for (int64_t i1=0;i1<n;i1++){ const float v2 = x[i1] - xi; const float v5 = F0 * m[i1];
          const float v8 = y[i1] - yi; const float v12 = z[i1] - zi;
          const float v17 = (v8*v8 + v12*v12) + v2 * v2 + F0;
          const float v20 = v5 / (v17 * sqrtf(v17)); a0+=v2*v20; a1+=v12*v20; a2+=v8*v20; }
    out[i0]=(double)a0+a1+a2; }
}
int main(int argc,char**argv){ int64_t n=argc>1?atoll(argv[1]):4096; int reps=argc>2?atoi(argv[2]):3;
  float*x=malloc(n*4),*y=malloc(n*4),*z=malloc(n*4),*m=malloc(n*4); double*o=malloc(n*8);
  srand(1); for(int64_t i=0;i<n;i++){x[i]=rand()/(float)RAND_MAX;y[i]=rand()/(float)RAND_MAX;z[i]=rand()/(float)RAND_MAX;m[i]=1;}
  void (*f[])(int64_t,const float*,const float*,const float*,const float*,float,double*)={rowA,rowB32,rowB64,rowB256,rowC,rowD,rowE256,rowE1024,rowE64_256};
  const char*nm[]={"A double lanes","B float/32","B float/64","B float/256","C float row","D omp simd float","E 32 flush256","E 32 flush1024","E 64 flush256"};
  for(int r=0;r<reps;r++) for(int k=0;k<9;k++){ double t=now(); f[k](n,x,y,z,m,0.01f,o); t=now()-t; printf("%-18s %.3f ns/int  (%.6g)\n",nm[k],t/(double)(n*n)*1e9,o[7]); }
}
