/* The trainer on a small synthetic data set: same seed gives bitwise-identical metrics and
 * weights; a run interrupted at step N and resumed from its checkpoint reproduces the
 * uninterrupted run bit for bit; damaged checkpoints are refused and change nothing; the hinge
 * and LSGAN losses train (finite, D separates real from fake, resume equals uninterrupted);
 * every option's run stays finite; a checkpoint's generator loaded alone
 * (clgan_checkpoint_load_generator) draws the trainer's samples, and damaged or mismatched
 * files are refused; the same determinism, resume and loading with spectral normalisation.
 * DiffAugment: a run is deterministic and resumes exactly (BCE fused, WGAN-GP
 * on separate batches), the checkpoint records the policy, and one step of a linear G and D
 * updates both by what the C reference of the augmentation says (the gradient reaches G
 * through A^T). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clgan/gan.h"
#include "clgan/io.h"
#include "harness.h"

#define COUNT 320
#define SIDE 8

static clgan_train_cfg small_cfg(void) {
  clgan_train_cfg c;
  clgan_preset("mlp", &c);
  snprintf(c.g_spec, sizeof c.g_spec, "linear:16,relu,linear:%d,tanh", SIDE * SIDE);
  snprintf(c.d_spec, sizeof c.d_spec, "linear:16,lrelu:0.2,linear:1,sigmoid");
  c.latent = 8;
  c.batch = 32; /* 10 steps per epoch: runs below cross epoch boundaries */
  c.seed = 1234;
  return c;
}

typedef struct {
  clgan_metrics m[8];
  int n;
  float *params;
  size_t params_n;
} run_result;

/* Steps to `until`, reading metrics every 5 steps. */
static void run_to(clgan_trainer *t, long until, run_result *r) {
  while (clgan_trainer_step_count(t) < until) {
    CHECK(clgan_trainer_step(t) == CLGAN_OK, "step");
    if (clgan_trainer_step_count(t) % 5 == 0 && r->n < 8)
      CHECK(clgan_trainer_metrics(t, &r->m[r->n++]) == CLGAN_OK, "metrics");
  }
}

/* Both arenas, then u and v of every layer with spectral normalisation. */
static void snapshot(clgan_device *dev, clgan_trainer *t, run_result *r) {
  clgan_net *g = clgan_trainer_generator(t), *d = clgan_trainer_discriminator(t);
  clgan_net *nets[2] = {g, d};
  r->params_n = g->arena_n + d->arena_n;
  for (int n = 0; n < 2; n++)
    for (int i = 0; i < nets[n]->count; i++)
      if (nets[n]->layers[i].spec.sn)
        r->params_n += nets[n]->layers[i].sn_u.bytes / 4 + nets[n]->layers[i].sn_v.bytes / 4;
  r->params = malloc(r->params_n * sizeof(float));
  clgan_buffer_read(dev, &g->params, 0, g->arena_n * sizeof(float), r->params);
  clgan_buffer_read(dev, &d->params, 0, d->arena_n * sizeof(float), r->params + g->arena_n);
  float *at = r->params + g->arena_n + d->arena_n;
  for (int n = 0; n < 2; n++)
    for (int i = 0; i < nets[n]->count; i++) {
      const clgan_layer *l = &nets[n]->layers[i];
      if (!l->spec.sn) continue;
      clgan_buffer_read(dev, &l->sn_u, 0, l->sn_u.bytes, at);
      at += l->sn_u.bytes / 4;
      clgan_buffer_read(dev, &l->sn_v, 0, l->sn_v.bytes, at);
      at += l->sn_v.bytes / 4;
    }
}

static int same_run(const run_result *a, int a_first, const run_result *b, int b_first, int n) {
  for (int i = 0; i < n; i++)
    if (memcmp(&a->m[a_first + i], &b->m[b_first + i], sizeof a->m[0]) != 0) return 0;
  return a->params_n == b->params_n &&
         memcmp(a->params, b->params, a->params_n * sizeof(float)) == 0;
}

/* Every metric of every window read, and every weight, is a finite number. */
static int run_finite(const run_result *r) {
  for (int i = 0; i < r->n; i++) {
    const clgan_metrics *m = &r->m[i];
    if (!isfinite(m->d_loss) || !isfinite(m->g_loss) || !isfinite(m->d_real) ||
        !isfinite(m->d_fake) || !isfinite(m->acc))
      return 0;
  }
  for (size_t i = 0; i < r->params_n; i++)
    if (!isfinite(r->params[i])) return 0;
  return r->n > 0 && r->params_n > 0;
}

static char *find_bytes(char *hay, size_t n, const char *needle, size_t k) {
  for (size_t i = 0; i + k <= n; i++)
    if (!memcmp(hay + i, needle, k)) return hay + i;
  return NULL;
}

static void copy_truncated(const char *from, const char *to, long keep) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  for (long i = 0; i < keep; i++) {
    int c = fgetc(in);
    if (c == EOF) break;
    fputc(c, out);
  }
  fclose(in);
  fclose(out);
}

static long file_size(const char *path) {
  FILE *f = fopen(path, "rb");
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fclose(f);
  return n;
}

static void flip_byte(const char *path, long at) {
  FILE *f = fopen(path, "r+b");
  fseek(f, at, SEEK_SET);
  int c = fgetc(f);
  fseek(f, at, SEEK_SET);
  fputc(c ^ 0x40, f);
  fclose(f);
}

/* clgan_train_gemm_shapes (what `clgan tune --model` tunes on) against the profiler's own count
 * of one step's GEMMs, and mlp's shapes against its architecture. */
/* The last error reported, to check that a refusal names the field at fault. */
static char last_error[1024];
static void keep_error(const char *level, const char *text, void *user) {
  (void)user;
  if (!strcmp(level, "error")) snprintf(last_error, sizeof last_error, "%s", text);
}

/* Copies checkpoint `from` to `to` with metadata `key` set to `value`, through clgan's own
 * writer: the copy has a valid CRC, as a file made on purpose would. */
