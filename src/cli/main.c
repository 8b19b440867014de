/* The clgan command: dispatches to subcommands. Only this folder parses argv and exits.
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad input. */
#include <stdio.h>
#include <string.h>

#include "clgan/gan.h"
#include "cli/cli.h"

static const clgan_command commands[] = {
    {"train", "train a GAN (clgan train --help)", cmd_train},
    {"sample", "generate images from a checkpoint", cmd_sample},
    {"eval", "judge a generator: FID, KID, precision/recall, density/coverage, classes", cmd_eval},
    {"devices", "list OpenCL platforms and devices", cmd_devices},
    {"gemm-check", "run GEMMs on the device against a C reference", cmd_gemm_check},
    {"tune", "tune CLBlast's GEMM for the device and store the result", cmd_tune},
    {"classifier", "train the domain classifier clgan eval judges by (train)", cmd_classifier},
};

static void usage(FILE *out) {
  fprintf(out,
          "clgan %s: generative adversarial networks trained on any OpenCL device\n\n"
          "usage: clgan <command> [options]    (clgan <command> --help for its options)\n\n"
          "commands:\n",
          clgan_cli_version());
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
  fprintf(out,
          "\nenvironment:\n"
          "  CLGAN_DEVICE       default device selector (index, P:D, cpu|gpu|accelerator, or name)\n"
          "  CLGAN_KERNEL_DIR   load OpenCL kernels from this folder instead of the built-in copies\n"
          "  CLGAN_TUNING_FILE  CLBlast tuning cache (default ~/.cache/clgan/tuning.txt)\n"
          "  CLGAN_NO_TUNING    set to 1 to run with CLBlast's defaults (no shipped or tuned sets)\n"
          "  CLGAN_TUNING_CLASS take this tuning class's shipped GEMM sets (pocl:skylake-avx512; none)\n");
}

/* The build options a bug report needs. CLGAN_WITH_MPI and CLGAN_WITH_JPEG are defined to 1 by
 * the build where those features are compiled in; LAPACKE (FID) is always required. */
#if defined(CLGAN_WITH_MPI) && CLGAN_WITH_MPI
#define CLI_HAS_MPI "yes"
#else
#define CLI_HAS_MPI "no"
#endif
#if defined(CLGAN_WITH_JPEG) && CLGAN_WITH_JPEG
#define CLI_HAS_JPEG "yes"
#else
#define CLI_HAS_JPEG "no"
#endif

static void version(void) {
  clgan_build_info b;
  clgan_build_info_get(&b);
  printf("clgan %s (library %s)\n", clgan_cli_version(), clgan_version());
  printf("build options: MPI: %s, JPEG: %s, LAPACK: yes\n", CLI_HAS_MPI, CLI_HAS_JPEG);
  printf("built against: OpenCL headers %s (CL_TARGET_OPENCL_VERSION=%d, OpenCL %d.%d), "
         "CLBlast %s\n",
         b.cl_headers, b.cl_target, b.cl_target / 100, b.cl_target / 10 % 10, b.clblast);
}

/* clgan --list WHAT: one name a line, for the bash completion (share/bash-completion/clgan)
 * and scripts. Not in the help: the names are in each subcommand's help already. */
static int list(const char *what) {
  static const char *const losses[] = {CLGAN_LOSS_TABLE(CLI_X_NAME)};
  static const char *const opts[] = {CLGAN_OPT_TABLE(CLI_X_NAME)};
  static const char *const inits[] = {CLGAN_INIT_TABLE(CLI_X_NAME)};
  static const char *const augs[] = {CLGAN_AUG_TABLE(CLI_X_NAME)};
  static const char *const types[] = {CLGAN_DEVICE_TYPE_TABLE(CLI_X_NAME)};
  const char *const *names = NULL;
  int count = -1;
  if (what && !strcmp(what, "commands")) {
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
      printf("%s\n", commands[i].name);
    return 0;
  }
  if (what && !strcmp(what, "presets")) names = clgan_preset_names;
  if (what && !strcmp(what, "losses")) names = losses, count = CLI_COUNT(losses);
  if (what && !strcmp(what, "optimizers")) names = opts, count = CLI_COUNT(opts);
  if (what && !strcmp(what, "inits")) names = inits, count = CLI_COUNT(inits);
  if (what && !strcmp(what, "augmentations")) names = augs, count = CLI_COUNT(augs);
  if (what && !strcmp(what, "device-types")) names = types, count = CLI_COUNT(types);
  if (!names) {
    fprintf(stderr, "clgan: error: --list '%s': not one of commands, presets, losses, optimizers, "
                    "inits, augmentations or device-types\n", what ? what : "");
    return CLGAN_EXIT_USAGE;
  }
  for (int i = 0; count < 0 ? names[i] != NULL : i < count; i++) printf("%s\n", names[i]);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLGAN_EXIT_USAGE;
  }
  if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
    version();
    return 0;
  }
  if (!strcmp(argv[1], "--list")) return list(argc > 2 ? argv[2] : NULL);
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "clgan: error: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return CLGAN_EXIT_USAGE;
}
