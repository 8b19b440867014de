/* Option parsing and the helpers every subcommand shares. */
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/data.h"
#include "clgan/io.h"

const char *clgan_cli_version(void) { return CLGAN_CLI_VERSION; }

const char *cli_names(char *out, size_t size, const char *const *names, int count) {
  if (count < 0) {
    count = 0;
    while (names[count]) count++;
  }
  size_t used = 0;
  out[0] = '\0';
  for (int i = 0; i < count && used < size; i++) {
    const char *sep = i == 0 ? "" : i == count - 1 ? " or " : ", ";
    int n = snprintf(out + used, size - used, "%s%s", sep, names[i]);
    if (n < 0) break;
    used += (size_t)n;
  }
  return out;
}

static void print_default(const cli_opt *o) {
  switch (o->kind) {
    case CLI_STR: {
      const char *v = *(const char **)o->dst;
      if (v) printf(" (default: %s)", v);
      break;
    }
    case CLI_INT:
      printf(" (default: %d)", *(int *)o->dst);
      break;
    case CLI_LONG:
      printf(" (default: %ld)", *(long *)o->dst);
      break;
    case CLI_FLOAT:
      printf(" (default: %g)", (double)*(float *)o->dst);
      break;
    case CLI_DOUBLE:
      printf(" (default: %g)", *(double *)o->dst);
      break;
    case CLI_FLAG:
      break;
  }
}

static void help(const char *command, const char *synopsis, const cli_opt *opts, int nopts) {
  printf("usage: clgan %s [options]\n\n%s\n\noptions:\n", command, synopsis);
  for (int i = 0; i < nopts; i++) {
    char left[64];
    snprintf(left, sizeof left, "--%s%s%s", opts[i].name, opts[i].metavar ? " " : "",
             opts[i].metavar ? opts[i].metavar : "");
    printf("  %-24s %s", left, opts[i].help);
    /* An option that records whether it was given takes its default from elsewhere (a preset,
     * a checkpoint); its help text says which. */
    if (!opts[i].given) print_default(&opts[i]);
    printf("\n");
  }
  printf("  %-24s %s\n", "--help", "show this help and exit");
}

static int set_value(const cli_opt *o, const char *v) {
  char *end = NULL;
  errno = 0;
  switch (o->kind) {
    case CLI_STR:
      *(const char **)o->dst = v;
      return 1;
    case CLI_INT: {
      long x = strtol(v, &end, 10);
      if (errno || end == v || *end || x < -2147483647L || x > 2147483647L) return 0;
      *(int *)o->dst = (int)x;
      return 1;
    }
    case CLI_LONG: {
      long x = strtol(v, &end, 10);
      if (errno || end == v || *end) return 0;
      *(long *)o->dst = x;
      return 1;
    }
    case CLI_FLOAT: {
      float x = strtof(v, &end);
      if (errno || end == v || *end) return 0;
      *(float *)o->dst = x;
      return 1;
    }
    case CLI_DOUBLE: {
      double x = strtod(v, &end);
      if (errno || end == v || *end) return 0;
      *(double *)o->dst = x;
      return 1;
    }
    case CLI_FLAG:
      return 0;
  }
  return 0;
}

int cli_parse(const char *command, const char *synopsis, const cli_opt *opts, int nopts,
              int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      help(command, synopsis, opts, nopts);
      return -1;
    }
    if (strncmp(a, "--", 2) != 0) {
      fprintf(stderr, "clgan %s: error: unexpected argument '%s' (see clgan %s --help)\n", command,
              a, command);
      return CLGAN_EXIT_USAGE;
    }
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    const cli_opt *o = NULL;
    for (int j = 0; j < nopts; j++)
      if (strlen(opts[j].name) == nlen && !strncmp(opts[j].name, name, nlen)) o = &opts[j];
    if (!o) {
      fprintf(stderr, "clgan %s: error: unknown option '%s' (see clgan %s --help)\n", command, a,
              command);
      return CLGAN_EXIT_USAGE;
    }
    if (o->given) *o->given = 1;
    if (o->kind == CLI_FLAG) {
      if (eq) {
        fprintf(stderr, "clgan %s: error: --%s takes no value\n", command, o->name);
        return CLGAN_EXIT_USAGE;
      }
      *(int *)o->dst = 1;
      continue;
    }
    const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
    if (!v) {
      fprintf(stderr, "clgan %s: error: --%s needs a value (%s)\n", command, o->name, o->metavar);
      return CLGAN_EXIT_USAGE;
    }
    if (!set_value(o, v)) {
      fprintf(stderr, "clgan %s: error: --%s: '%s' is not a valid %s\n", command, o->name, v,
              o->kind == CLI_FLOAT || o->kind == CLI_DOUBLE ? "number" : "integer");
      return CLGAN_EXIT_USAGE;
    }
  }
  return 0;
}

