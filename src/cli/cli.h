/* Shared pieces of the clgan command: subcommand table, option parsing, exit codes. */
#ifndef CLGAN_CLI_H
#define CLGAN_CLI_H

#include "clgan/device.h"

enum { CLGAN_EXIT_OK = 0, CLGAN_EXIT_FAILURE = 1, CLGAN_EXIT_USAGE = 2 };

typedef struct {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
} clgan_command;

int cmd_devices(int argc, char **argv);
int cmd_gemm_check(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_classifier(int argc, char **argv);

const char *clgan_cli_version(void);

/* Table-driven options: `--name VALUE` or `--name=VALUE`; --help prints the table with each
 * option's current value as its default. */
typedef enum { CLI_STR, CLI_INT, CLI_LONG, CLI_FLOAT, CLI_DOUBLE, CLI_FLAG } cli_kind;

typedef struct {
  const char *name;    /* without the leading dashes */
  const char *metavar; /* NULL for flags */
  cli_kind kind;
  void *dst;           /* const char **, int *, long *, float *, double * or int * (flag) */
  const char *help;
  int *given;          /* optional: set to 1 when the option appears on the command line */
} cli_opt;

/* Returns 0 to go on, -1 when --help was printed (exit 0), or CLGAN_EXIT_USAGE. */
int cli_parse(const char *command, const char *synopsis, const cli_opt *opts, int nopts,
              int argc, char **argv);

/* The exit code for a failed status: 2 for bad usage or bad input, 1 for runtime failures. */
int cli_exit_code(clgan_status st);

/* --truncation PSI of clgan sample and eval: 0 when PSI is a finite number > 0, else
 * CLGAN_EXIT_USAGE with the message printed. */
int cli_check_truncation(const char *command, float psi);
/* --scale N of the PNG grids (clgan sample, clgan train): 0 when N is in 1..CLI_SCALE_MAX, else
 * CLGAN_EXIT_USAGE with the message printed. Not given, a grid takes clgan_grid_auto_scale. */
enum { CLI_SCALE_MAX = 64 };
#define CLI_SCALE_HELP                                                                        \
  "PNG grids: draw each image pixel as an N x N block (nearest neighbour; 1..64; default: "   \
  "the smallest N that makes the grid at least 256 pixels wide), tiles 2 pixels apart"
int cli_check_scale(const char *command, int scale);
/* --image-size S and --channels C of the data (clgan train, clgan sample --nearest): 0 when S
 * is 0 (not given) or 1..CLGAN_IMAGE_SIZE_MAX and C is 0 (as stored), 1 or 3, else
 * CLGAN_EXIT_USAGE with the message printed. */
int cli_check_image_opts(const char *command, int image_size, int channels);
/* The names of an enum, for help texts and error messages, from the enum's X-macro table so
 * that a new row appears in both without editing them:
 *   static const char *const losses[] = {CLGAN_LOSS_TABLE(CLI_X_NAME)};
 * CLI_NAMES_MAX bytes hold every list the CLI writes. */
#define CLI_X_NAME(e, name) name,
#define CLI_COUNT(names) ((int)(sizeof(names) / sizeof((names)[0])))
enum { CLI_NAMES_MAX = 256 };
/* names[0..count) (count < 0: up to a NULL entry) as "a, b or c" into out; returns out. */
const char *cli_names(char *out, size_t size, const char *const *names, int count);

/* Opens the device named by sel (NULL: $CLGAN_DEVICE, else the default). */
clgan_status cli_open_device(const char *sel, int profile, clgan_device **dev);

/* Where a device has no GEMM tuning and CLBlast's defaults are known slow on it
 * (clgan_tuning_wanted), one line on stderr: what that costs and how to tune. Else nothing. */
void cli_tuning_note(const char *command, const clgan_tuning_status *ts);

#endif
