/* Shallow water (the reference's Lax-Wendroff step, n x n interior, reflecting walls) written by
 * hand in C, three ways, to measure what fusing the face computation into the update is worth:
 *   mode 0: walls; one pass computing the x and y faces (six stored arrays); one update pass
 *           (the Numba peer's plan)
 *   mode 1: walls; x faces; y faces; update (Tandem's plan before commit 94cab15)
 *   mode 2: walls; one pass recomputing the four faces of each cell from H, U, V and writing
 *           new H, U, V to fresh arrays (Tandem's plan since)
 * Build and run (2 threads, n = 2048, 50 steps, as the medium bench):
 *   clang -O3 -march=native -fno-math-errno bench/micro/shallow_water_plans.c -o /tmp/swp -lpthread -lm
 *   for m in 0 1 2; do /tmp/swp 2048 50 $m 2; done
 * dx = dy = 1, the reference defaults (one constant serves both directions).
 * Each prints its time and the reference outputs (h_sum 4253971.853, energy 644.0252207 at
 * n = 2048, steps = 50). Measured on the 2-core AMD EPYC VM (2026-11-22): mode 0 0.595 s,
 * mode 1 0.550 s, mode 2 0.319 s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <pthread.h>
#include <time.h>
typedef double T;
static int n, m; static T *H,*U,*V,*Hx,*Ux,*Vx,*Hy,*Uy,*Vy,*H2,*U2,*V2;
static const T dt=0.02, g=9.8; static T c1, gh, cx;
static pthread_barrier_t bar; static int mode, steps;
#define A(a,i,j) a[(size_t)(i)*m+(j)]
#define X(a,i,j) a[(size_t)(i)*n+(j)]
#define Y(a,i,j) a[(size_t)(i)*(n+1)+(j)]
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
static void walls(T*H,T*U,T*V){
  for(int i=0;i<m;i++){A(H,i,0)=A(H,i,1);A(U,i,0)=A(U,i,1);A(V,i,0)=-A(V,i,1);A(H,i,m-1)=A(H,i,m-2);A(U,i,m-1)=A(U,i,m-2);A(V,i,m-1)=-A(V,i,m-2);}
  for(int j=0;j<m;j++){A(H,0,j)=A(H,1,j);A(U,0,j)=-A(U,1,j);A(V,0,j)=A(V,1,j);A(H,m-1,j)=A(H,m-2,j);A(U,m-1,j)=-A(U,m-2,j);A(V,m-1,j)=A(V,m-2,j);}
}
static inline void xf(int i,int j,T*hx,T*ux,T*vx){ T h1=A(H,i+1,j+1),h0=A(H,i,j+1),u1=A(U,i+1,j+1),u0=A(U,i,j+1),v1=A(V,i+1,j+1),v0=A(V,i,j+1);
 *hx=(h1+h0)*0.5-c1*(u1-u0); *ux=(u1+u0)*0.5-c1*((u1*u1/h1+gh*(h1*h1))-(u0*u0/h0+gh*(h0*h0))); *vx=(v1+v0)*0.5-c1*((u1*v1/h1)-(u0*v0/h0));}
static inline void yf(int i,int j,T*hy,T*uy,T*vy){ T h1=A(H,i+1,j+1),h0=A(H,i+1,j),u1=A(U,i+1,j+1),u0=A(U,i+1,j),v1=A(V,i+1,j+1),v0=A(V,i+1,j);
 *hy=(h1+h0)*0.5-c1*(v1-v0); *uy=(u1+u0)*0.5-c1*((v1*u1/h1)-(v0*u0/h0)); *vy=(v1+v0)*0.5-c1*((v1*v1/h1+gh*(h1*h1))-(v0*v0/h0+gh*(h0*h0)));}
static inline void upd(int i,int j,T hx1,T ux1,T vx1,T hx0,T ux0,T vx0,T hy1,T uy1,T vy1,T hy0,T uy0,T vy0,T*h,T*u,T*v){
 *h=A(H,i,j)-cx*(ux1-ux0)-cx*(vy1-vy0);
 *u=A(U,i,j)-cx*((ux1*ux1/hx1+gh*(hx1*hx1))-(ux0*ux0/hx0+gh*(hx0*hx0)))-cx*((vy1*uy1/hy1)-(vy0*uy0/hy0));
 *v=A(V,i,j)-cx*((ux1*vx1/hx1)-(ux0*vx0/hx0))-cx*((vy1*vy1/hy1+gh*(hy1*hy1))-(vy0*vy0/hy0+gh*(hy0*hy0)));}
static void* work(void*arg){ int t=(int)(long)arg;
 for(int s=0;s<steps;s++){
  if(t==0) walls(H,U,V); pthread_barrier_wait(&bar);
  if(mode==0||mode==1){
   int lo=t*(n+1)/2, hi=(t+1)*(n+1)/2;
   for(int i=lo;i<hi;i++){
     #pragma clang loop vectorize(enable)
     for(int j=0;j<n;j++) xf(i,j,&X(Hx,i,j),&X(Ux,i,j),&X(Vx,i,j));
     if(mode==0 && i<n) {
     #pragma clang loop vectorize(enable)
       for(int j=0;j<=n;j++) yf(i,j,&Y(Hy,i,j),&Y(Uy,i,j),&Y(Vy,i,j));}
   }
   if(mode==1){ pthread_barrier_wait(&bar); lo=t*n/2; hi=(t+1)*n/2; for(int i=lo;i<hi;i++){
     #pragma clang loop vectorize(enable)
     for(int j=0;j<=n;j++) yf(i,j,&Y(Hy,i,j),&Y(Uy,i,j),&Y(Vy,i,j));}}
   pthread_barrier_wait(&bar);
   lo=1+t*n/2; hi=1+(t+1)*n/2;
   for(int i=lo;i<hi;i++){
     #pragma clang loop vectorize(enable)
     for(int j=1;j<=n;j++) upd(i,j,X(Hx,i,j-1),X(Ux,i,j-1),X(Vx,i,j-1),X(Hx,i-1,j-1),X(Ux,i-1,j-1),X(Vx,i-1,j-1),
        Y(Hy,i-1,j),Y(Uy,i-1,j),Y(Vy,i-1,j),Y(Hy,i-1,j-1),Y(Uy,i-1,j-1),Y(Vy,i-1,j-1),&A(H,i,j),&A(U,i,j),&A(V,i,j));}
   pthread_barrier_wait(&bar);
  } else { // fused recompute, out of place then copy-back via pointer swap of interiors
   int lo=1+t*n/2, hi=1+(t+1)*n/2;
   for(int i=lo;i<hi;i++){
     #pragma clang loop vectorize(enable)
     for(int j=1;j<=n;j++){ T hx1,ux1,vx1,hx0,ux0,vx0,hy1,uy1,vy1,hy0,uy0,vy0;
       xf(i,j-1,&hx1,&ux1,&vx1); xf(i-1,j-1,&hx0,&ux0,&vx0); yf(i-1,j,&hy1,&uy1,&vy1); yf(i-1,j-1,&hy0,&uy0,&vy0);
       upd(i,j,hx1,ux1,vx1,hx0,ux0,vx0,hy1,uy1,vy1,hy0,uy0,vy0,&A(H2,i,j),&A(U2,i,j),&A(V2,i,j));}}
   pthread_barrier_wait(&bar);
   if(t==0){T*x=H;H=H2;H2=x;x=U;U=U2;U2=x;x=V;V=V2;V2=x;}
   pthread_barrier_wait(&bar);
  }
 }
 return 0;}
int main(int argc,char**argv){ n=atoi(argv[1]); steps=atoi(argv[2]); mode=atoi(argv[3]); int nt=atoi(argv[4]); m=n+2;
 c1=dt/2; gh=g/2; cx=dt;
 size_t F=(size_t)m*m; H=malloc(F*8);U=calloc(F,8);V=calloc(F,8);H2=malloc(F*8);U2=calloc(F,8);V2=calloc(F,8);
 Hx=malloc((size_t)(n+1)*n*8);Ux=malloc((size_t)(n+1)*n*8);Vx=malloc((size_t)(n+1)*n*8);Hy=malloc((size_t)(n+1)*n*8);Uy=malloc((size_t)(n+1)*n*8);Vy=malloc((size_t)(n+1)*n*8);
 double sg=n/16.0; if(sg<1)sg=1;
 for(int i=0;i<m;i++)for(int j=0;j<m;j++){double a=i-n/4.0,b=j-n/4.0;A(H,i,j)=1+exp(-(a*a+b*b)/(sg*sg));}
 memcpy(H2,H,F*8);
 pthread_barrier_init(&bar,0,nt); pthread_t th[8]; double t0=now();
 for(int t=0;t<nt;t++)pthread_create(&th[t],0,work,(void*)(long)t); for(int t=0;t<nt;t++)pthread_join(th[t],0);
 double t1=now(); double hs=0,en=0; for(size_t k=0;k<F;k++){hs+=H[k];en+=U[k]*U[k]+V[k]*V[k];}
 printf("mode %d: %.3f s  h_sum %.10g energy %.10g\n",mode,t1-t0,hs,en);}
