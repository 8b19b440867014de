/* util/clock.h: CLOCK_MONOTONIC, so timings do not jump with the wall clock. */
#include "util/clock.h"

#include <time.h>

double clgan_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
