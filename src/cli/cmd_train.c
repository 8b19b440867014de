/* clgan train: its options, the training configuration they make (a preset or a checkpoint,
 * then the overrides), and a clean stop on SIGINT/SIGTERM; the run itself is cli/run.c. */
#define _POSIX_C_SOURCE 200809L /* sigaction */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/run.h"
#include "clgan/data.h"
#include "clgan/gan.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

/* SIGINT and SIGTERM only ask the loop to stop after the current step. The handler stays
 * installed: plain signal() in ISO C mode has System V semantics (the handler is reset after
 * one delivery), so a second Ctrl-C, or `timeout -s INT` signalling the process and then its
 * group, killed the run while it was saving. SA_RESTART: no write fails with EINTR. */
static void catch_stop_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

/* The option behind a field of clgan_train_cfg_check's fault, by the field's metadata name;
 * NULL for fields no option sets (they come from a preset or the checkpoint; real_label is
 * checked as --label-smoothing before). */
static const char *option_of(const clgan_cfg_fault *f, int lr_g_given, int lr_d_given) {
  static const char *const names[][2] = {
      {"latent", "latent"},           {"batch", "batch"},
      {"d_steps", "d-steps"},         {"epochs", "epochs"},
      {"steps", "steps"},             {"sample_every", "sample-every"},
      {"checkpoint_every", "checkpoint-every"},
      {"clip_grad_norm", "clip-grad-norm"},     {"clip_weights", "clip-weights"},
      {"gp_lambda", "gp-lambda"},     {"ema", "ema"},    {"beta1", "beta1"},
      {"beta2", "beta2"},             {"momentum", "momentum"}};
  if (!strcmp(f->field, "lr") && f->net) {
    int g = !strcmp(f->net, "generator");
    return g && lr_g_given ? "lr-g" : !g && lr_d_given ? "lr-d" : "lr";
  }
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (!strcmp(f->field, names[i][0])) return names[i][1];
  return NULL;
}

static void report_fault(const clgan_cfg_fault *f, int lr_g_given, int lr_d_given,
                         const char *resume) {
  const char *opt = option_of(f, lr_g_given, lr_d_given);
  if (opt)
    fprintf(stderr, "clgan train: error: --%s %s: out of range (allowed: %s)\n", opt, f->value,
            f->range);
  else
    fprintf(stderr, "clgan train: error: %s%s%s %s is out of range (allowed: %s)%s%s\n",
            f->net ? f->net : "", f->net ? " optimizer " : "", f->field, f->value, f->range,
            resume ? " in " : "", resume ? resume : "");
}

enum { G_MODEL, G_GSPEC, G_DSPEC, G_EPOCHS, G_STEPS, G_BATCH, G_LR, G_LRG, G_LRD, G_B1, G_B2,
       G_OPT, G_OPTG, G_OPTD, G_MOM, G_LOSS, G_SMOOTH, G_DSTEPS, G_CLIP, G_SEED, G_INIT,
       G_LATENT, G_SAMPLE, G_CKPT, G_CLIPW, G_GP, G_EMA, G_DIFFAUG, G_FLIP, G_ACCUM, G_COUNT };

/* The values of clgan train's options, with the defaults printed by --help. */
typedef struct {
  const char *model, *gspec, *dspec, *data_dir, *out;
  const char *device, *resume, *opt, *opt_g, *opt_d;
  const char *loss, *init, *diffaug;
  int epochs, batch, d_steps, latent, quiet, log_every, profile, data_limit, conditional;
  int image_size, channels, flip, no_data_cache;
  int accumulate;
  long eval_every;
  int eval_count, keep_best;
  int scale, scale_given;
  const char *classifier;
  long steps, sample_every, checkpoint_every, seed;
  double lr, lr_g, lr_d, beta1, beta2, momentum;
  float smoothing, clip, clip_weights, gp_lambda, ema;
  int given[G_COUNT];
} train_opts;

/* The names --loss, --optimizer, --init and --device take, from the enums' tables (cli.h). */
static const char *const loss_names[] = {CLGAN_LOSS_TABLE(CLI_X_NAME)};
static const char *const opt_names[] = {CLGAN_OPT_TABLE(CLI_X_NAME)};
static const char *const init_names[] = {CLGAN_INIT_TABLE(CLI_X_NAME)};
static const char *const type_names[] = {CLGAN_DEVICE_TYPE_TABLE(CLI_X_NAME)};

