/* libFuzzer harness for the safetensors reader: clgan_st_open (header JSON, offsets, CRC), then
 * every accessor over what it accepted: tensors by index and by name, clgan_st_expect with each
 * tensor's own dtype and shape, every data byte, and the metadata. */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include "clgan/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(data, size);
  clgan_st_file *f = NULL;
  if (clgan_st_open(path, &f) != CLGAN_OK) {
    if (f) abort();
    return 0;
  }
  int count = clgan_st_count(f);
  for (int i = 0; i < count; i++) {
    const clgan_st_tensor *t = clgan_st_at(f, i);
    if (!t || !t->name || t->ndim < 0 || t->ndim > CLGAN_ST_MAX_DIMS) abort();
    if (clgan_st_find(f, t->name) != t) abort();
    size_t elems = 1;
    for (int d = 0; d < t->ndim; d++) elems *= (size_t)t->shape[d];
    if (elems * clgan_st_dtype_size(t->dtype) != t->nbytes) abort();
    if (t->nbytes && ((uintptr_t)t->data % clgan_st_dtype_size(t->dtype)) != 0) abort();
    fuzz_touch(t->data, t->nbytes);
    (void)clgan_st_dtype_name(t->dtype);
    const void *p = NULL;
    if (clgan_st_expect(f, t->name, t->dtype, t->shape, t->ndim, &p) != CLGAN_OK || p != t->data)
      abort();
    /* A mismatch is reported, not crashed on. */
    int64_t other[1] = {t->ndim ? t->shape[0] + 1 : 1};
    if (clgan_st_expect(f, t->name, CLGAN_ST_F32, other, 1, &p) == CLGAN_OK) abort();
  }
  if (clgan_st_at(f, count) || clgan_st_at(f, -1)) abort();
  const void *p = NULL;
  (void)clgan_st_expect(f, "no such tensor", CLGAN_ST_F32, NULL, 0, &p);
  int nmeta = clgan_st_meta_count(f);
  for (int i = 0; i < nmeta; i++) {
    const char *key = NULL, *value = NULL;
    if (!clgan_st_meta_at(f, i, &key, &value) || !key || !value) abort();
    if (clgan_st_meta(f, key) != value) abort(); /* keys are unique */
    fuzz_touch(value, strlen(value));
  }
  const char *key = NULL, *value = NULL;
  if (clgan_st_meta_at(f, nmeta, &key, &value)) abort();
  clgan_st_close(f);
  return 0;
}
