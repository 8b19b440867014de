/* The monotonic clock in seconds, for the timings the library and the command report. Private to
 * the library and the CLI. */
#ifndef CLGAN_UTIL_CLOCK_H
#define CLGAN_UTIL_CLOCK_H

double clgan_now_s(void);

#endif