static int rewrite_meta(const char *from, const char *to, const char *key, const char *value) {
  clgan_st_file *f = NULL;
  clgan_st_writer *w = NULL;
  int ok = clgan_st_open(from, &f) == CLGAN_OK && clgan_st_writer_new(&w) == CLGAN_OK;
  for (int i = 0; ok && i < clgan_st_count(f); i++) {
    const clgan_st_tensor *t = clgan_st_at(f, i);
    ok = clgan_st_add(w, t->name, t->dtype, t->shape, t->ndim, t->data) == CLGAN_OK;
  }
  const char *k, *v;
  for (int i = 0; ok && clgan_st_meta_at(f, i, &k, &v); i++) {
    if (!strcmp(k, CLGAN_ST_CRC_KEY) || !strcmp(k, CLGAN_ST_VERSION_KEY)) continue;
    ok = clgan_st_add_meta(w, k, strcmp(k, key) ? v : value) == CLGAN_OK;
  }
  ok = ok && clgan_st_meta(f, key) && clgan_st_write(w, to) == CLGAN_OK;
  clgan_st_writer_free(w);
  clgan_st_close(f);
  return ok;
}

/* Metadata that parses but makes no sense is refused, naming the key, by both readers (issue 9,
 * findings 2 and 4: grid 46341 overflowed grid * grid, NaN clip values passed as off,
 * batch=4294967360 resumed at batch 64, seed=abc became 0, an unknown init became dcgan's). */
static void test_bad_metadata(clgan_trainer *t, const char *ckpt, const char *bad) {
  static const struct {
    const char *key, *value, *named;
  } cases[] = {
      {"grid", "46341", "'grid'"},
      {"grid", "3000", "'grid'"},
      {"grid", "0", "'grid'"},
      {"batch", "4294967360", "'batch'"},
      {"batch", "-64", "'batch'"},
      {"batch", " 64", "'batch'"},
      {"batch", "64x", "'batch'"},
      {"batch", "0", "'batch'"},
      {"latent", "70000", "'latent'"},
      {"epochs", "99999999999", "'epochs'"},
      {"d_steps", "101", "'d_steps'"},
      {"steps", "-1", "'steps'"},
      {"sample_every", "+5", "'sample_every'"},
      {"clip_weights", "nan", "'clip_weights'"},
      {"gp_lambda", "inf", "'gp_lambda'"},
      {"clip_grad_norm", "-1", "'clip_grad_norm'"},
      {"real_label", "0.3", "'real_label'"},
      {"real_label", "nan", "'real_label'"},
      {"seed", "abc", "'seed'"},
      {"seed", "-1", "'seed'"},
      {"seed", "18446744073709551616", "'seed'"},
      {"init", "kaiming", "'init'"},
      {"loss", "wasserstein", "loss 'wasserstein'"},
      {"model", "../../etc", "'model'"},
      {"model", "", "'model'"},
      {"image", "8x8junk", "'image'"},
      {"optimizer.generator",
       "adam lr=0.0002 beta1=nan beta2=0.999 eps=1e-08 alpha=0.99 momentum=0",
       "'optimizer.generator': beta1 = nan"},
      {"optimizer.discriminator",
       "adam lr=inf beta1=0.5 beta2=0.999 eps=1e-08 alpha=0.99 momentum=0",
       "'optimizer.discriminator': lr = inf"},
      {"optimizer.generator",
       "adam lr=0.0002 beta1=0.5 beta2=0.999 eps=1e-08 alpha=0.99 momentum=0 extra",
       "optimizer metadata"},
      {"step", "-3", "'step'"},
      {"epoch", "4294967296", "'epoch'"},
      {"metrics.window", "1 2 3", "'metrics.window'"},
      {"diffaug", "bogus", "'diffaug' = 'bogus'"},
      {"diffaug", "cutout,translation", "'diffaug'"},
  };
  clgan_train_cfg c;
  int rows, cols;
  /* The rewrite itself changes nothing that matters: a copy with a value kept loads. */
  CHECK(rewrite_meta(ckpt, bad, "format", "clgan-checkpoint-1") &&
            clgan_checkpoint_cfg(bad, &c, &rows, &cols) == CLGAN_OK &&
            clgan_trainer_load(t, bad) == CLGAN_OK,
        "a rewritten copy with its values kept loads");
  clgan_set_log(keep_error, NULL);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (!rewrite_meta(ckpt, bad, cases[i].key, cases[i].value)) {
      CHECK(0, "rewriting %s = '%s'", cases[i].key, cases[i].value);
      continue;
    }
    last_error[0] = '\0';
    clgan_status st = clgan_trainer_load(t, bad);
    CHECK(st == CLGAN_BAD_FORMAT && strstr(last_error, cases[i].named),
          "%s = '%s' is refused (%s) naming %s: %s", cases[i].key, cases[i].value,
          clgan_status_name(st), cases[i].named, last_error);
    int meta_only = !strcmp(cases[i].key, "step") || !strcmp(cases[i].key, "epoch") ||
                    !strcmp(cases[i].key, "metrics.window");
    if (!meta_only) {
      last_error[0] = '\0';
      st = clgan_checkpoint_cfg(bad, &c, &rows, &cols);
      CHECK(st == CLGAN_BAD_FORMAT && strstr(last_error, cases[i].named),
            "clgan_checkpoint_cfg: %s = '%s' is refused naming %s: %s", cases[i].key,
            cases[i].value, cases[i].named, last_error);
    }
  }
  /* A folder is not a checkpoint, and the message says so. */
  char folder[300];
  snprintf(folder, sizeof folder, "%s.d", bad);
  CHECK(mkdir(folder, 0700) == 0, "mkdir");
  last_error[0] = '\0';
  CHECK(clgan_checkpoint_cfg(folder, &c, &rows, &cols) != CLGAN_OK &&
            strstr(last_error, "is a directory"),
        "a folder as checkpoint is refused as a directory: %s", last_error);
  rmdir(folder);
  clgan_set_log(NULL, NULL);
  CHECK(clgan_trainer_step_count(t) == 12, "the refused loads left the trainer at step 12");
}

