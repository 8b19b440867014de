/* Device selectors: parsing and matching are pure functions over clgan_device_info, so they
 * are unit-tested without a device (tests/test_selector.c). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/device.h"

static const char *const type_names[] = {
#define X(e, name) name,
    CLGAN_DEVICE_TYPE_TABLE(X)
#undef X
};

const char *clgan_device_type_name(clgan_device_type t) {
  for (int i = 0; i < CLGAN_DEVICE_TYPE_COUNT; i++)
    if (t == (clgan_device_type)(1 << i)) return type_names[i];
  return "other";
}

static int equal_nocase(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
  return *a == *b;
}

static int contains_nocase(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
    if (i == n) return 1;
  }
  return n == 0;
}

static int parse_int(const char *s, const char *end, int *out) {
  if (s == end || end - s > 6) return 0;
  int v = 0;
  for (const char *p = s; p < end; p++) {
    if (!isdigit((unsigned char)*p)) return 0;
    v = v * 10 + (*p - '0');
  }
  *out = v;
  return 1;
}

clgan_status clgan_selector_parse(const char *text, clgan_selector *sel) {
  memset(sel, 0, sizeof *sel);
  sel->kind = CLGAN_SEL_DEFAULT;
  if (!text) return CLGAN_OK;
  while (isspace((unsigned char)*text)) text++;
  size_t len = strlen(text);
  while (len > 0 && isspace((unsigned char)text[len - 1])) len--;
  if (len == 0) return CLGAN_OK;
  if (len >= sizeof sel->text) return CLGAN_INVALID_ARGUMENT;
  memcpy(sel->text, text, len);
  sel->text[len] = '\0';
  const char *end = sel->text + len;

  const char *colon = strchr(sel->text, ':');
  if (colon) {
    if (parse_int(sel->text, colon, &sel->platform) && parse_int(colon + 1, end, &sel->device)) {
      sel->kind = CLGAN_SEL_PAIR;
      return CLGAN_OK;
    }
    return CLGAN_INVALID_ARGUMENT; /* "0:x", ":1", "1:" are typos, not names */
  }
  if (parse_int(sel->text, end, &sel->index)) {
    sel->kind = CLGAN_SEL_INDEX;
    return CLGAN_OK;
  }
  for (int i = 0; i < CLGAN_DEVICE_TYPE_COUNT; i++) {
    if (equal_nocase(sel->text, type_names[i])) {
      sel->kind = CLGAN_SEL_TYPE;
      sel->type = (clgan_device_type)(1 << i);
      return CLGAN_OK;
    }
  }
  if (equal_nocase(sel->text, "acc")) { /* the short spelling */
    sel->kind = CLGAN_SEL_TYPE;
    sel->type = CLGAN_DEVICE_ACCELERATOR;
    return CLGAN_OK;
  }
  sel->kind = CLGAN_SEL_NAME;
  return CLGAN_OK;
}

int clgan_selector_match(const clgan_selector *sel, const clgan_device_info *list, int count) {
  for (int i = 0; i < count; i++) {
    const clgan_device_info *d = &list[i];
    switch (sel->kind) {
      case CLGAN_SEL_DEFAULT:
        if (d->type & CLGAN_DEVICE_GPU) return i;
        break;
      case CLGAN_SEL_INDEX:
        if (d->index == sel->index) return i;
        break;
      case CLGAN_SEL_PAIR:
        if (d->platform == sel->platform && d->device == sel->device) return i;
        break;
      case CLGAN_SEL_TYPE:
        if (d->type & sel->type) return i;
        break;
      case CLGAN_SEL_NAME:
        if (contains_nocase(d->name, sel->text) || contains_nocase(d->platform_name, sel->text) ||
            contains_nocase(d->vendor, sel->text) ||
            contains_nocase(d->platform_version, sel->text)) /* "OpenCL 3.0 PoCL 3.1" */
          return i;
        break;
    }
  }
  if (sel->kind == CLGAN_SEL_DEFAULT && count > 0) return 0;
  return -1;
}
