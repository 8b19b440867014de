/* Streaming training data (issue 13): two host staging buffers, two device slots, one producer
 * thread. Batch k lives in slot k % 2. While the device computes batch k, the producer gathers
 * batch k + 1 into the other staging buffer (after that buffer's previous upload has finished);
 * clgan_stream_next then uploads it on the upload queue, once the kernels that read the slot's
 * previous batch have run, and orders the main queue after the upload. The host waits only when
 * the producer is behind; clgan_stream_wait_seconds says how long (bench/RESULTS.md).
 *
 * The staging buffers are plain host memory: a driver may stage them once more before the DMA
 * (pinned memory would save that copy on a discrete GPU; PoCL copies either way). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clgan/data.h"

typedef struct {
  int epoch, first; /* the batch the slot holds or is being filled with; epoch -1: none */
  int ready;        /* the producer has filled the staging buffer */
} slot_state;

struct clgan_stream {
  clgan_device *dev;
  clgan_stream_cfg cfg;
  size_t batch_bytes;
  uint8_t *staging[2];   /* (batch, image_bytes) */
  clgan_buffer slot[2];  /* device copies of the staging buffers */
  clgan_marker uploaded[2]; /* the slot's last upload, or NULL */
  clgan_marker freed[2];    /* main queue: the slot's last readers have run, or NULL */

  /* The producer's order of the epoch it last prepared. */
  int32_t *perm;
  uint8_t *flips;
  int perm_epoch;

  pthread_t thread;
  int started;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  slot_state state[2];
  int job;               /* slot the producer should fill, or -1 */
  int busy;              /* the producer is filling a slot */
  int stop;
  clgan_status error;    /* the producer's first failure */

  int current;           /* slot of the batch clgan_stream_next returned last */
  double wait_s;
  long batches;
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

clgan_status clgan_data_device_budget(const clgan_device *dev, unsigned long long *budget) {
  const clgan_device_info *info = clgan_device_get_info(dev);
  const char *env = getenv("CLGAN_DATA_DEVICE_BUDGET");
  if (env && *env) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(env, &end, 10);
    if (errno || *end || *env == '-' || *env == '+') {
      clgan_error("CLGAN_DATA_DEVICE_BUDGET='%s' is not a byte count (digits only)", env);
      return CLGAN_INVALID_ARGUMENT;
    }
    *budget = v;
    return CLGAN_OK;
  }
  unsigned long long half = info->global_mem / 2;
  *budget = half < info->max_alloc ? half : info->max_alloc;
  return CLGAN_OK;
}

/* The batch after (epoch, first), as the trainer's D step walks the permutation: a batch that
 * would run past the end of the data starts the next epoch. */
static void following(const clgan_stream *s, int epoch, int first, int *ne, int *nf) {
  long b = s->cfg.batch;
  if ((long)first + 2 * b > (long)s->cfg.count) {
    *ne = epoch + 1;
    *nf = 0;
  } else {
    *ne = epoch;
    *nf = first + (int)b;
  }
}

/* Gathers slot k's batch into its staging buffer: rows of the source in the epoch's order,
 * each flipped image mirrored row by row (bytes, so exactly what the device's flip reads). */
static clgan_status fill(clgan_stream *s, int k, int epoch, int first) {
  const clgan_stream_cfg *c = &s->cfg;
  clgan_status st = clgan_marker_sync(s->uploaded[k]); /* the previous batch has left */
  if (st != CLGAN_OK) return st;
  if (s->perm_epoch != epoch) {
    c->order(c->ctx, epoch, s->perm, s->flips);
    s->perm_epoch = epoch;
  }
  size_t ib = c->image_bytes, w = (size_t)c->width;
  for (int i = 0; i < c->batch; i++) {
    int32_t p = s->perm[first + i];
    const uint8_t *src = c->images + (size_t)p * ib;
    uint8_t *dst = s->staging[k] + (size_t)i * ib;
    if (!c->flip || !s->flips[first + i]) {
      memcpy(dst, src, ib);
      continue;
    }
    for (size_t r = 0; r < ib; r += w)
      for (size_t x = 0; x < w; x++) dst[r + x] = src[r + w - 1 - x];
  }
  return CLGAN_OK;
}

