/* Name tables of the X-macro enums (activation, optimizer, initialiser, loss): the one lookup
 * each enum's _parse function goes through. Private to the library. */
#ifndef CLGAN_UTIL_NAMES_H
#define CLGAN_UTIL_NAMES_H

/* The index of name among names[0..count), or -1; exact, case-sensitive comparison. */
int clgan_name_index(const char *const *names, int count, const char *name);

#endif