/* 0 to go on, else the exit code (0 after --help). */
static int parse_options(train_opts *o, int argc, char **argv) {
  *o = (train_opts){.model = "mlp-bn", .d_steps = 1, .log_every = 50, .eval_count = 10000,
                    .seed = 1, .gp_lambda = 10, .accumulate = 1};
  char names[6][CLI_NAMES_MAX], help[6][CLI_NAMES_MAX + 160];
  const char *policies[CLGAN_AUG_ALL + 1];
  for (unsigned p = 0; p <= CLGAN_AUG_ALL; p++) policies[p] = clgan_aug_policy_name(p);
  snprintf(help[5], sizeof help[5], "DiffAugment of every batch D sees: %s (the default: none); "
           "helps on small data sets (README: DiffAugment)",
           cli_names(names[5], sizeof names[5], policies, CLGAN_AUG_ALL + 1));
  snprintf(help[0], sizeof help[0], "preset: %s (the default: %s)",
           cli_names(names[0], sizeof names[0], clgan_preset_names, -1), o->model);
  snprintf(help[1], sizeof help[1], "%s for both networks (preset's: adam; wgan rmsprop)",
           cli_names(names[1], sizeof names[1], opt_names, CLI_COUNT(opt_names)));
  snprintf(help[2], sizeof help[2], "%s (preset's: wgan for wgan, else bce); bce's G loss is the "
           "non-saturating one, bce-minimax's the original log(1 - D(G(z)))",
           cli_names(names[2], sizeof names[2], loss_names, CLI_COUNT(loss_names)));
  snprintf(help[3], sizeof help[3], "weight init: %s (preset's: mlp torch, mlp-bn and mlp-tf "
           "glorot, dcgan and wgans dcgan)",
           cli_names(names[3], sizeof names[3], init_names, CLI_COUNT(init_names)));
  snprintf(help[4], sizeof help[4], "OpenCL device: index, P:D, a type (%s) or a name (default "
           "$CLGAN_DEVICE, else first GPU, else first device)",
           cli_names(names[4], sizeof names[4], type_names, CLI_COUNT(type_names)));
  const cli_opt opts[] = {
      {"model", "NAME", CLI_STR, &o->model, help[0], &o->given[G_MODEL]},
      {"generator", "SPEC", CLI_STR, &o->gspec, "generator spec, replacing the preset's (README: Network specs)", &o->given[G_GSPEC]},
      {"discriminator", "SPEC", CLI_STR, &o->dspec, "discriminator spec, replacing the preset's", &o->given[G_DSPEC]},
      {"data", "PATH", CLI_STR, &o->data_dir, "an IDX folder (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]), a folder of PNG/JPEG images searched recursively (class subfolders are labels), a CIFAR-10 folder (data_batch_*.bin) or a uint8 .npy (N,H,W[,C]) (default $CLGAN_DATA, else " CLGAN_DATA_DIR_DEFAULT "; README: Your own images)", NULL},
      {"image-size", "S", CLI_INT, &o->image_size, "crop every image to a centred square and resize it to S x S with an antialiasing triangle filter (Pillow's antialiased bilinear; 1..1024; 0 keeps the data's size)", NULL},
      {"channels", "C", CLI_INT, &o->channels, "1 (gray: RGB converted with ITU-R BT.601 weights 0.299, 0.587, 0.114) or 3 (RGB: gray copied to each); 0 keeps the data's (a folder: 3 if any image has colour)", NULL},
      {"data-limit", "N", CLI_INT, &o->data_limit, "train on the first N training images only (0 = all, the default): small-data training, e.g. with --diffaug; give it again with --resume", NULL},
      {"out", "DIR", CLI_STR, &o->out, "run folder (default runs/<date>-<model>; with --resume, the checkpoint's folder)", NULL},
      {"epochs", "N", CLI_INT, &o->epochs, "stop after N epochs (0 = no bound; preset's: mlp, mlp-tf 10, dcgan 5)", &o->given[G_EPOCHS]},
      {"steps", "N", CLI_LONG, &o->steps, "stop after N generator steps (0 = no bound; preset's: mlp-bn, wgan, wgan-gp 10000); naming --epochs or --steps drops the preset's other bound", &o->given[G_STEPS]},
      {"batch", "N", CLI_INT, &o->batch, "batch size, per rank under mpirun (preset's: mlp, mlp-tf 128; the others 64)", &o->given[G_BATCH]},
      {"accumulate", "K", CLI_INT, &o->accumulate, "K micro-batches of --batch per optimizer step, gradients summed: a step sees batch x K (x ranks) images (1, the default); may change on --resume, the global batch staying (README: Several devices)", &o->given[G_ACCUM]},
      {"lr", "RATE", CLI_DOUBLE, &o->lr, "learning rate of both networks (preset's: 2e-4; mlp-tf 1e-3, wgan 5e-5, wgan-gp 1e-4)", &o->given[G_LR]},
      {"lr-g", "RATE", CLI_DOUBLE, &o->lr_g, "generator learning rate (overrides --lr)", &o->given[G_LRG]},
      {"lr-d", "RATE", CLI_DOUBLE, &o->lr_d, "discriminator learning rate (overrides --lr)", &o->given[G_LRD]},
      {"optimizer", "NAME", CLI_STR, &o->opt, help[1], &o->given[G_OPT]},
      {"optimizer-g", "NAME", CLI_STR, &o->opt_g, "generator optimizer (overrides --optimizer)", &o->given[G_OPTG]},
      {"optimizer-d", "NAME", CLI_STR, &o->opt_d, "discriminator optimizer (overrides --optimizer)", &o->given[G_OPTD]},
      {"beta1", "B", CLI_DOUBLE, &o->beta1, "Adam beta1 (preset's: 0.9 for mlp, mlp-tf; 0.5 for the others)", &o->given[G_B1]},
      {"beta2", "B", CLI_DOUBLE, &o->beta2, "Adam beta2 (preset's: 0.999; wgan-gp 0.9)", &o->given[G_B2]},
      {"momentum", "M", CLI_DOUBLE, &o->momentum, "SGD momentum (0)", &o->given[G_MOM]},
      {"loss", "NAME", CLI_STR, &o->loss, help[2], &o->given[G_LOSS]},
      {"clip-weights", "C", CLI_FLOAT, &o->clip_weights, "clip the critic's parameters to [-C, C] after each update (preset wgan: 0.01, else 0 = off)", &o->given[G_CLIPW]},
      {"gp-lambda", "L", CLI_FLOAT, &o->gp_lambda, "weight of the WGAN-GP gradient penalty (10)", &o->given[G_GP]},
      {"ema", "DECAY", CLI_FLOAT, &o->ema, "keep an EMA generator with this decay (e.g. 0.999; 0 = off, the default): saved as generator_ema, used by samples, evaluations, clgan sample and eval", &o->given[G_EMA]},
      {"diffaug", "POLICY", CLI_STR, &o->diffaug, help[5], &o->given[G_DIFFAUG]},
      {"no-data-cache", NULL, CLI_FLAG, &o->no_data_cache, "decode an image folder again instead of reading (and writing) its decode cache in $XDG_CACHE_HOME/clgan/data (else ~/.cache/clgan/data)", NULL},
      {"flip", NULL, CLI_FLAG, &o->flip, "random horizontal flips of the real images, drawn per epoch from --seed (runs and resumes repeat exactly)", &o->given[G_FLIP]},
      {"conditional", NULL, CLI_FLAG, &o->conditional, "class-conditional GAN on the training labels (README: Conditional GANs): G gets the one-hot class with z, D the one-hot class with the image (MLP) or a class projection (convolutional D)", NULL},
      {"label-smoothing", "S", CLI_FLOAT, &o->smoothing, "one-sided label smoothing: real label 1 - S (0 = off, the default; e.g. 0.1)", &o->given[G_SMOOTH]},
      {"d-steps", "K", CLI_INT, &o->d_steps, "discriminator steps per generator step (preset's: 1; wgan, wgan-gp 5)", &o->given[G_DSTEPS]},
      {"clip-grad-norm", "C", CLI_FLOAT, &o->clip, "clip each network's gradient norm to C (0 = off, the default)", &o->given[G_CLIP]},
      {"init", "NAME", CLI_STR, &o->init, help[3], &o->given[G_INIT]},
      {"latent", "N", CLI_INT, &o->latent, "latent size (preset's: 100)", &o->given[G_LATENT]},
      {"seed", "S", CLI_LONG, &o->seed, "seed for initialisation, data order and noise (1)", &o->given[G_SEED]},
      {"sample-every", "N", CLI_LONG, &o->sample_every, "steps between sample grids (preset's: mlp, mlp-tf 500; mlp-bn 1000; dcgan, wgans 200)", &o->given[G_SAMPLE]},
      {"checkpoint-every", "N", CLI_LONG, &o->checkpoint_every, "steps between checkpoints (preset's: mlp, mlp-tf 2000; mlp-bn 1000; dcgan, wgans 500)", &o->given[G_CKPT]},
      {"log-every", "N", CLI_INT, &o->log_every, "steps between metrics rows (each read waits for the device)", NULL},
      {"resume", "CKPT", CLI_STR, &o->resume, "continue the run saved in CKPT exactly where it stopped", NULL},
      {"device", "SEL", CLI_STR, &o->device, help[4], NULL},
      {"eval-every", "N", CLI_LONG, &o->eval_every, "judge G every N steps and at the end (clgan eval's figures into eval.csv and eval.png; 0 = never)", NULL},
      {"eval-count", "N", CLI_INT, &o->eval_count, "with --eval-every: samples per evaluation, and real images in its reference", NULL},
      {"keep-best", NULL, CLI_FLAG, &o->keep_best, "with --eval-every: keep checkpoint-best.safetensors, the checkpoint of the lowest FID", NULL},
      {"classifier", "PATH", CLI_STR, &o->classifier, "with --eval-every: the feature network (default: the one cached for the data, trained first if there is none)", NULL},
      {"scale", "N", CLI_INT, &o->scale, CLI_SCALE_HELP, &o->scale_given},
      {"profile", NULL, CLI_FLAG, &o->profile, "print where device time goes, per kernel, at the end", NULL},
      {"quiet", NULL, CLI_FLAG, &o->quiet, "print only errors and the final summary", NULL},
  };
  int rc = cli_parse("train",
                     "Trains a GAN on a data set's images (IDX, a folder of PNG/JPEG, CIFAR-10, .npy)\n"
                     "on an OpenCL device. Writes\n"
                     "samples/step_NNNNNN.png, metrics.csv, checkpoint.safetensors and losses.png\n"
                     "into the run folder. Ctrl-C finishes the step, saves a checkpoint and exits;\n"
                     "--resume DIR/checkpoint.safetensors continues exactly.",
                     opts, (int)(sizeof opts / sizeof opts[0]), argc, argv);
  return rc < 0 ? -1 : rc;
}

