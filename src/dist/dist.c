/* The process group of data-parallel training (include/clgan/dist.h): the one file that
 * includes mpi.h. Built without MPI (CLGAN_WITH_MPI undefined) every group is one process and
 * the collectives are no-ops. Host buffers only: the trainer stages a network's gradient arena
 * through host memory, one fused buffer per network (issue 14). */
#include "clgan/dist.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef CLGAN_WITH_MPI
#include <mpi.h>
#endif

struct clgan_dist {
  int rank, size, local_rank, local_size;
  int mpi; /* this process called MPI_Init */
};

int clgan_dist_built(void) {
#ifdef CLGAN_WITH_MPI
  return 1;
#else
  return 0;
#endif
}

/* Open MPI, MPICH's Hydra and PMIx launchers each export a world size. */
int clgan_dist_launched(void) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE",
                                     "MPI_LOCALNRANKS"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
    if (getenv(vars[i])) return 1;
  return 0;
}

#ifdef CLGAN_WITH_MPI
static clgan_status mpi_status(int rc, const char *call) {
  if (rc == MPI_SUCCESS) return CLGAN_OK;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) len = 0;
  text[len] = '\0';
  clgan_error("%s failed: %s (MPI error %d)", call, len ? text : "unknown", rc);
  return CLGAN_COMM_ERROR;
}
#endif

clgan_status clgan_dist_init(clgan_dist **out) {
  *out = NULL;
  clgan_dist *d = calloc(1, sizeof *d);
  if (!d) return CLGAN_HOST_OUT_OF_MEMORY;
  d->size = d->local_size = 1;
  if (!clgan_dist_launched()) {
    *out = d;
    return CLGAN_OK;
  }
#ifdef CLGAN_WITH_MPI
  clgan_status st;
  MPI_Comm node = MPI_COMM_NULL;
  /* The default handler aborts the job on an error; a status is what clgan reports. */
  if ((st = mpi_status(MPI_Init(NULL, NULL), "MPI_Init"))) goto fail;
  d->mpi = 1;
  if ((st = mpi_status(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN),
                       "MPI_Comm_set_errhandler")) ||
      (st = mpi_status(MPI_Comm_rank(MPI_COMM_WORLD, &d->rank), "MPI_Comm_rank")) ||
      (st = mpi_status(MPI_Comm_size(MPI_COMM_WORLD, &d->size), "MPI_Comm_size")) ||
      (st = mpi_status(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, d->rank,
                                           MPI_INFO_NULL, &node), "MPI_Comm_split_type")) ||
      (st = mpi_status(MPI_Comm_rank(node, &d->local_rank), "MPI_Comm_rank")) ||
      (st = mpi_status(MPI_Comm_size(node, &d->local_size), "MPI_Comm_size")))
    goto fail;
  MPI_Comm_free(&node);
  *out = d;
  return CLGAN_OK;
fail:
  if (node != MPI_COMM_NULL) MPI_Comm_free(&node);
  clgan_dist_finalize(d);
  return st;
#else
  clgan_error("this process was started by an MPI launcher, but clgan was built without MPI: "
              "every process would train alone into the same folder. Rebuild with MPI "
              "(libopenmpi-dev; CMake option CLGAN_MPI) or run clgan without mpirun");
  free(d);
  return CLGAN_INVALID_ARGUMENT;
#endif
}

void clgan_dist_finalize(clgan_dist *d) {
  if (!d) return;
#ifdef CLGAN_WITH_MPI
  if (d->mpi) MPI_Finalize();
#endif
  free(d);
}

int clgan_dist_rank(const clgan_dist *d) { return d ? d->rank : 0; }
int clgan_dist_size(const clgan_dist *d) { return d ? d->size : 1; }
int clgan_dist_local_rank(const clgan_dist *d) { return d ? d->local_rank : 0; }
int clgan_dist_local_size(const clgan_dist *d) { return d ? d->local_size : 1; }

clgan_status clgan_dist_allreduce_sum(clgan_dist *d, float *buf, size_t n) {
  if (!d || d->size == 1 || n == 0) return CLGAN_OK;
#ifdef CLGAN_WITH_MPI
  /* MPI counts are ints: a larger arena goes in pieces. */
  for (size_t first = 0; first < n; first += INT_MAX / 2) {
    size_t part = n - first < (size_t)INT_MAX / 2 ? n - first : (size_t)INT_MAX / 2;
    clgan_status st = mpi_status(MPI_Allreduce(MPI_IN_PLACE, buf + first, (int)part, MPI_FLOAT,
                                               MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
    if (st != CLGAN_OK) return st;
  }
  return CLGAN_OK;
#else
  (void)buf;
  return CLGAN_INVALID_ARGUMENT; /* a group of more than one needs MPI */
#endif
}

clgan_status clgan_dist_barrier(clgan_dist *d) {
  if (!d || d->size == 1) return CLGAN_OK;
#ifdef CLGAN_WITH_MPI
  return mpi_status(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
#else
  return CLGAN_INVALID_ARGUMENT;
#endif
}

void clgan_dist_abort(clgan_dist *d, int code, const char *fmt, ...) {
  char text[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  fprintf(stderr, "clgan: rank %d of %d: %s\n", clgan_dist_rank(d), clgan_dist_size(d), text);
  fflush(stderr);
#ifdef CLGAN_WITH_MPI
  if (d && d->mpi && d->size > 1) MPI_Abort(MPI_COMM_WORLD, code);
#else
  (void)code;
#endif
}
