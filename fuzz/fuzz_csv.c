/* libFuzzer harness for the metrics CSV reader: clgan_csv_read, then every column name and
 * value of an accepted table and a lookup of each column by name. */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include "clgan/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(data, size);
  clgan_csv_table t;
  if (clgan_csv_read(path, &t) != CLGAN_OK) {
    if (t.columns || t.values || t.ncols || t.rows) abort(); /* refused: left zeroed */
    return 0;
  }
  if (t.ncols < 1 || t.rows < 0 || !t.columns) abort();
  for (int c = 0; c < t.ncols; c++) {
    if (!t.columns[c]) abort();
    int found = clgan_csv_column(&t, t.columns[c]);
    if (found < 0 || found > c || strcmp(t.columns[found], t.columns[c]) != 0) abort();
  }
  if (t.rows) fuzz_touch(t.values, sizeof *t.values * (size_t)t.rows * (size_t)t.ncols);
  (void)clgan_csv_column(&t, "no such column");
  clgan_csv_table_free(&t);
  return 0;
}
