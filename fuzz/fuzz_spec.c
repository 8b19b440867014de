/* libFuzzer harness for the network spec language: clgan_spec_parse on the input as text; an
 * accepted spec must format to text that parses back to the very same layers, bit for bit, and
 * formats to the same text again (checkpoints store the formatted spec and rebuild the network
 * from it, so a value lost in formatting changes the network a resume trains). */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include "clgan/nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0; /* the parser refuses anything over 2047 characters */
  char text[4097];
  memcpy(text, data, size);
  text[size] = '\0';
  static clgan_net_spec spec, again;
  char err[256], canon[8192], canon2[8192];
  if (clgan_spec_parse(text, &spec, err, sizeof err) != CLGAN_OK) {
    if (!memchr(err, '\0', sizeof err) || !err[0]) abort(); /* a refusal says why */
    return 0;
  }
  if (spec.count < 1 || spec.count > CLGAN_MAX_LAYERS) abort();
  clgan_spec_format(&spec, canon, sizeof canon);
  if (clgan_spec_parse(canon, &again, err, sizeof err) != CLGAN_OK) {
    fprintf(stderr, "spec '%s' formats to '%s', which does not parse: %s\n", text, canon, err);
    abort();
  }
  if (again.count != spec.count ||
      memcmp(again.layers, spec.layers, sizeof spec.layers[0] * (size_t)spec.count) != 0) {
    fprintf(stderr, "spec '%s' formats to '%s', which parses to other layers\n", text, canon);
    abort();
  }
  clgan_spec_format(&again, canon2, sizeof canon2);
  if (strcmp(canon, canon2) != 0) {
    fprintf(stderr, "spec round trip differs: '%s' -> '%s'\n", canon, canon2);
    abort();
  }
  /* A short buffer truncates, never overflows. */
  char small[16];
  clgan_spec_format(&spec, small, sizeof small);
  if (!memchr(small, '\0', sizeof small)) abort();
  return 0;
}