static void test_gemm_shapes(void) {
  clgan_device *dev = test_open_device_cfg((clgan_device_cfg){.profile = 1});
  const char *models[] = {"mlp", "dcgan", "wgan-gp"};
  for (int m = 0; m < 3; m++) {
    clgan_train_cfg cfg;
    clgan_preset(models[m], &cfg);
    clgan_tune_shape shapes[CLGAN_TUNE_MAX_SHAPES];
    int n = 0, calls = 0;
    test_profile_take(dev, "gemm", NULL); /* clears what opening and earlier models left */
    CHECK(clgan_train_gemm_shapes(dev, &cfg, shapes, CLGAN_TUNE_MAX_SHAPES, &n) == CLGAN_OK,
          "%s: GEMM shapes", models[m]);
    for (int i = 0; i < n; i++) calls += shapes[i].count;
    long profiled = test_profile_take(dev, "gemm", NULL).calls;
    CHECK(n > 0 && calls == profiled, "%s: %d shapes, %d calls recorded, %ld profiled",
          models[m], n, calls, profiled);
    if (m == 0) {
      /* mlp: three Linear layers a network. G forward 3; D on real + fake fused (batch 256):
       * forward 3, backward 3 dW + 2 dx; G step: D forward 3, D input gradients 3, G backward
       * 3 dW + 2 dx. 22 GEMMs, the fused D forward's 256 x 256 x 784 once. */
      int fused = 0;
      for (int i = 0; i < n; i++)
        if (shapes[i].m == 256 && shapes[i].n == 256 && shapes[i].k == 784)
          fused += shapes[i].count;
      CHECK(calls == 22 && fused == 1, "mlp: %d GEMMs a step (22), the fused D forward %d times",
            calls, fused);
    }
  }
  clgan_device_close(dev);
}

/* Hinge and LSGAN at the trainer level, as main() does for BCE: 20 steps, metrics every 5. Both
 * report raw critic outputs as D(x) and D(G(z)) (README "Losses"): D separates real from fake
 * when D(x) - D(G(z)) is positive in every window and wider in the last than in the first (D
 * learns), and for hinge D's accuracy (real above 0, fake below) is above chance. LSGAN's
 * accuracy threshold is 0.5, the midpoint of its targets, which 20 steps do not reach. The
 * losses are finite and have their signs (hinge and least squares are sums of non-negative
 * terms); interrupted at 12 and resumed, the run equals the uninterrupted one. */
static void train_loss_kind(clgan_device *dev, const clgan_train_data *data, clgan_loss_kind loss,
                            const char *dir) {
  const char *name = clgan_loss_name(loss);
  clgan_train_cfg cfg = small_cfg();
  cfg.loss = loss;
  char ckpt[256];
  snprintf(ckpt, sizeof ckpt, "%s/%s.safetensors", dir, name);
  run_result a = {0}, b = {0}, c = {0};
  clgan_trainer *ta = NULL, *tb = NULL, *tc = NULL;
  CHECK(clgan_trainer_create(&ta, dev, &cfg, data) == CLGAN_OK, "%s: trainer", name);
  run_to(ta, 20, &a);
  snapshot(dev, ta, &a);
  CHECK(a.n == 4 && run_finite(&a), "%s: 4 metrics windows and all weights finite", name);
  double acc = 0;
  int above = 0;
  for (int i = 0; i < a.n; i++) {
    const clgan_metrics *m = &a.m[i];
    printf("%s steps %d: D %.4f G %.4f D(x) %.4f D(G(z)) %.4f acc %.3f\n", name, 5 * (i + 1),
           m->d_loss, m->g_loss, m->d_real, m->d_fake, m->acc);
    CHECK(m->d_loss >= 0 && m->acc >= 0 && m->acc <= 1 && m->steps == 5,
          "%s window %d: D loss %g >= 0, accuracy %g in [0, 1]", name, i, m->d_loss, m->acc);
    if (loss == CLGAN_LOSS_LSGAN)
      CHECK(m->g_loss >= 0, "%s window %d: G loss %g >= 0", name, i, m->g_loss);
    above += m->d_real > m->d_fake;
    acc += m->acc / a.n;
  }
  double first = a.m[0].d_real - a.m[0].d_fake, last = a.m[3].d_real - a.m[3].d_fake;
  CHECK(above == 4 && last > first + 0.01, "%s: D(x) above D(G(z)) in %d of 4 windows, the gap "
        "%.4f at step 5, %.4f at step 20 (wider by 0.01)", name, above, first, last);
  if (loss == CLGAN_LOSS_HINGE)
    CHECK(acc > 0.6, "%s: D's accuracy %.3f over 20 steps (> 0.6)", name, acc);

  CHECK(clgan_trainer_create(&tb, dev, &cfg, data) == CLGAN_OK, "%s: trainer b", name);
  run_to(tb, 12, &b);
  CHECK(clgan_trainer_save(tb, ckpt) == CLGAN_OK, "%s: save at step 12", name);
  clgan_train_cfg loaded;
  int rows = 0, cols = 0;
  CHECK(clgan_checkpoint_cfg(ckpt, &loaded, &rows, &cols) == CLGAN_OK && loaded.loss == loss,
        "%s: the checkpoint records the loss", name);
  CHECK(clgan_trainer_create(&tc, dev, &loaded, data) == CLGAN_OK, "%s: trainer c", name);
  CHECK(clgan_trainer_load(tc, ckpt) == CLGAN_OK, "%s: load", name);
  c.n = 2;
  run_to(tc, 20, &c);
  snapshot(dev, tc, &c);
  CHECK(same_run(&a, 2, &c, 2, 2), "%s: resumed at 12, metrics at 15 and 20 and the final "
        "weights equal the uninterrupted run's, bit for bit", name);
  remove(ckpt);
  clgan_trainer_free(ta);
  clgan_trainer_free(tb);
  clgan_trainer_free(tc);
  free(a.params);
  free(b.params);
  free(c.params);
}

/* Spectral normalisation in both networks (hinge loss, as in Miyato et al. 2018): two runs of
 * 20 steps are bitwise identical, u and v included; a run interrupted at 12 and resumed from
 * its checkpoint equals the uninterrupted one bit for bit (u and v restored exactly: one ulp
 * of sigma would change every weight); the checkpoint names the tensors as spectral_norm's
 * state_dict does (weight_orig, weight_u, weight_v, bias, no weight); and the generator loaded
 * alone (clgan sample, clgan eval) draws the trainer's images. */
