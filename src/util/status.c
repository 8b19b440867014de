/* The status table's names and messages, and the log sink every error passes through.
 * It lives in src/util/, the bottom layer, because every layer reports errors through it: io
 * and util must not depend on the device layer to say what went wrong. OpenCL's and CLBlast's
 * codes are mapped into this table by the device layer (src/device/errors.c). */
#include "clgan/status.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const names[] = {
#define CLGAN_X_NAME(name, msg) "CLGAN_" #name,
    CLGAN_STATUS_TABLE(CLGAN_X_NAME)
#undef CLGAN_X_NAME
};
static const char *const messages[] = {
#define CLGAN_X_MSG(name, msg) msg,
    CLGAN_STATUS_TABLE(CLGAN_X_MSG)
#undef CLGAN_X_MSG
};

const char *clgan_version(void) { return CLGAN_VERSION; }

const char *clgan_status_name(clgan_status s) {
  return (s >= 0 && s < CLGAN_STATUS_COUNT) ? names[s] : "CLGAN_UNKNOWN_STATUS";
}

const char *clgan_status_message(clgan_status s) {
  return (s >= 0 && s < CLGAN_STATUS_COUNT) ? messages[s] : "unknown status";
}

static void default_sink(const char *level, const char *text, void *user) {
  (void)user;
  fprintf(stderr, "clgan: %s: %s\n", level, text);
}

static clgan_log_fn log_fn = default_sink;
static void *log_user;

void clgan_set_log(clgan_log_fn fn, void *user) {
  log_fn = fn ? fn : default_sink;
  log_user = fn ? user : NULL;
}

void clgan_log(const char *level, const char *fmt, ...) {
  char text[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  log_fn(level, text, log_user);
}

clgan_status clgan_refuse_file(const char *kind, const char *path, const char *fmt, ...) {
  char what[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  clgan_error("%s: %s %s: %s", clgan_status_message(CLGAN_BAD_FORMAT), kind, path, what);
  return CLGAN_BAD_FORMAT;
}