static int check_eval_options(const train_opts *o) {
  if (o->eval_every < 0 || o->eval_count < 6 || o->eval_count > 1000000) {
    fprintf(stderr, "clgan train: error: --eval-every must be >= 0 and --eval-count in 6..1000000 "
                    "(precision / recall and density / coverage need k + 1 = 6 samples)\n");
    return CLGAN_EXIT_USAGE;
  }
  if ((o->keep_best || o->classifier) && o->eval_every == 0) {
    fprintf(stderr, "clgan train: error: --keep-best and --classifier go with --eval-every N\n");
    return CLGAN_EXIT_USAGE;
  }
  return 0;
}

/* Options that define the model or its optimisation are refused when resuming: the
 * checkpoint fixes them, and a silent mismatch would not be the run it claims to be. */
static int cfg_from_checkpoint(const train_opts *o, clgan_train_cfg *cfg) {
  static const char *const names[] = {"model", "generator", "discriminator", NULL, NULL, "batch",
                                      "lr", "lr-g", "lr-d", "beta1", "beta2", "optimizer",
                                      "optimizer-g", "optimizer-d", "momentum", "loss",
                                      "label-smoothing", "d-steps", "clip-grad-norm", "seed",
                                      "init", "latent", NULL, NULL, "clip-weights",
                                      "gp-lambda", "ema", "diffaug", "flip", NULL};
  for (int i = 0; i < G_COUNT; i++) {
    if (o->given[i] && names[i]) {
      fprintf(stderr, "clgan train: error: --%s cannot change when resuming: the checkpoint "
                      "fixes it (start a new run instead)\n", names[i]);
      return CLGAN_EXIT_USAGE;
    }
  }
  int rows = 0, cols = 0;
  clgan_status st = clgan_checkpoint_cfg(o->resume, cfg, &rows, &cols);
  if (st != CLGAN_OK) return cli_exit_code(st);
  if (o->conditional && cfg->classes == 0) {
    fprintf(stderr, "clgan train: error: --conditional: %s is an unconditional run, which "
                    "stays one when resumed (start a new run instead)\n", o->resume);
    return CLGAN_EXIT_USAGE;
  }
  return 0;
}