static void train_sn(clgan_device *dev, const clgan_train_data *data, const char *dir) {
  clgan_train_cfg cfg = small_cfg();
  cfg.loss = CLGAN_LOSS_HINGE;
  snprintf(cfg.g_spec, sizeof cfg.g_spec, "linear:16:sn,relu,linear:%d:sn,tanh", SIDE * SIDE);
  snprintf(cfg.d_spec, sizeof cfg.d_spec, "linear:16:sn,lrelu:0.2,linear:1:sn,sigmoid");
  char ckpt[256];
  snprintf(ckpt, sizeof ckpt, "%s/sn.safetensors", dir);
  run_result a = {0}, b = {0}, c = {0};
  clgan_trainer *ta = NULL, *tb = NULL, *tc = NULL;
  CHECK(clgan_trainer_create(&ta, dev, &cfg, data) == CLGAN_OK, "sn: trainer a");
  CHECK(clgan_trainer_create(&tb, dev, &cfg, data) == CLGAN_OK, "sn: trainer b");
  if (!ta || !tb) return;
  run_result init = {0};
  snapshot(dev, ta, &init);
  run_to(ta, 20, &a);
  snapshot(dev, ta, &a);
  CHECK(a.n == 4 && run_finite(&a), "sn: 4 metrics windows and all weights finite");
  CHECK(memcmp(init.params + init.params_n - 64, a.params + a.params_n - 64, 64 * sizeof(float)),
        "sn: the power iteration moved v");
  run_result b12 = {0};
  run_to(tb, 12, &b12);
  CHECK(clgan_trainer_save(tb, ckpt) == CLGAN_OK, "sn: save at step 12");
  run_to(tb, 20, &b);
  snapshot(dev, tb, &b);
  CHECK(same_run(&a, 2, &b, 0, 2) && !memcmp(b12.m, a.m, 2 * sizeof a.m[0]),
        "sn: same seed, bitwise-identical metrics, weights, u and v (a save in between changes "
        "nothing)");

  clgan_st_file *f = NULL;
  CHECK(clgan_st_open(ckpt, &f) == CLGAN_OK, "sn: open the checkpoint");
  const char *names[] = {"discriminator.0.weight_orig", "discriminator.0.bias",
                         "discriminator.2.weight_u", "generator.2.weight_v",
                         "optimizer.discriminator.2.weight_orig.exp_avg"};
  int64_t sizes[] = {16 * SIDE * SIDE, 16, 1, 16, 16};
  for (size_t i = 0; f && i < sizeof names / sizeof names[0]; i++) {
    const clgan_st_tensor *t = clgan_st_find(f, names[i]);
    CHECK(t && t->nbytes == (size_t)sizes[i] * sizeof(float), "sn: the checkpoint holds %s (%lld "
          "floats)", names[i], (long long)sizes[i]);
  }
  CHECK(f && !clgan_st_find(f, "discriminator.0.weight") && !clgan_st_find(f, "generator.2.weight"),
        "sn: no plain weight tensor, as in spectral_norm's state_dict");
  clgan_st_close(f);

  clgan_train_cfg loaded;
  int rows = 0, cols = 0;
  CHECK(clgan_checkpoint_cfg(ckpt, &loaded, &rows, &cols) == CLGAN_OK &&
            !strcmp(loaded.d_spec, cfg.d_spec),
        "sn: the checkpoint records the specs with sn");
  CHECK(clgan_trainer_create(&tc, dev, &loaded, data) == CLGAN_OK, "sn: trainer c");
  CHECK(tc && clgan_trainer_load(tc, ckpt) == CLGAN_OK, "sn: load");
  c.n = 2;
  if (tc) {
    run_to(tc, 20, &c);
    snapshot(dev, tc, &c);
  }
  CHECK(same_run(&a, 2, &c, 2, 2), "sn: resumed at 12, metrics at 15 and 20, the final weights, u "
        "and v equal the uninterrupted run's, bit for bit");

  enum { COUNT_Z = 5 };
  float z[COUNT_Z * 8], want[COUNT_Z * 64], got[COUNT_Z * 64];
  clgan_fixed_latent(z, COUNT_Z, 8, 3);
  clgan_net g;
  CHECK(clgan_trainer_save(ta, ckpt) == CLGAN_OK, "sn: save at step 20");
  CHECK(clgan_generate(clgan_trainer_generator(ta), z, COUNT_Z, 8, want) == CLGAN_OK,
        "sn: trainer's generator");
  CHECK(clgan_checkpoint_load_generator(ckpt, dev, &g, &loaded, &rows, &cols, COUNT_Z,
                                        CLGAN_GEN_AUTO, NULL) ==
            CLGAN_OK,
        "sn: load_generator");
  if (g.count) {
    CHECK(clgan_generate(&g, z, COUNT_Z, 8, got) == CLGAN_OK &&
              !memcmp(got, want, sizeof got),
          "sn: the generator loaded alone draws the trainer's images, bit for bit");
    clgan_net_free(&g);
  }
  remove(ckpt);
  clgan_trainer_free(ta);
  clgan_trainer_free(tb);
  clgan_trainer_free(tc);
  free(init.params);
  free(a.params);
  free(b.params);
  free(b12.params);
  free(c.params);
}

/* clgan_checkpoint_load_generator: the generator of a trained checkpoint, loaded alone, draws
 * the same images as the trainer's generator, bit for bit; a damaged file, a file whose
 * generator tensors do not fit its generator spec, and a file that is not a checkpoint are
 * refused with the net left empty. */
