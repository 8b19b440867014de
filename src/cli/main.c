/* The clgan command: dispatches to subcommands. Only this folder parses argv and exits.
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad input. */
#include <stdio.h>
#include <string.h>

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
    printf("clgan %s\n", clgan_cli_version());
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "clgan: error: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return CLGAN_EXIT_USAGE;
}
