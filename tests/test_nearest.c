/* clgan_nearest_images on gray and colour data sets: exact copies are found at distance 0, ties
 * go to the lowest index, an image left out (skip) is not found, and every index and distance
 * matches a double-precision brute force over all channels x rows x cols values. The colour
 * cases are built so that a comparison of the first plane alone picks another image, and one
 * 64x64 RGB case checks the distances of long sums. Host code only. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"
#include "harness.h"

enum { N = 40, NQ = 12 };

typedef struct {
  const char *name;
  int channels, rows, cols;
} nn_case;

static unsigned long long lcg(unsigned long long *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return *s >> 56;
}

/* The reference: the nearest image of set over every value (the float pixels training sees),
 * summed in double; -1 when none is left. */
static int brute(const float *x, const clgan_dataset *set, int skip, double *dist) {
  size_t dim = clgan_dataset_image_bytes(set);
  double best = INFINITY;
  int at = -1;
  for (int i = 0; i < set->count; i++) {
    if (i == skip) continue;
    double d = 0;
    for (size_t p = 0; p < dim; p++) {
      double e = (double)x[p] - (double)clgan_pixel_to_unit(set->images[(size_t)i * dim + p]);
      d += e * e;
    }
    if (d < best) best = d, at = i;
  }
  *dist = at >= 0 ? sqrt(best) : 0.0;
  return at;
}

static void check_all(const char *name, const float *q, int nq, const clgan_dataset *set,
                      const int *skip, const int *index, const float *dist) {
  size_t dim = clgan_dataset_image_bytes(set);
  for (int k = 0; k < nq; k++) {
    double want_d;
    int want = brute(q + (size_t)k * dim, set, skip ? skip[k] : -1, &want_d);
    CHECK(index[k] == want && fabs(dist[k] - want_d) <= 1e-6 + 1e-5 * want_d,
          "%s, query %d: index %d (want %d), distance %.7f (want %.7f)", name, k, index[k], want,
          (double)dist[k], want_d);
  }
}

static void run_case(const nn_case *c, unsigned long long *rng) {
  clgan_dataset set = {.count = N, .rows = c->rows, .cols = c->cols, .channels = c->channels};
  size_t dim = clgan_dataset_image_bytes(&set), plane = (size_t)c->rows * c->cols;
  uint8_t *images = malloc((size_t)N * dim);
  float *q = malloc((size_t)NQ * dim * sizeof *q);
  if (!images || !q) {
    CHECK(0, "%s: out of memory", c->name);
    goto done;
  }
  set.images = images;
  for (size_t i = 0; i < (size_t)N * dim; i++) images[i] = (uint8_t)lcg(rng);
  memcpy(images + 17 * dim, images + 5 * dim, dim); /* image 17 repeats image 5 */
  test_fill_uniform(q, (size_t)NQ * dim, -1, 1, rng);
  for (size_t p = 0; p < dim; p++) {
    q[0 * dim + p] = clgan_pixel_to_unit(images[9 * dim + p]);  /* a copy of image 9 */
    q[1 * dim + p] = clgan_pixel_to_unit(images[17 * dim + p]); /* of 17, which equals 5 */
  }
  if (c->channels == 3) {
    /* Query 2 equals image 3 in the first plane and is far from it in the others; image 30 is
     * near it everywhere. Over all channels 30 is the nearest; over the first plane, 3. */
    for (size_t p = 0; p < plane; p++) {
      images[3 * dim + p] = (uint8_t)(200 + p % 40);
      images[3 * dim + plane + p] = images[3 * dim + 2 * plane + p] = 0;
      for (int k = 0; k < 3; k++) {
        q[2 * dim + k * plane + p] = clgan_pixel_to_unit((uint8_t)(200 + p % 40));
        images[30 * dim + k * plane + p] = (uint8_t)(190 + p % 40);
      }
    }
  }
  int index[NQ], skip[NQ];
  float dist[NQ];
  clgan_nearest_images(q, NQ, &set, NULL, index, dist);
  CHECK(index[0] == 9 && dist[0] == 0.0f, "%s: a copy of image 9: index %d, distance %g",
        c->name, index[0], (double)dist[0]);
  CHECK(index[1] == 5 && dist[1] == 0.0f, "%s: a copy of 5 and 17: the lower index, got %d",
        c->name, index[1]);
  if (c->channels == 3)
    CHECK(index[2] == 30, "%s: the nearest over all channels is image 30, got %d (3 is the "
          "nearest in the first plane alone)", c->name, index[2]);
  check_all(c->name, q, NQ, &set, NULL, index, dist);

  /* Each query with its own nearest left out: a copy of 5 then finds 17 at 0, a copy of 9
   * another image. */
  for (int k = 0; k < NQ; k++) skip[k] = k == 1 ? 5 : index[k];
  clgan_nearest_images(q, NQ, &set, skip, index, dist);
  CHECK(index[1] == 17 && dist[1] == 0.0f, "%s: a copy of 5, 5 left out: 17, got %d", c->name,
        index[1]);
  CHECK(index[0] != 9 && dist[0] > 0.0f, "%s: a copy of 9, 9 left out: got %d", c->name,
        index[0]);
  check_all(c->name, q, NQ, &set, skip, index, dist);
done:
  free(images);
  free(q);
}

int main(void) {
  static const nn_case cases[] = {
      {"gray 5x7", 1, 5, 7},
      {"RGB 4x5", 3, 4, 5},
      {"RGB 32x32", 3, 32, 32},
      {"RGB 64x64", 3, 64, 64},
  };
  unsigned long long rng = 7;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i], &rng);

  uint8_t one[3 * 4] = {0};
  float q[3 * 4] = {0};
  int at = 7, skip0 = 0;
  float d = 1;
  clgan_dataset empty = {.count = 0, .rows = 2, .cols = 2, .channels = 3, .images = one};
  clgan_nearest_images(q, 1, &empty, NULL, &at, &d);
  CHECK(at == -1 && d == 0.0f, "an empty set: index -1, got %d", at);
  clgan_dataset single = {.count = 1, .rows = 2, .cols = 2, .channels = 3, .images = one};
  at = 7, d = 1;
  clgan_nearest_images(q, 1, &single, &skip0, &at, &d);
  CHECK(at == -1 && d == 0.0f, "one image, left out: index -1, got %d", at);
  return test_finish();
}
