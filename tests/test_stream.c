/* The data stream (src/data/stream.c, issue 13) against the uploaded path: each streamed batch,
 * turned into floats by the gather kernel in its own order, must equal bit for bit what the
 * gather with flips makes from the whole set uploaded, for the same epoch and position. Walked:
 * three epochs in order (37 images, batch 8: four batches an epoch, five left over), a jump back
 * as a resume makes, and on; with and without flips; images of 3x5x7 (an odd row width). */
#include <stdlib.h>
#include <string.h>

#include "clgan/data.h"
#include "clgan/ops.h"
#include "harness.h"

enum { COUNT = 37, BATCH = 8, C = 3, H = 5, W = 7, DIM = C * H * W };
#define SEED 77u
#define STREAM_ID 4u
#define FLIP_ID 10u

static int flip_on;

static void order(void *ctx, int epoch, int32_t *perm, uint8_t *flips) {
  (void)ctx;
  clgan_philox_shuffle(perm, COUNT, SEED, (uint32_t)epoch, STREAM_ID);
  if (flip_on) clgan_flip_bits(flips, COUNT, SEED, (uint32_t)epoch, FLIP_ID);
}

static void walk(clgan_device *dev, const uint8_t *pixels, int flip) {
  flip_on = flip;
  clgan_buffer all = {0}, perm = {0}, flips = {0}, ident = {0}, got = {0}, want = {0};
  int32_t perm_host[COUNT], ident_host[BATCH];
  uint8_t flips_host[COUNT] = {0};
  float a[BATCH * DIM], b[BATCH * DIM];
  for (int i = 0; i < BATCH; i++) ident_host[i] = i;
  CHECK(clgan_buffer_alloc(dev, &all, sizeof(uint8_t) * COUNT * DIM) == CLGAN_OK &&
            clgan_buffer_write(dev, &all, 0, (size_t)COUNT * DIM, pixels) == CLGAN_OK &&
            clgan_buffer_alloc(dev, &perm, sizeof perm_host) == CLGAN_OK &&
            clgan_buffer_alloc(dev, &flips, sizeof flips_host) == CLGAN_OK &&
            clgan_buffer_alloc(dev, &ident, sizeof ident_host) == CLGAN_OK &&
            clgan_buffer_write(dev, &ident, 0, sizeof ident_host, ident_host) == CLGAN_OK &&
            clgan_buffer_alloc(dev, &got, sizeof a) == CLGAN_OK &&
            clgan_buffer_alloc(dev, &want, sizeof b) == CLGAN_OK,
        "buffers");
  clgan_stream *s = NULL;
  clgan_stream_cfg cfg = {.images = pixels, .count = COUNT, .batch = BATCH, .image_bytes = DIM,
                          .width = W, .flip = flip, .order = order};
  CHECK(clgan_stream_create(&s, dev, &cfg) == CLGAN_OK, "stream created");
  /* (epoch, first) in the trainer's order; (1, 16) after (2, 24) is a resume. */
  static const int walk_seq[][2] = {{0, 0},  {0, 8},  {0, 16}, {0, 24}, {1, 0},  {1, 8},
                                    {1, 16}, {1, 24}, {2, 0},  {2, 8},  {2, 16}, {2, 24},
                                    {1, 16}, {1, 24}, {2, 0},  {2, 8},  {5, 8},  {5, 16}};
  int n = (int)(sizeof walk_seq / sizeof walk_seq[0]), same = 0, epoch_up = -1;
  for (int k = 0; s && k < n; k++) {
    int e = walk_seq[k][0], first = walk_seq[k][1];
    const clgan_buffer *slot = NULL;
    if (e != epoch_up) {
      order(NULL, e, perm_host, flips_host);
      clgan_buffer_write(dev, &perm, 0, sizeof perm_host, perm_host);
      clgan_buffer_write(dev, &flips, 0, sizeof flips_host, flips_host);
      epoch_up = e;
    }
    clgan_status st = clgan_stream_next(s, e, first, &slot);
    CHECK(st == CLGAN_OK && slot, "batch (%d, %d) streamed", e, first);
    if (st != CLGAN_OK || !slot) break;
    st = clgan_gather_images(dev, &got, slot, &ident, 0, BATCH, DIM);
    if (st == CLGAN_OK) st = clgan_stream_done(s);
    if (st == CLGAN_OK)
      st = flip ? clgan_gather_images_flip(dev, &want, &all, &perm, &flips, first, BATCH, DIM, W)
                : clgan_gather_images(dev, &want, &all, &perm, first, BATCH, DIM);
    CHECK(st == CLGAN_OK && clgan_buffer_read(dev, &got, 0, sizeof a, a) == CLGAN_OK &&
              clgan_buffer_read(dev, &want, 0, sizeof b, b) == CLGAN_OK,
          "gathers of batch (%d, %d)", e, first);
    same += !memcmp(a, b, sizeof a);
    CHECK(!memcmp(a, b, sizeof a), "flip %d: batch (%d, %d) streamed equals uploaded", flip, e,
          first);
  }
  CHECK(same == n && clgan_stream_batches(s) == n && clgan_stream_wait_seconds(s) >= 0,
        "flip %d: %d of %d batches equal, %ld served", flip, same, n, clgan_stream_batches(s));
  /* A position past the last whole batch is refused, naming it. */
  const clgan_buffer *slot = NULL;
  CHECK(s && clgan_stream_next(s, 0, COUNT - BATCH + 1, &slot) == CLGAN_INVALID_ARGUMENT && !slot,
        "a batch past the end is refused");
  clgan_stream_free(s);
  clgan_buffer *bufs[] = {&all, &perm, &flips, &ident, &got, &want};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) clgan_buffer_free(bufs[i]);
}

int main(void) {
  clgan_device *dev = test_open_device();
  uint8_t *pixels = malloc((size_t)COUNT * DIM);
  CHECK(pixels != NULL, "pixels");
  if (dev && pixels) {
    for (int i = 0; i < COUNT * DIM; i++) pixels[i] = (uint8_t)((i * 2654435761u) >> 13);
    walk(dev, pixels, 0);
    walk(dev, pixels, 1);
    clgan_stream_cfg bad = {.images = pixels, .count = 4, .batch = 5, .image_bytes = DIM,
                            .width = W, .order = order};
    clgan_stream *s = NULL;
    CHECK(clgan_stream_create(&s, dev, &bad) == CLGAN_INVALID_ARGUMENT && !s,
          "a batch larger than the set is refused");
  }
  free(pixels);
  clgan_device_close(dev);
  return test_finish();
}
