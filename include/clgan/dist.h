/* Data-parallel training's process group (issue 14; DESIGN.md "Beyond one machine"): MPI
 * behind a small clgan API, so that nothing but src/dist/ includes mpi.h and clgan builds
 * without MPI (every call is then the one-process case). A NULL group is one process alone. */
#ifndef CLGAN_DIST_H
#define CLGAN_DIST_H

#include <stddef.h>

#include "clgan/status.h"

typedef struct clgan_dist clgan_dist;

/* 1 when clgan was built with MPI (CLGAN_WITH_MPI). */
int clgan_dist_built(void);
/* 1 when an MPI launcher (mpirun, mpiexec, srun with PMI) started this process: its
 * environment names a world size. */
int clgan_dist_launched(void);

/* Joins the group: MPI_Init when the process was launched by an MPI launcher, else a group of
 * one without MPI (a plain `clgan train` never starts MPI). Launched by one but built without
 * MPI is CLGAN_INVALID_ARGUMENT, reported: every process would train alone into one folder. */
clgan_status clgan_dist_init(clgan_dist **out);
/* Leaves the group (MPI_Finalize). Accepts NULL. */
void clgan_dist_finalize(clgan_dist *d);

int clgan_dist_rank(const clgan_dist *d);       /* 0 for NULL */
int clgan_dist_size(const clgan_dist *d);       /* 1 for NULL */
int clgan_dist_local_rank(const clgan_dist *d); /* rank among the processes of this node */
int clgan_dist_local_size(const clgan_dist *d);

/* buf (n floats, host memory) becomes the element-wise sum over the ranks, the same on every
 * rank (MPI_Allreduce in place). A collective: every rank calls it with the same n. */
clgan_status clgan_dist_allreduce_sum(clgan_dist *d, float *buf, size_t n);
clgan_status clgan_dist_barrier(clgan_dist *d);
/* Ends every rank of the job (MPI_Abort) after printing "clgan: rank R of N: <text>" to
 * stderr; alone, it only prints. Returns (alone) so that the caller exits with code. */
void clgan_dist_abort(clgan_dist *d, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
