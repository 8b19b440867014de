/* clgan classifier: the domain classifier that clgan eval judges generators with (issue 8).
 *   clgan classifier train   trains one on a labelled data set and stores it where clgan eval
 *                            looks for it (the cache path of the data's fingerprint) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "clgan/data.h"
#include "clgan/eval.h"
#include "util/fsutil.h"

static void print_line(const char *line, void *user) {
  (void)user;
  printf("%s\n", line);
  fflush(stdout);
}

static int cmd_classifier_train(int argc, char **argv) {
  const char *data_dir = NULL, *out = NULL, *device = NULL, *spec = NULL;
  int epochs = CLGAN_CLASSIFIER_EPOCHS, batch = CLGAN_CLASSIFIER_BATCH;
  long seed = 1;
  double lr = CLGAN_CLASSIFIER_LR;
  const cli_opt opts[] = {
      {"data", "DIR", CLI_STR, &data_dir, "folder with the train and t10k splits, images and labels (IDX, plain or .gz; default $CLGAN_DATA, else " CLGAN_DATA_DIR_DEFAULT ")", NULL},
      {"out", "PATH", CLI_STR, &out, "where to save it (default: the cache path for the data, $XDG_CACHE_HOME/clgan/classifiers/<fingerprint>.safetensors or ~/.cache/...)", NULL},
      {"epochs", "N", CLI_INT, &epochs, "epochs over the training split", NULL},
      {"batch", "N", CLI_INT, &batch, "batch size (at least 2, for batch norm)", NULL},
      {"lr", "X", CLI_DOUBLE, &lr, "Adam's peak learning rate, decayed to 0 along a cosine", NULL},
      {"seed", "S", CLI_LONG, &seed, "seed of the initialisation and the data order", NULL},
      {"spec", "SPEC", CLI_STR, &spec, "network spec (default " CLGAN_CLASSIFIER_SPEC "); it must end in linear:<classes>", NULL},
      {"device", "SEL", CLI_STR, &device, "OpenCL device (index, P:D, type or name; $CLGAN_DEVICE)", NULL},
  };
  int rc = cli_parse("classifier train",
                     "Trains the domain classifier on the labelled train split, measures its "
                     "accuracy on the t10k\nsplit and saves it (safetensors, PyTorch "
                     "nn.Sequential names) for clgan eval.",
                     opts, (int)(sizeof opts / sizeof opts[0]), argc, argv);
  if (rc) return rc < 0 ? 0 : rc;
  if (epochs < 1 || batch < 2 || !(lr > 0) || seed < 0) {
    fprintf(stderr, "clgan classifier train: error: --epochs must be at least 1, --batch at "
                    "least 2, --lr positive and --seed not negative\n");
    return CLGAN_EXIT_USAGE;
  }
  data_dir = clgan_data_dir(data_dir);

  clgan_status st = CLGAN_OK;
  clgan_dataset train = {0}, test = {0};
  clgan_device *dev = NULL;
  clgan_classifier *c = NULL;
  char path[1200];
  if ((st = clgan_dataset_load(data_dir, "train", &train))) goto done;
  if ((st = clgan_dataset_load(data_dir, "t10k", &test))) {
    fprintf(stderr, "clgan classifier train: error: %s has no t10k test split "
                    "(t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]): the "
                    "classifier's accuracy is measured on it\n", data_dir);
    goto done;
  }
  if (!train.labels || !test.labels) {
    fprintf(stderr, "clgan classifier train: error: %s has no labels for its %s split "
                    "(%s-labels-idx1-ubyte[.gz]): a classifier learns from labels\n",
            data_dir, !train.labels ? "train" : "t10k", !train.labels ? "train" : "t10k");
    st = CLGAN_INVALID_ARGUMENT;
    goto done;
  }
  if (out) {
    snprintf(path, sizeof path, "%s", out);
  } else {
    char fp[CLGAN_FINGERPRINT_MAX];
    clgan_dataset_fingerprint(&train, fp, sizeof fp);
    clgan_classifier_cache_path(fp, path, sizeof path);
  }
  if ((st = clgan_make_parent_dirs(path))) goto done;
  if ((st = cli_open_device(device, 0, &dev))) goto done;
  clgan_classifier_cfg cfg = {.spec = spec, .epochs = epochs, .batch = batch, .lr = lr,
                              .seed = (uint64_t)seed, .progress = print_line};
  double acc = 0;
  if ((st = clgan_classifier_train(&c, dev, &cfg, &train, &test, &acc))) {
    if (st == CLGAN_NUMERIC)
      fprintf(stderr, "clgan classifier train: try a smaller --lr (this run: %g)\n", lr);
    goto done;
  }
  if ((st = clgan_classifier_save(c, path))) goto done;
  printf("clgan classifier train: test accuracy %.2f %% on %d t10k images -> %s\n", 100.0 * acc,
         test.count, path);
done:
  clgan_classifier_free(c);
  clgan_device_close(dev);
  clgan_dataset_free(&train);
  clgan_dataset_free(&test);
  return cli_exit_code(st);
}

static const clgan_command subcommands[] = {
    {"train", "train a classifier on a labelled data set and save it for clgan eval",
     cmd_classifier_train},
};

static void usage(FILE *out) {
  fprintf(out, "usage: clgan classifier <subcommand> [options]    (clgan classifier "
               "<subcommand> --help)\n\nThe domain classifier whose features clgan eval "
               "judges generators by.\n\nsubcommands:\n");
  for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    fprintf(out, "  %-12s %s\n", subcommands[i].name, subcommands[i].summary);
}

int cmd_classifier(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLGAN_EXIT_USAGE;
  }
  if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return CLGAN_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
    if (!strcmp(argv[1], subcommands[i].name)) return subcommands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "clgan classifier: error: unknown subcommand '%s'\n\n", argv[1]);
  usage(stderr);
  return CLGAN_EXIT_USAGE;
}
