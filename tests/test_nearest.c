/* clgan_nearest_images: exact copies are found at distance 0, ties go to the lowest index, and
 * every distance and index matches a double-precision brute force. Host code only. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"
#include "harness.h"

enum { N = 40, DIM = 37, NQ = 12 };

int main(void) {
  uint8_t set[N * DIM];
  unsigned long long rng = 7;
  for (int i = 0; i < N * DIM; i++) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    set[i] = (uint8_t)(rng >> 56);
  }
  memcpy(set + 17 * DIM, set + 5 * DIM, DIM); /* image 17 repeats image 5 */
  float q[NQ * DIM];
  test_fill_uniform(q, NQ * DIM, -1, 1, &rng);
  for (int p = 0; p < DIM; p++) {
    q[0 * DIM + p] = clgan_pixel_to_unit(set[9 * DIM + p]);  /* a copy of image 9 */
    q[1 * DIM + p] = clgan_pixel_to_unit(set[17 * DIM + p]); /* of 17, which equals 5 */
  }
  int index[NQ];
  float dist[NQ];
  clgan_nearest_images(q, NQ, set, N, DIM, index, dist);
  CHECK(index[0] == 9 && dist[0] == 0.0f, "a copy of image 9: index %d, distance %g", index[0],
        (double)dist[0]);
  CHECK(index[1] == 5 && dist[1] == 0.0f, "a copy of 5 and 17: the lower index, got %d",
        index[1]);
  for (int k = 2; k < NQ; k++) {
    double best = INFINITY;
    int at = -1;
    for (int i = 0; i < N; i++) {
      double d = 0;
      for (int p = 0; p < DIM; p++) {
        double e = (double)q[k * DIM + p] - ((double)set[i * DIM + p] / 127.5 - 1.0);
        d += e * e;
      }
      if (d < best) {
        best = d;
        at = i;
      }
    }
    CHECK(index[k] == at && fabs(dist[k] - sqrt(best)) <= 1e-5 * sqrt(best),
          "query %d: index %d (want %d), distance %.7f (want %.7f)", k, index[k], at,
          (double)dist[k], sqrt(best));
  }
  int none = 7;
  float nodist = 1;
  clgan_nearest_images(q, 1, set, 0, DIM, &none, &nodist);
  CHECK(none == -1 && nodist == 0.0f, "an empty set: index -1");
  return test_finish();
}