int cli_exit_code(clgan_status st) {
  switch (st) {
    case CLGAN_OK:
      return CLGAN_EXIT_OK;
    case CLGAN_INVALID_ARGUMENT:
    case CLGAN_BAD_FORMAT:
    case CLGAN_NO_PLATFORM:
    case CLGAN_NO_DEVICE:
    case CLGAN_IO_ERROR:
      return CLGAN_EXIT_USAGE;
    default:
      return CLGAN_EXIT_FAILURE;
  }
}

clgan_status cli_open_device(const char *sel, int profile, clgan_device **dev) {
  clgan_device_cfg cfg = {.selector = sel, .profile = profile};
  clgan_device_cfg_from_env(&cfg);
  clgan_status st = clgan_device_open(dev, &cfg);
  /* The library speaks of selectors; the CLI says where this one came from. */
  if ((st == CLGAN_INVALID_ARGUMENT || st == CLGAN_NO_DEVICE) && cfg.selector)
    fprintf(stderr, "clgan: the device selector '%s' came from %s (clgan devices lists them)\n",
            cfg.selector, sel ? "--device" : "$CLGAN_DEVICE");
  return st;
}

void cli_tuning_note(const char *command, const clgan_tuning_status *ts) {
  if (!clgan_tuning_wanted(ts)) return;
  /* The cost: issue 11's fresh Xeon trained mlp-bn at 1,028 img/s untuned, 2,878 tuned. */
  fprintf(stderr, "clgan %s: note: no GEMM tuning for this device (%s): CLBlast's defaults make "
                  "training about 3x slower on a CPU; run `clgan tune` once (about 2 minutes; "
                  "CLGAN_NO_TUNING=1 keeps the defaults and silences this)\n",
          command, ts->cls);
}

int cli_check_truncation(const char *command, float psi) {
  if (psi > 0.0f && isfinite(psi)) return 0;
  fprintf(stderr, "clgan %s: error: --truncation %g: must be a finite number > 0 (components "
                  "with |z| > PSI are redrawn; 1 keeps 68 %% of N(0, 1))\n", command, (double)psi);
  return CLGAN_EXIT_USAGE;
}

int cli_check_image_opts(const char *command, int image_size, int channels) {
  if (image_size < 0 || image_size > CLGAN_IMAGE_SIZE_MAX) {
    fprintf(stderr, "clgan %s: error: --image-size %d: out of range (allowed: 1..%d)\n", command,
            image_size, CLGAN_IMAGE_SIZE_MAX);
    return CLGAN_EXIT_USAGE;
  }
  if (channels != 0 && channels != 1 && channels != 3) {
    fprintf(stderr, "clgan %s: error: --channels %d: use 1 (gray) or 3 (RGB)\n", command,
            channels);
    return CLGAN_EXIT_USAGE;
  }
  return 0;
}

int cli_check_scale(const char *command, int scale) {
  if (scale >= 1 && scale <= CLI_SCALE_MAX) return 0;
  fprintf(stderr, "clgan %s: error: --scale %d: must be an integer in 1..%d (each image pixel "
                  "becomes an N x N block; leave it out for a grid at least %d pixels wide)\n",
          command, scale, CLI_SCALE_MAX, CLGAN_GRID_MIN_WIDTH);
  return CLGAN_EXIT_USAGE;
}