static void test_load_generator(clgan_device *dev, clgan_trainer *t, const char *dir) {
  char ckpt[256], bad[256];
  snprintf(ckpt, sizeof ckpt, "%s/gen.safetensors", dir);
  snprintf(bad, sizeof bad, "%s/gen-bad.safetensors", dir);
  CHECK(clgan_trainer_save(t, ckpt) == CLGAN_OK, "save for load_generator");
  const clgan_train_cfg *tcfg = clgan_trainer_cfg(t);
  enum { COUNT_Z = 6 };
  float z[COUNT_Z * 8], want[COUNT_Z * 64], got[COUNT_Z * 64];
  clgan_fixed_latent(z, COUNT_Z, 8, 77);
  CHECK(clgan_generate(clgan_trainer_generator(t), z, COUNT_Z, 8, want) == CLGAN_OK,
        "trainer's generator");
  clgan_net g;
  clgan_train_cfg cfg;
  int rows = 0, cols = 0;
  clgan_status st = clgan_checkpoint_load_generator(ckpt, dev, &g, &cfg, &rows, &cols, COUNT_Z, CLGAN_GEN_AUTO, NULL);
  CHECK(st == CLGAN_OK, "load_generator: %s", clgan_status_name(st));
  if (st == CLGAN_OK) {
    CHECK(rows == SIDE && cols == SIDE && cfg.latent == tcfg->latent &&
              !strcmp(cfg.g_spec, tcfg->g_spec) && cfg.seed == tcfg->seed,
          "load_generator gives back the image size, latent size, spec and seed");
    CHECK(clgan_generate(&g, z, COUNT_Z, 8, got) == CLGAN_OK, "loaded generator");
    CHECK(!memcmp(got, want, sizeof got), "the generator loaded alone draws the trainer's "
          "images, bit for bit");
    clgan_net_free(&g);
  }

  long size = file_size(ckpt);
  long cuts[] = {0, 9, size / 2, size - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    copy_truncated(ckpt, bad, cuts[i]);
    st = clgan_checkpoint_load_generator(bad, dev, &g, &cfg, &rows, &cols, COUNT_Z, CLGAN_GEN_AUTO, NULL);
    CHECK(st != CLGAN_OK && g.count == 0 && g.arena_n == 0,
          "load_generator refuses a checkpoint cut to %ld bytes (%s)", cuts[i],
          clgan_status_name(st));
  }
  copy_truncated(ckpt, bad, size);
  flip_byte(bad, size - 5); /* in the last tensor's data: only the CRC can tell */
  st = clgan_checkpoint_load_generator(bad, dev, &g, &cfg, &rows, &cols, COUNT_Z, CLGAN_GEN_AUTO, NULL);
  CHECK(st != CLGAN_OK && g.count == 0, "load_generator refuses a flipped data byte (%s)",
        clgan_status_name(st));

  /* Another spec: "linear:16," made "linear:17," in the header, with the CRC's and the
   * version's keys renamed so that the mismatch, not the checksum, is what refuses the file. */
  FILE *f = fopen(ckpt, "rb");
  char *buf = malloc((size_t)size);
  CHECK(f && fread(buf, 1, (size_t)size, f) == (size_t)size, "read %s", ckpt);
  if (f) fclose(f);
  char *spec = find_bytes(buf, (size_t)size, "\"linear:16,relu", 15);
  char *crc = find_bytes(buf, (size_t)size, "clgan.crc32", 11);
  char *ver = find_bytes(buf, (size_t)size, "clgan.version", 13);
  CHECK(spec && crc && ver, "the header holds the generator spec, clgan.crc32 and clgan.version");
  if (spec && crc && ver) {
    spec[9] = '7';
    crc[10] = 'X'; /* both renamed: a file another tool edited on purpose (safetensors.c) */
    ver[12] = 'X';
    f = fopen(bad, "wb");
    fwrite(buf, 1, (size_t)size, f);
    fclose(f);
    st = clgan_checkpoint_load_generator(bad, dev, &g, &cfg, &rows, &cols, COUNT_Z, CLGAN_GEN_AUTO, NULL);
    CHECK(st == CLGAN_BAD_FORMAT && g.count == 0,
          "load_generator refuses a generator spec its tensors do not fit (%s)",
          clgan_status_name(st));
  }
  free(buf);
  st = clgan_checkpoint_load_generator(CLGAN_TEST_DATA_DIR "/classifier_forward.safetensors", dev,
                                       &g, &cfg, &rows, &cols, COUNT_Z, CLGAN_GEN_AUTO, NULL);
  CHECK(st == CLGAN_BAD_FORMAT && g.count == 0, "load_generator refuses a classifier file (%s)",
        clgan_status_name(st));
  remove(ckpt);
  remove(bad);
}

/* DiffAugment: twice 20 steps, equal bit for bit; 12 steps, saved, resumed to 20: equal to the
 * uninterrupted run; the same run without augmentation differs; the checkpoint records the
 * policy and a trainer of another policy refuses it. */
