/* The lookup behind every enum's _parse function (util/names.h). */
#include "util/names.h"

#include <string.h>

int clgan_name_index(const char *const *names, int count, const char *name) {
  for (int i = 0; i < count; i++)
    if (!strcmp(name, names[i])) return i;
  return -1;
}