/* The optimizer options of both networks: --optimizer-g/-d and --lr-g/-d override the
 * common ones. */
static int apply_optimizer_options(const train_opts *o, clgan_train_cfg *cfg) {
  const int *given = o->given;
  clgan_opt_cfg *oc[2] = {&cfg->opt_g, &cfg->opt_d};
  const char *kinds[2] = {o->opt_g ? o->opt_g : o->opt, o->opt_d ? o->opt_d : o->opt};
  double lrs[2] = {given[G_LRG] ? o->lr_g : o->lr, given[G_LRD] ? o->lr_d : o->lr};
  int lr_given[2] = {given[G_LRG] || given[G_LR], given[G_LRD] || given[G_LR]};
  for (int i = 0; i < 2; i++) {
    if (kinds[i] && !clgan_opt_parse(kinds[i], &oc[i]->kind)) {
      char names[CLI_NAMES_MAX];
      fprintf(stderr, "clgan train: error: optimizer '%s': use %s\n", kinds[i],
              cli_names(names, sizeof names, opt_names, CLI_COUNT(opt_names)));
      return CLGAN_EXIT_USAGE;
    }
    if (lr_given[i]) oc[i]->lr = lrs[i];
    if (given[G_B1]) oc[i]->beta1 = o->beta1;
    if (given[G_B2]) oc[i]->beta2 = o->beta2;
    if (given[G_MOM]) oc[i]->momentum = o->momentum;
  }
  return 0;
}