static void train_diffaug(clgan_device *dev, const clgan_train_data *data, clgan_train_cfg cfg,
                          const char *name, const char *dir) {
  char ckpt[256];
  snprintf(ckpt, sizeof ckpt, "%s/diffaug.safetensors", dir);
  run_result a = {0}, a2 = {0}, c = {0}, plain = {0};
  clgan_trainer *ta = NULL, *ta2 = NULL, *tb = NULL, *tc = NULL, *tp = NULL;
  CHECK(clgan_trainer_create(&ta, dev, &cfg, data) == CLGAN_OK &&
            clgan_trainer_create(&ta2, dev, &cfg, data) == CLGAN_OK,
        "%s: trainers", name);
  if (!ta || !ta2) return;
  run_to(ta, 20, &a);
  snapshot(dev, ta, &a);
  run_to(ta2, 20, &a2);
  snapshot(dev, ta2, &a2);
  CHECK(a.n == 4 && run_finite(&a), "%s: 4 metrics windows, every value finite", name);
  CHECK(same_run(&a, 0, &a2, 0, 4), "%s: the same seed gives the same run, bit for bit", name);
  clgan_train_cfg off = cfg;
  off.diffaug = 0;
  CHECK(clgan_trainer_create(&tp, dev, &off, data) == CLGAN_OK, "%s: trainer without", name);
  run_to(tp, 5, &plain);
  CHECK(memcmp(&plain.m[0], &a.m[0], sizeof a.m[0]) != 0, "%s: DiffAugment changes the run",
        name);

  CHECK(clgan_trainer_create(&tb, dev, &cfg, data) == CLGAN_OK, "%s: trainer b", name);
  run_result b = {0};
  run_to(tb, 12, &b);
  CHECK(clgan_trainer_save(tb, ckpt) == CLGAN_OK, "%s: save at step 12", name);
  clgan_train_cfg loaded;
  int rows = 0, cols = 0;
  CHECK(clgan_checkpoint_cfg(ckpt, &loaded, &rows, &cols) == CLGAN_OK &&
            loaded.diffaug == cfg.diffaug,
        "%s: the checkpoint records the policy", name);
  CHECK(clgan_trainer_create(&tc, dev, &loaded, data) == CLGAN_OK &&
            clgan_trainer_load(tc, ckpt) == CLGAN_OK,
        "%s: resume", name);
  c.n = 2;
  run_to(tc, 20, &c);
  snapshot(dev, tc, &c);
  CHECK(same_run(&a, 2, &c, 2, 2), "%s: resumed at 12, metrics at 15 and 20 and the final "
        "weights equal the uninterrupted run's, bit for bit", name);
  clgan_set_log(keep_error, NULL);
  last_error[0] = '\0';
  CHECK(clgan_trainer_load(tp, ckpt) == CLGAN_INVALID_ARGUMENT &&
            strstr(last_error, "DiffAugment policy"),
        "%s: a trainer without DiffAugment refuses the checkpoint: %s", name, last_error);
  clgan_set_log(NULL, NULL);
  remove(ckpt);
  clgan_trainer *ts[] = {ta, ta2, tb, tc, tp};
  for (int i = 0; i < 5; i++) clgan_trainer_free(ts[i]);
  free(a.params), free(a2.params), free(b.params), free(c.params), free(plain.params);
}

static void read_arena(clgan_device *dev, clgan_net *net, float *host) {
  CHECK(clgan_buffer_read(dev, &net->params, 0, net->arena_n * sizeof *host, host) == CLGAN_OK,
        "read the parameters");
}

/* One step of a linear G (latent -> 64, y = W z + c) and a linear critic (D(x) = w.x + v),
 * WGAN losses, SGD without momentum, on a data set of one image repeated, so that every real
 * row is that image whatever the order. Then, with A_b the augmentation of row b:
 *   D step:  w' = w - lr/B sum_b (A_b(fake_b) - A_b(real)),  draws (seed, 0, 7) and (seed, 0, 6)
 *   G step:  c' = c + lr/B sum_b A_b^T w',                   draws (seed, 0, 8)
 * (G's loss is -mean D(A_b(y_b)): dL/dy_b = -A_b^T w' / B). Both are computed here from the
 * C reference; without the transpose c' - c would be lr w', which is checked to differ. */
static void test_diffaug_flow(clgan_device *dev, int batch) {
  enum { DIM = SIDE * SIDE };
  uint8_t img[DIM];
  for (int p = 0; p < DIM; p++) img[p] = (uint8_t)(p * 37 % 251);
  uint8_t *pixels = malloc(COUNT * DIM);
  for (int i = 0; i < COUNT; i++) memcpy(pixels + i * DIM, img, DIM);
  clgan_train_data data = {.count = COUNT, .rows = SIDE, .cols = SIDE};
  CHECK(clgan_buffer_alloc(dev, &data.images, COUNT * DIM) == CLGAN_OK &&
            clgan_buffer_write(dev, &data.images, 0, COUNT * DIM, pixels) == CLGAN_OK,
        "upload one image repeated");
  clgan_train_cfg cfg = small_cfg();
  snprintf(cfg.g_spec, sizeof cfg.g_spec, "linear:%d", DIM);
  snprintf(cfg.d_spec, sizeof cfg.d_spec, "linear:1");
  cfg.batch = batch;
  cfg.loss = CLGAN_LOSS_WGAN;
  cfg.opt_g = cfg.opt_d = (clgan_opt_cfg){.kind = CLGAN_OPT_SGD, .lr = 0.5};
  cfg.diffaug = CLGAN_AUG_ALL;
  clgan_trainer *t = NULL;
  CHECK(clgan_trainer_create(&t, dev, &cfg, &data) == CLGAN_OK, "flow trainer, batch %d", batch);
  if (!t) return;
  clgan_net *g = clgan_trainer_generator(t), *d = clgan_trainer_discriminator(t);
  float *g0 = malloc(g->arena_n * sizeof *g0), *g1 = malloc(g->arena_n * sizeof *g1);
  float *d0 = malloc(d->arena_n * sizeof *d0), *d1 = malloc(d->arena_n * sizeof *d1);
  float *fake = malloc((size_t)batch * DIM * sizeof *fake), *aug = malloc(DIM * sizeof *aug);
  float *real = malloc((size_t)batch * DIM * sizeof *real), *back = malloc(DIM * sizeof *back);
  read_arena(dev, g, g0);
  read_arena(dev, d, d0);
  CHECK(clgan_trainer_step(t) == CLGAN_OK, "one step");
  read_arena(dev, g, g1);
  read_arena(dev, d, d1);
  /* G has not run since the D step: its output is that step's fake batch. */
  CHECK(clgan_buffer_read(dev, g->output, 0, (size_t)batch * DIM * sizeof *fake, fake) ==
            CLGAN_OK, "read the fake batch");
  for (int b = 0; b < batch; b++)
    for (int p = 0; p < DIM; p++) real[b * DIM + p] = clgan_pixel_to_unit(img[p]);

  const clgan_layer *dl = &d->layers[0], *gl = &g->layers[0];
  double want_w[DIM] = {0}, want_c[DIM] = {0};
  clgan_aug_cfg key = {.policy = CLGAN_AUG_ALL, .n = batch, .c = 1, .h = SIDE, .w = SIDE,
                       .seed = cfg.seed, .step = 0};
  float *af = malloc((size_t)batch * DIM * sizeof *af), *ar = malloc((size_t)batch * DIM * sizeof *ar);
  key.stream = 7;
  clgan_ref_augment_forward(&key, af, fake);
  key.stream = 6;
  clgan_ref_augment_forward(&key, ar, real);
  for (int b = 0; b < batch; b++)
    for (int p = 0; p < DIM; p++)
      want_w[p] -= cfg.opt_d.lr / batch * ((double)af[b * DIM + p] - ar[b * DIM + p]);
  /* The G step's A^T w', per row: the reference on a batch of w' rows. */
  float *wrows = malloc((size_t)batch * DIM * sizeof *wrows);
  for (int b = 0; b < batch; b++) memcpy(wrows + b * DIM, d1 + dl->w_off, DIM * sizeof(float));
  key.stream = 8;
  clgan_ref_augment_backward(&key, af, wrows);
  for (int b = 0; b < batch; b++)
    for (int p = 0; p < DIM; p++) want_c[p] += cfg.opt_g.lr / batch * af[b * DIM + p];
  double err_w = 0, err_c = 0, plain = 0, scale = 0;
  for (int p = 0; p < DIM; p++) {
    double dw = (double)d1[dl->w_off + p] - d0[dl->w_off + p];
    double dc = (double)g1[gl->b_off + p] - g0[gl->b_off + p];
    err_w = fmax(err_w, fabs(dw - want_w[p]));
    err_c = fmax(err_c, fabs(dc - want_c[p]));
    plain = fmax(plain, fabs(dc - cfg.opt_g.lr * d1[dl->w_off + p]));
    scale = fmax(scale, fabs(want_c[p]));
  }
  printf("diffaug flow, batch %d: D update off by %.3g, G bias update off by %.3g (largest "
         "%.3g); without A^T it would be off by %.3g\n", batch, err_w, err_c, scale, plain);
  CHECK(err_w < 1e-5, "batch %d: D's update is the reference's on the augmented real and fake "
        "batches (off by %.3g)", batch, err_w);
  CHECK(err_c < 1e-5, "batch %d: G's bias update is lr/B sum_b A_b^T w' (off by %.3g)", batch,
        err_c);
  CHECK(plain > 100 * 1e-5, "batch %d: the augmentation changes G's update (%.3g)", batch, plain);
  CHECK(d1[dl->b_off] == d0[dl->b_off], "batch %d: the critic's bias has no WGAN gradient", batch);
  free(g0), free(g1), free(d0), free(d1), free(fake), free(aug), free(real), free(back);
  free(af), free(ar), free(wrows), free(pixels);
  clgan_trainer_free(t);
  clgan_buffer_free(&data.images);
}

