/* clgan devices: every platform and device, with the index --device takes and the GEMM tuning a
 * run on it would use (built-in for its tuning class, cached for the device, or none). */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

/* Quiet: a completion must not print errors into the user's command line. Frees list. */
static int list_selectors(clgan_device_info *list, int n) {
  unsigned types = 0;
  for (int i = 0; i < n; i++) printf("%d\n", list[i].index);
  for (int i = 0; i < n; i++) printf("%d:%d\n", list[i].platform, list[i].device);
  for (int i = 0; i < n; i++) types |= (unsigned)list[i].type;
  for (int b = 0; b < CLGAN_DEVICE_TYPE_COUNT; b++)
    if (types & (1u << b)) printf("%s\n", clgan_device_type_name((clgan_device_type)(1 << b)));
  free(list);
  return 0;
}

int cmd_devices(int argc, char **argv) {
  const char *sel = NULL;
  static const char *const types[] = {CLGAN_DEVICE_TYPE_TABLE(CLI_X_NAME)};
  char names[CLI_NAMES_MAX], synopsis[CLI_NAMES_MAX + 256];
  snprintf(synopsis, sizeof synopsis, "Lists every OpenCL platform and device with the index "
           "that --device takes:\na flat index (0), P:D (0:1), a type (%s) or part of a name "
           "(pocl, nvidia).\nThe default device is the first GPU, else the first device.",
           cli_names(names, sizeof names, types, CLI_COUNT(types)));
  int selectors = 0;
  const cli_opt opts[] = {
      {"device", "SEL", CLI_STR, &sel, "mark the device this selector picks (also $CLGAN_DEVICE)", NULL},
      {"list-selectors", NULL, CLI_FLAG, &selectors, "print the selectors that pick a device here, "
       "one a line (flat indices, P:D pairs, types), and nothing else (for shell completion)", NULL},
  };
  int rc = cli_parse("devices", synopsis, opts, CLI_COUNT(opts), argc, argv);
  if (rc) return rc < 0 ? 0 : rc;
  clgan_device_info *list = NULL;
  int n = 0;
  clgan_status st = clgan_devices_list(&list, &n);
  if (selectors) return list_selectors(list, st == CLGAN_OK ? n : 0);
  if (st == CLGAN_NO_PLATFORM || (st == CLGAN_OK && n == 0)) {
    fprintf(stderr, "clgan: error: no OpenCL platform or device found. Install a driver (for the "
                    "CPU: apt-get install pocl-opencl-icd) and check /etc/OpenCL/vendors.\n");
    free(list);
    return CLGAN_EXIT_USAGE;
  }
  if (st != CLGAN_OK) return cli_exit_code(st);
  if (!sel) sel = getenv("CLGAN_DEVICE");
  clgan_selector s;
  if (clgan_selector_parse(sel, &s) != CLGAN_OK) {
    fprintf(stderr, "clgan: error: --device '%s' is not a valid selector\n", sel);
    free(list);
    return CLGAN_EXIT_USAGE;
  }
  int pick = clgan_selector_match(&s, list, n);
  clgan_device_cfg dcfg = {.selector = sel};
  clgan_device_cfg_from_env(&dcfg); /* $CLGAN_NO_TUNING, $CLGAN_TUNING_CLASS */
  int last_platform = -1;
  for (int i = 0; i < n; i++) {
    const clgan_device_info *d = &list[i];
    if (d->platform != last_platform) {
      printf("platform %d: %s (%s)\n", d->platform, d->platform_name, d->platform_version);
      last_platform = d->platform;
    }
    printf("  %c %d  %d:%d  %-11s %s\n", i == pick ? '*' : ' ', d->index, d->platform, d->device,
           clgan_device_type_name(d->type), d->name);
    printf("        vendor %s, %s, driver %s, %s\n", d->vendor, d->version, d->driver,
           d->c_version);
    printf("        %u compute units, %.2f GiB global memory (max buffer %.2f GiB), "
           "%llu KiB local, max work-group %zu, fp64 %s, fp16 %s\n",
           d->compute_units, (double)d->global_mem / (1u << 30), (double)d->max_alloc / (1u << 30),
           d->local_mem / 1024, d->max_work_group, d->fp64 ? "yes" : "no",
           d->fp16 ? "yes" : "no");
    clgan_tuning_status ts;
    char tuning[1400];
    clgan_tuning_lookup(d, &dcfg, &ts);
    clgan_tuning_describe(&ts, tuning, sizeof tuning);
    char gemm[160];
    clgan_gemm_describe(d, &dcfg, gemm, sizeof gemm);
    printf("        GEMM: %s%s\n", gemm,
           ts.gemm == CLGAN_GEMM_PACKED ? " (CLGAN_GEMM=clblast: CLBlast's, with the tuning below)"
                                        : "");
    printf("        GEMM tuning: %s%s\n", tuning,
           clgan_tuning_wanted(&ts) ? " (slow on a CPU: run `clgan tune` once)" : "");
  }
  if (pick >= 0)
    printf("\n* = selected by %s%s%s\n", sel && *sel ? "'" : "the default",
           sel && *sel ? sel : "", sel && *sel ? "'" : " (first GPU, else first device)");
  free(list);
  if (pick < 0) {
    fprintf(stderr, "clgan: error: --device '%s' matches none of the devices above\n", sel);
    return CLGAN_EXIT_USAGE;
  }
  return 0;
}