/* A new run: the preset, then the options that override it, then the specs checked. */
static int cfg_from_options(const train_opts *o, clgan_train_cfg *cfg) {
  const int *given = o->given;
  if (clgan_preset(o->model, cfg) != CLGAN_OK) {
    char names[CLI_NAMES_MAX];
    fprintf(stderr, "clgan train: error: unknown --model '%s': use %s (or give --generator and "
                    "--discriminator specs)\n", o->model,
            cli_names(names, sizeof names, clgan_preset_names, -1));
    return CLGAN_EXIT_USAGE;
  }
  if (o->gspec) snprintf(cfg->g_spec, sizeof cfg->g_spec, "%s", o->gspec);
  if (o->dspec) snprintf(cfg->d_spec, sizeof cfg->d_spec, "%s", o->dspec);
  if (given[G_BATCH]) cfg->batch = o->batch;
  if (given[G_LATENT]) cfg->latent = o->latent;
  if (given[G_SEED] && o->seed < 0) {
    /* A cast would make -1 the seed 18446744073709551615: refuse it rather than run a seed
     * nobody asked for. */
    fprintf(stderr, "clgan train: error: --seed %ld: must be >= 0\n", o->seed);
    return CLGAN_EXIT_USAGE;
  }
  if (given[G_SEED]) cfg->seed = (uint64_t)o->seed;
  if (given[G_DSTEPS]) cfg->d_steps = o->d_steps;
  if (given[G_CLIP]) cfg->clip_norm = o->clip;
  if (given[G_SMOOTH] && !(o->smoothing >= 0 && o->smoothing < 0.5f)) {
    fprintf(stderr, "clgan train: error: --label-smoothing %g: out of range (allowed: [0, 0.5))\n",
            (double)o->smoothing);
    return CLGAN_EXIT_USAGE;
  }
  if (given[G_SMOOTH]) cfg->real_label = 1.0f - o->smoothing;
  if (given[G_INIT] && !clgan_init_parse(o->init, &cfg->init)) {
    char names[CLI_NAMES_MAX];
    fprintf(stderr, "clgan train: error: --init '%s': use %s\n", o->init,
            cli_names(names, sizeof names, init_names, CLI_COUNT(init_names)));
    return CLGAN_EXIT_USAGE;
  }
  if (given[G_LOSS] && !clgan_loss_parse(o->loss, &cfg->loss)) {
    char names[CLI_NAMES_MAX];
    fprintf(stderr, "clgan train: error: --loss '%s': use %s\n", o->loss,
            cli_names(names, sizeof names, loss_names, CLI_COUNT(loss_names)));
    return CLGAN_EXIT_USAGE;
  }
  if (given[G_DIFFAUG] && !clgan_aug_policy_parse(o->diffaug, &cfg->diffaug)) {
    const char *policies[CLGAN_AUG_ALL + 1];
    char names[CLI_NAMES_MAX];
    for (unsigned p = 0; p <= CLGAN_AUG_ALL; p++) policies[p] = clgan_aug_policy_name(p);
    fprintf(stderr, "clgan train: error: --diffaug '%s': use %s\n", o->diffaug,
            cli_names(names, sizeof names, policies, CLGAN_AUG_ALL + 1));
    return CLGAN_EXIT_USAGE;
  }
  if (given[G_CLIPW]) cfg->clip_weights = o->clip_weights;
  if (given[G_GP]) cfg->gp_lambda = o->gp_lambda;
  if (given[G_EMA]) cfg->ema = o->ema;
  if (o->flip) cfg->flip = 1;
  if (o->conditional) cfg->classes = CLGAN_CLASSES_FROM_DATA;
  int rc = apply_optimizer_options(o, cfg);
  if (rc) return rc;
  char err[256];
  clgan_net_spec probe;
  if (clgan_spec_parse(cfg->g_spec, &probe, err, sizeof err) != CLGAN_OK) {
    fprintf(stderr, "clgan train: error: --generator '%s': %s\n", cfg->g_spec, err);
    return CLGAN_EXIT_USAGE;
  }
  if (clgan_spec_parse(cfg->d_spec, &probe, err, sizeof err) != CLGAN_OK) {
    fprintf(stderr, "clgan train: error: --discriminator '%s': %s\n", cfg->d_spec, err);
    return CLGAN_EXIT_USAGE;
  }
  return 0;
}