int main(void) {
  test_gemm_shapes();
  clgan_device *dev = test_open_device();
  uint8_t *pixels = malloc(COUNT * SIDE * SIDE);
  for (int i = 0; i < COUNT; i++) /* stripes of a per-image phase: structure D can learn */
    for (int p = 0; p < SIDE * SIDE; p++)
      pixels[i * SIDE * SIDE + p] = (uint8_t)(((p % SIDE + i % 3) % 3 == 0) ? 230 : 20 + i % 7);
  clgan_train_data data = {.count = COUNT, .rows = SIDE, .cols = SIDE};
  CHECK(clgan_buffer_alloc(dev, &data.images, COUNT * SIDE * SIDE) == CLGAN_OK, "upload");
  clgan_buffer_write(dev, &data.images, 0, COUNT * SIDE * SIDE, pixels);
  clgan_train_cfg cfg = small_cfg();

  /* Same seed, same device: identical. */
  run_result a = {0}, b = {0}, c = {0};
  clgan_trainer *ta = NULL, *tb = NULL, *tc = NULL;
  CHECK(clgan_trainer_create(&ta, dev, &cfg, &data) == CLGAN_OK, "trainer a");
  run_to(ta, 20, &a);
  snapshot(dev, ta, &a);
  CHECK(clgan_trainer_epoch(ta) == 2, "20 steps of 10 per epoch end in epoch 2 (got %d)",
        clgan_trainer_epoch(ta));
  CHECK(clgan_trainer_create(&tb, dev, &cfg, &data) == CLGAN_OK, "trainer b");
  run_to(tb, 20, &b);
  snapshot(dev, tb, &b);
  CHECK(same_run(&a, 0, &b, 0, 4), "same seed: bitwise-identical metrics and weights");
  for (int i = 0; i < 4; i++)
    CHECK(a.m[i].d_loss > 0 && a.m[i].g_loss > 0 && a.m[i].d_real > 0 && a.m[i].d_real < 1 &&
              a.m[i].acc >= 0 && a.m[i].acc <= 1 && a.m[i].steps == 5,
          "metrics window %d is sane (D %g, G %g, D(x) %g)", i, a.m[i].d_loss, a.m[i].g_loss,
          a.m[i].d_real);

  /* A different seed differs. */
  clgan_train_cfg other = cfg;
  other.seed = 99;
  clgan_trainer *to = NULL;
  run_result o = {0};
  CHECK(clgan_trainer_create(&to, dev, &other, &data) == CLGAN_OK, "trainer other");
  run_to(to, 5, &o);
  CHECK(memcmp(&o.m[0], &a.m[0], sizeof o.m[0]) != 0, "another seed gives another run");
  clgan_trainer_free(to);

  /* Interrupted at 12, resumed: the same as the uninterrupted run. */
  char dir[] = "/tmp/clgan-test-trainer-XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  char ckpt[256], bad[256];
  snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", dir);
  snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);
  clgan_trainer_free(tb);
  tb = NULL;
  CHECK(clgan_trainer_create(&tb, dev, &cfg, &data) == CLGAN_OK, "trainer b2");
  run_result b2 = {0};
  run_to(tb, 12, &b2);
  CHECK(clgan_trainer_save(tb, ckpt) == CLGAN_OK, "save at step 12");
  clgan_trainer_free(tb);
  tb = NULL;

  clgan_train_cfg loaded;
  int rows = 0, cols = 0;
  CHECK(clgan_checkpoint_cfg(ckpt, &loaded, &rows, &cols) == CLGAN_OK && rows == SIDE &&
            cols == SIDE && !strcmp(loaded.g_spec, cfg.g_spec) && loaded.seed == cfg.seed &&
            loaded.opt_g.lr == cfg.opt_g.lr && loaded.opt_d.beta1 == cfg.opt_d.beta1 &&
            loaded.batch == cfg.batch,
        "the checkpoint's metadata gives back the configuration");
  CHECK(clgan_trainer_create(&tc, dev, &loaded, &data) == CLGAN_OK, "trainer c");
  CHECK(clgan_trainer_load(tc, ckpt) == CLGAN_OK, "load");
  CHECK(clgan_trainer_step_count(tc) == 12, "resumed at step 12");
  c.n = 2; /* windows 0 and 1 were read before the checkpoint */
  run_to(tc, 20, &c);
  snapshot(dev, tc, &c);
  CHECK(same_run(&a, 2, &c, 2, 2), "resumed at 12: metrics at 15 and 20 and the final weights "
                                  "equal the uninterrupted run's, bit for bit");

  /* Damaged checkpoints are refused and leave the trainer as it was. */
  long size = file_size(ckpt);
  long cuts[] = {0, 4, 8, 9, 100, size / 2, size - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    copy_truncated(ckpt, bad, cuts[i]);
    clgan_status st = clgan_trainer_load(tc, bad);
    CHECK(st == CLGAN_BAD_FORMAT || st == CLGAN_IO_ERROR,
          "a checkpoint truncated to %ld bytes is refused (%s)", cuts[i], clgan_status_name(st));
  }
  long flips[] = {3, 20, size / 3, size - 5};
  for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
    copy_truncated(ckpt, bad, size);
    flip_byte(bad, flips[i]);
    clgan_status st = clgan_trainer_load(tc, bad);
    CHECK(st != CLGAN_OK, "a checkpoint with byte %ld flipped is refused", flips[i]);
  }
  run_result after = {0};
  snapshot(dev, tc, &after);
  CHECK(after.params_n == c.params_n &&
            !memcmp(after.params, c.params, c.params_n * sizeof(float)) &&
            clgan_trainer_step_count(tc) == 20,
        "refused loads changed nothing");
  clgan_train_cfg mismatch = cfg;
  snprintf(mismatch.g_spec, sizeof mismatch.g_spec, "linear:32,relu,linear:%d,tanh", SIDE * SIDE);
  clgan_trainer *tm = NULL;
  CHECK(clgan_trainer_create(&tm, dev, &mismatch, &data) == CLGAN_OK, "trainer mismatch");
  CHECK(clgan_trainer_load(tm, ckpt) == CLGAN_INVALID_ARGUMENT, "a checkpoint of another model "
                                                              "is refused");
  clgan_trainer_free(tm);

  /* The other options run, stay finite and deterministic: RMSprop, SGD, minimax, label
   * smoothing, two D steps, gradient clipping. */
  clgan_train_cfg v = cfg;
  v.opt_d.kind = CLGAN_OPT_RMSPROP;
  v.opt_d.lr = 1e-3;
  v.opt_g.kind = CLGAN_OPT_SGD;
  v.opt_g.lr = 1e-2;
  v.opt_g.momentum = 0.9f;
  v.loss = CLGAN_LOSS_BCE_MINIMAX;
  v.real_label = 0.9f;
  v.d_steps = 2;
  v.clip_norm = 0.5f;
  run_result v1 = {0}, v2 = {0};
  for (int k = 0; k < 2; k++) {
    clgan_trainer *tv = NULL;
    CHECK(clgan_trainer_create(&tv, dev, &v, &data) == CLGAN_OK, "variant trainer");
    run_to(tv, 10, k ? &v2 : &v1);
    snapshot(dev, tv, k ? &v2 : &v1);
    CHECK(clgan_trainer_epoch(tv) == 2, "two D steps per G step use twice the data");
    clgan_trainer_free(tv);
  }
  CHECK(same_run(&v1, 0, &v2, 0, 2), "variant options are deterministic too");
  CHECK(run_finite(&v1) && run_finite(&a) && run_finite(&c),
        "every metric and weight stays finite (variant, the first run, the resumed run)");
  CHECK(v1.m[1].g_loss < 0, "the minimax G loss log(1 - D(G(z))) is negative (%g)", v1.m[1].g_loss);

  /* Generation from a fixed latent batch is deterministic and not constant. */
  float z[4 * 8], img1[4 * 64], img2[4 * 64];
  clgan_fixed_latent(z, 4, 8, 5);
  CHECK(clgan_generate(clgan_trainer_generator(tc), z, 4, 8, img1) == CLGAN_OK, "generate");
  CHECK(clgan_generate(clgan_trainer_generator(tc), z, 4, 8, img2) == CLGAN_OK, "generate again");
  CHECK(!memcmp(img1, img2, sizeof img1), "generation is deterministic");
  CHECK(memcmp(img1, img1 + 64, 64 * sizeof(float)) != 0, "different latents, different images");

  test_bad_metadata(tc, ckpt, bad);
  test_load_generator(dev, tc, dir);
  train_loss_kind(dev, &data, CLGAN_LOSS_HINGE, dir);
  train_loss_kind(dev, &data, CLGAN_LOSS_LSGAN, dir);
  clgan_train_cfg aug = cfg;
  aug.diffaug = CLGAN_AUG_ALL;
  train_diffaug(dev, &data, aug, "diffaug bce", dir);
  aug.loss = CLGAN_LOSS_WGAN_GP;
  aug.batch = 20; /* 80 bytes a row of losses: not a multiple of an alignment, so not fused */
  snprintf(aug.d_spec, sizeof aug.d_spec, "linear:16,lrelu:0.2,linear:1");
  train_diffaug(dev, &data, aug, "diffaug wgan-gp", dir);
  test_diffaug_flow(dev, 32);
  test_diffaug_flow(dev, 5);
  train_sn(dev, &data, dir);

  remove(ckpt);
  remove(bad);
  rmdir(dir);
  clgan_trainer_free(ta);
  clgan_trainer_free(tc);
  free(a.params);
  free(b.params);
  free(b2.params);
  free(c.params);
  free(after.params);
  free(v1.params);
  free(v2.params);
  free(pixels);
  clgan_buffer_free(&data.images);
  clgan_device_close(dev);
  return test_finish();
}