static void *producer(void *arg) {
  clgan_stream *s = arg;
  pthread_mutex_lock(&s->lock);
  for (;;) {
    while (!s->stop && s->job < 0) pthread_cond_wait(&s->cond, &s->lock);
    if (s->stop) break;
    int k = s->job, epoch = s->state[k].epoch, first = s->state[k].first;
    s->job = -1;
    s->busy = 1;
    pthread_mutex_unlock(&s->lock);
    clgan_status st = fill(s, k, epoch, first);
    pthread_mutex_lock(&s->lock);
    s->busy = 0;
    if (st != CLGAN_OK && s->error == CLGAN_OK) s->error = st;
    s->state[k].ready = 1;
    pthread_cond_broadcast(&s->cond);
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

/* With the lock held and the producer idle: slot k is to hold (epoch, first). */
static void submit(clgan_stream *s, int k, int epoch, int first) {
  s->state[k] = (slot_state){.epoch = epoch, .first = first, .ready = 0};
  s->job = k;
  pthread_cond_broadcast(&s->cond);
}

clgan_status clgan_stream_create(clgan_stream **out, clgan_device *dev,
                                 const clgan_stream_cfg *cfg) {
  clgan_status st = CLGAN_OK;
  *out = NULL;
  if (!cfg->images || cfg->count < 1 || cfg->batch < 1 || cfg->batch > cfg->count ||
      cfg->image_bytes == 0 || cfg->width < 1 || cfg->image_bytes % (size_t)cfg->width ||
      !cfg->order) {
    clgan_error("bad stream: %d images of %zu bytes (rows of %d), batch %d", cfg->count,
                cfg->image_bytes, cfg->width, cfg->batch);
    return CLGAN_INVALID_ARGUMENT;
  }
  clgan_stream *s = calloc(1, sizeof *s);
  if (!s) return CLGAN_HOST_OUT_OF_MEMORY;
  s->dev = dev;
  s->cfg = *cfg;
  s->batch_bytes = (size_t)cfg->batch * cfg->image_bytes;
  s->perm_epoch = -1;
  s->job = -1;
  s->current = 1; /* the first batch goes to slot 0 */
  s->state[0].epoch = s->state[1].epoch = -1;
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->cond, NULL);
  s->perm = malloc((size_t)cfg->count * sizeof *s->perm);
  s->flips = calloc((size_t)cfg->count, 1);
  if (!s->perm || !s->flips) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto fail;
  }
  for (int k = 0; k < 2; k++) {
    if (!(s->staging[k] = malloc(s->batch_bytes))) {
      st = CLGAN_HOST_OUT_OF_MEMORY;
      goto fail;
    }
    if ((st = clgan_buffer_alloc(dev, &s->slot[k], s->batch_bytes))) goto fail;
  }
  if (pthread_create(&s->thread, NULL, producer, s) != 0) {
    clgan_error("cannot start the data stream's thread");
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto fail;
  }
  s->started = 1;
  *out = s;
  return CLGAN_OK;
fail:
  clgan_stream_free(s);
  return st;
}

void clgan_stream_free(clgan_stream *s) {
  if (!s) return;
  if (s->started) {
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
  }
  for (int k = 0; k < 2; k++) {
    /* A transfer still reading the staging buffer must end before the buffer goes. */
    clgan_marker_sync(s->uploaded[k]);
    clgan_marker_release(s->uploaded[k]);
    clgan_marker_release(s->freed[k]);
    clgan_buffer_free(&s->slot[k]);
    free(s->staging[k]);
  }
  pthread_cond_destroy(&s->cond);
  pthread_mutex_destroy(&s->lock);
  free(s->perm);
  free(s->flips);
  free(s);
}

clgan_status clgan_stream_next(clgan_stream *s, int epoch, int first, const clgan_buffer **batch) {
  clgan_status st;
  *batch = NULL;
  if (epoch < 0 || first < 0 || first > s->cfg.count - s->cfg.batch) {
    clgan_error("stream: no batch of %d at position %d of %d images", s->cfg.batch, first,
                s->cfg.count);
    return CLGAN_INVALID_ARGUMENT;
  }
  int k = 1 - s->current;
  pthread_mutex_lock(&s->lock);
  if (s->state[k].epoch != epoch || s->state[k].first != first) {
    /* Not the batch foreseen (the first one, or a resume moved the position): the producer
     * finishes what it does, then makes this one. */
    while (s->busy || s->job >= 0) pthread_cond_wait(&s->cond, &s->lock);
    submit(s, k, epoch, first);
  }
  double t0 = now_s();
  while (!s->state[k].ready) pthread_cond_wait(&s->cond, &s->lock);
  s->wait_s += now_s() - t0;
  st = s->error;
  pthread_mutex_unlock(&s->lock);
  if (st != CLGAN_OK) return st;
  clgan_marker_release(s->uploaded[k]);
  s->uploaded[k] = NULL;
  if ((st = clgan_buffer_upload(s->dev, &s->slot[k], 0, s->batch_bytes, s->staging[k],
                                s->freed[k], &s->uploaded[k])) ||
      (st = clgan_queue_wait(s->dev, s->uploaded[k])))
    return st;
  s->current = k;
  s->batches++;
  *batch = &s->slot[k];
  return CLGAN_OK;
}

clgan_status clgan_stream_done(clgan_stream *s) {
  int k = s->current, other = 1 - k, ne, nf;
  clgan_marker_release(s->freed[k]);
  s->freed[k] = NULL;
  clgan_status st = clgan_marker_enqueue(s->dev, &s->freed[k]);
  if (st != CLGAN_OK) return st;
  following(s, s->state[k].epoch, s->state[k].first, &ne, &nf);
  pthread_mutex_lock(&s->lock);
  /* The producer is idle: clgan_stream_next waited for the batch it made last. */
  submit(s, other, ne, nf);
  pthread_mutex_unlock(&s->lock);
  return CLGAN_OK;
}

double clgan_stream_wait_seconds(const clgan_stream *s) { return s ? s->wait_s : 0.0; }
long clgan_stream_batches(const clgan_stream *s) { return s ? s->batches : 0; }