/* The split of the global batch over this group (issue 14). A new run: --batch per rank,
 * --accumulate micro-batches. A resumed one keeps the checkpoint's global batch, whatever the
 * number of ranks now, and --accumulate may change: the batch per rank follows, and a global
 * batch that does not divide is refused. */
static int apply_split(const train_opts *o, clgan_train_cfg *cfg, int ranks) {
  if (!o->resume) {
    cfg->accumulate = o->accumulate;
    cfg->ranks = ranks;
    return 0;
  }
  long global = clgan_train_global_batch(cfg);
  int k = o->given[G_ACCUM] ? o->accumulate : (cfg->accumulate > 1 ? cfg->accumulate : 1);
  if (k < 1 || global % ((long)k * ranks) != 0) {
    fprintf(stderr, "clgan train: error: %s has a global batch of %ld images (batch %d x "
                    "accumulate %d x %d rank(s)), which %d rank(s) x --accumulate %d cannot "
                    "split evenly: use a number of ranks times --accumulate that divides %ld\n",
            o->resume, global, cfg->batch, cfg->accumulate > 1 ? cfg->accumulate : 1,
            cfg->ranks > 1 ? cfg->ranks : 1, ranks, k, global);
    return CLGAN_EXIT_USAGE;
  }
  cfg->batch = (int)(global / ((long)k * ranks));
  cfg->accumulate = k;
  cfg->ranks = ranks;
  return 0;
}

