#ifndef TANDEM_TEST_SHIMS_H
#define TANDEM_TEST_SHIMS_H
/// Calls to malloc in this process so far (the test binary interposes malloc to count them).
unsigned long tandem_test_malloc_count(void);
#endif
