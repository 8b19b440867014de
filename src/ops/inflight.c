/* The bound on work in flight (include/clgan/ops.h): the trainer's and the classifier's one
 * door to the device queue. The host waits for the marker of a step depth steps back, never
 * for an empty queue (no clFinish inside a training loop: DESIGN.md). */
#include "clgan/ops.h"

clgan_status clgan_inflight_step(clgan_device *dev, clgan_inflight *w, long step, int depth) {
  if (depth < 0 || depth >= CLGAN_INFLIGHT_MAX || step < 0) {
    clgan_error("%s: clgan_inflight_step: depth %d (0..%d), step %ld",
                clgan_status_message(CLGAN_INVALID_ARGUMENT), depth, CLGAN_INFLIGHT_MAX - 1,
                step);
    return CLGAN_INVALID_ARGUMENT;
  }
  int slot = (int)(step % CLGAN_INFLIGHT_MAX);
  clgan_status st = clgan_marker_wait(w->slot[slot]);
  w->slot[slot] = NULL;
  if (st != CLGAN_OK) return st;
  if (depth > 0)
    return clgan_marker_enqueue(dev, &w->slot[(step + depth) % CLGAN_INFLIGHT_MAX]);
  return clgan_device_flush(dev);
}

void clgan_inflight_free(clgan_inflight *w) {
  for (int i = 0; i < CLGAN_INFLIGHT_MAX; i++) {
    clgan_marker_release(w->slot[i]);
    w->slot[i] = NULL;
  }
}
