/* libFuzzer harness for the CLBlast tuning cache reader: clgan_tuning_load for a fixed device
 * key and for the key on the input's first line, with a small and a large entry table. Loaded
 * entries must be well-formed (NUL-terminated names, counts in range). */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include "clgan/device.h"

#define FUZZ_KEY "pthread-cpu | 6.0+debian | Portable Computing Language"

static void check(const clgan_tuning *e, int count, int max) {
  if (count < 0 || count > max) abort();
  for (int i = 0; i < count; i++) {
    if (!memchr(e[i].kernel, '\0', sizeof e[i].kernel) || !e[i].kernel[0]) abort();
    if (e[i].count < 1 || e[i].count > CLGAN_TUNE_MAX_PARAMS) abort();
    for (int j = 0; j < e[i].count; j++)
      if (!memchr(e[i].names[j], '\0', sizeof e[i].names[j]) || !e[i].names[j][0]) abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(data, size);
  char key[512];
  size_t n = 0;
  while (n < size && n + 1 < sizeof key && data[n] != '\t' && data[n] != '\n') {
    key[n] = (char)data[n];
    n++;
  }
  key[n] = '\0';
  const char *keys[] = {FUZZ_KEY, key};
  for (int k = 0; k < 2; k++) {
    clgan_tuning entries[8];
    int count = -1;
    if (clgan_tuning_load(path, keys[k], entries, 1, &count) != CLGAN_OK) abort();
    check(entries, count, 1);
    count = -1;
    if (clgan_tuning_load(path, keys[k], entries, 8, &count) != CLGAN_OK) abort();
    check(entries, count, 8);
  }
  return 0;
}
