#include "TandemTestShims.h"
#include <stddef.h>
#include <stdatomic.h>

#if defined(__GLIBC__)
/* Count every malloc of the test process, forwarding to glibc's allocator (free stays glibc's). */
extern void *__libc_malloc(size_t size);
static _Atomic unsigned long tandem_mallocs;

void *malloc(size_t size) {
    atomic_fetch_add_explicit(&tandem_mallocs, 1, memory_order_relaxed);
    return __libc_malloc(size);
}
#endif

unsigned long tandem_test_malloc_count(void) {
#if defined(__GLIBC__)
    return atomic_load_explicit(&tandem_mallocs, memory_order_relaxed);
#else
    return 0;
#endif
}
