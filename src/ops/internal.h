/* Private to src/ops/: argument checks shared by the op families and the work-group size of the
 * one-group reductions. Each check reports its failure once (clgan_error) and yields the status,
 * so an op can `if ((st = ...)) return st;` and stay silent itself. */
#ifndef CLGAN_OPS_INTERNAL_H
#define CLGAN_OPS_INTERNAL_H

#include <stddef.h>

#include "clgan/device.h"

/* A count that kernels index with int: 0 <= n <= INT_MAX. */
clgan_status ops_check_count(long long n, const char *op, const char *what);
/* buf is non-NULL and holds at least `bytes`. */
clgan_status ops_check_buf(const clgan_buffer *buf, size_t bytes, const char *op,
                           const char *what);
/* Work-group size of the single-group reductions: 256, halved to what the device allows. It is
 * a power of two (the local-memory tree needs one), and global = local keeps it one group. */
size_t ops_reduce_local(const clgan_device *dev);
/* clgan_kernel_get for cl/<file> built after the ops preamble (clgan_kernel_preamble,
 * src/ops/preamble.c): every ops kernel comes through here. */
clgan_status ops_kernel_get(clgan_device *dev, const char *file, const char *name,
                            clgan_kernel **kernel);
/* The launch of a CLGAN_EACH kernel over n elements: one work-item per CLGAN_VEC of them. */
clgan_range ops_vec_range(const clgan_device *dev, int n);

#endif