/* The options that apply to new and resumed runs alike, and the whole configuration checked. */
static int apply_run_options(const train_opts *o, clgan_train_cfg *cfg) {
  const int *given = o->given;
  /* Either bound ends the run: naming one drops the preset's other bound. */
  if (given[G_EPOCHS] || given[G_STEPS]) {
    cfg->epochs = given[G_EPOCHS] ? o->epochs : 0;
    cfg->steps = given[G_STEPS] ? o->steps : 0;
  }
  if (given[G_SAMPLE]) cfg->sample_every = o->sample_every;
  if (given[G_CKPT]) cfg->checkpoint_every = o->checkpoint_every;
  if (o->data_limit < 0) {
    fprintf(stderr, "clgan train: error: --data-limit %d: out of range (allowed: >= 0)\n",
            o->data_limit);
    return CLGAN_EXIT_USAGE;
  }
  if (cli_check_image_opts("train", o->image_size, o->channels)) return CLGAN_EXIT_USAGE;
  if (o->accumulate < 1 || o->accumulate > 65536) {
    fprintf(stderr, "clgan train: error: --accumulate %d: out of range (allowed: 1..65536)\n",
            o->accumulate);
    return CLGAN_EXIT_USAGE;
  }
  if (o->log_every < 1) {
    fprintf(stderr, "clgan train: error: --log-every %d: out of range (allowed: >= 1)\n",
            o->log_every);
    return CLGAN_EXIT_USAGE;
  }
  clgan_cfg_fault fault;
  if (clgan_train_cfg_check(cfg, &fault) != CLGAN_OK) {
    report_fault(&fault, given[G_LRG], given[G_LRD], o->resume);
    return CLGAN_EXIT_USAGE;
  }
  if (cfg->epochs == 0 && cfg->steps == 0) {
    fprintf(stderr, "clgan train: error: nothing bounds the run: give --steps or --epochs\n");
    return CLGAN_EXIT_USAGE;
  }
  return 0;
}

/* Data-parallel: the library's messages say which rank saw what. */
static void rank_log(const char *level, const char *text, void *user) {
  const clgan_dist *dist = user;
  fprintf(stderr, "clgan: rank %d of %d: %s: %s\n", clgan_dist_rank(dist), clgan_dist_size(dist),
          level, text);
}

/* One rank's train command (alone: the whole of it). Every rank reads the same options and
 * checkpoint, so bad input is refused by all of them alike, before any collective. */
static int train(const train_opts *o, clgan_dist *dist) {
  clgan_train_cfg cfg;
  int rc = o->resume ? cfg_from_checkpoint(o, &cfg) : cfg_from_options(o, &cfg);
  if (rc || (rc = apply_split(o, &cfg, clgan_dist_size(dist))) ||
      (rc = apply_run_options(o, &cfg)))
    return rc;
  cli_run_options ro = {.data_dir = o->data_dir, .out_dir = o->out, .device = o->device,
                        .resume = o->resume, .log_every = o->log_every, .quiet = o->quiet,
                        .data_limit = o->data_limit,
                        .profile = o->profile, .eval_every = o->eval_every,
                        .eval_count = o->eval_count, .keep_best = o->keep_best,
                        .classifier = o->classifier, .grid_scale = o->scale,
                        .image_size = o->image_size, .channels = o->channels,
                        .no_data_cache = o->no_data_cache, .dist = dist};
  catch_stop_signals();
  return cli_run_training(&cfg, &ro, &stop_signal);
}

int cmd_train(int argc, char **argv) {
  train_opts o;
  int rc = parse_options(&o, argc, argv);
  if (rc) return rc < 0 ? 0 : rc;
  if ((rc = check_eval_options(&o))) return rc;
  if (o.scale_given && cli_check_scale("train", o.scale)) return CLGAN_EXIT_USAGE;
  /* Under mpirun, one rank of a data-parallel group; else alone, without MPI. */
  clgan_dist *dist = NULL;
  clgan_status st = clgan_dist_init(&dist);
  if (st != CLGAN_OK) return cli_exit_code(st);
  if (clgan_dist_size(dist) > 1) clgan_set_log(rank_log, dist);
  rc = train(&o, dist);
  clgan_set_log(NULL, NULL);
  clgan_dist_finalize(dist);
  return rc;
}
