/* Conditional training (issue 12) at the trainer level, on small 8x8 images whose stripe phase
 * is their label: for a concatenating MLP (BCE, the fused D step), a projection discriminator
 * with WGAN-GP (the penalty's double backward through the projection) and one with hinge loss
 * and an EMA generator: two runs with one seed are bitwise identical; a run interrupted at 12
 * and resumed from its checkpoint equals the uninterrupted one bit for bit (the labels drawn
 * for the fake batches continue exactly); the labels matter (another labelling, another run);
 * the checkpoint records the classes and the generator loaded alone draws the trainer's images
 * for given classes. Refused: conditional training without labels, a conditional checkpoint
 * resumed unconditionally, a class outside the generator's. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clgan/gan.h"
#include "harness.h"

#define COUNT 96
#define SIDE 8
#define CLASSES 3

typedef struct {
  clgan_metrics m[8];
  int n;
  float *params;
  size_t params_n;
} run_result;

static void run_to(clgan_trainer *t, long until, run_result *r) {
  while (clgan_trainer_step_count(t) < until) {
    CHECK(clgan_trainer_step(t) == CLGAN_OK, "step");
    if (clgan_trainer_step_count(t) % 5 == 0 && r->n < 8)
      CHECK(clgan_trainer_metrics(t, &r->m[r->n++]) == CLGAN_OK, "metrics");
  }
}

/* Both arenas (the class embedding included) and the EMA generator's. */
static void snapshot(clgan_device *dev, clgan_trainer *t, run_result *r) {
  clgan_net *nets[3] = {clgan_trainer_generator(t), clgan_trainer_discriminator(t),
                        clgan_trainer_sampler(t)};
  r->params_n = nets[0]->arena_n + nets[1]->arena_n + nets[2]->arena_n;
  r->params = malloc(r->params_n * sizeof(float));
  float *at = r->params;
  for (int n = 0; n < 3; n++) {
    clgan_buffer_read(dev, &nets[n]->params, 0, nets[n]->arena_n * sizeof(float), at);
    at += nets[n]->arena_n;
  }
}

static int same_run(const run_result *a, int a_first, const run_result *b, int b_first, int n) {
  for (int i = 0; i < n; i++)
    if (memcmp(&a->m[a_first + i], &b->m[b_first + i], sizeof a->m[0]) != 0) return 0;
  return a->params_n == b->params_n &&
         memcmp(a->params, b->params, a->params_n * sizeof(float)) == 0;
}

static int finite(const run_result *r) {
  for (int i = 0; i < r->n; i++)
    if (!isfinite(r->m[i].d_loss) || !isfinite(r->m[i].g_loss)) return 0;
  for (size_t i = 0; i < r->params_n; i++)
    if (!isfinite(r->params[i])) return 0;
  return r->n > 0;
}

static void train_case(clgan_device *dev, const clgan_train_data *data,
                       const clgan_train_data *relabelled, clgan_train_cfg cfg,
                       const char *name, const char *dir) {
  char ckpt[300];
  snprintf(ckpt, sizeof ckpt, "%s/cond.safetensors", dir);
  run_result a = {0}, b = {0}, c = {0}, d = {0}, skip = {0};
  clgan_trainer *ta = NULL, *tb = NULL, *tc = NULL, *td = NULL;
  CHECK(clgan_trainer_create(&ta, dev, &cfg, data) == CLGAN_OK, "%s: trainer a", name);
  CHECK(clgan_trainer_create(&tb, dev, &cfg, data) == CLGAN_OK, "%s: trainer b", name);
  CHECK(clgan_trainer_create(&td, dev, &cfg, relabelled) == CLGAN_OK, "%s: trainer d", name);
  if (!ta || !tb || !td) goto done;
  run_to(ta, 20, &a);
  snapshot(dev, ta, &a);
  run_to(tb, 12, &skip);
  CHECK(clgan_trainer_save(tb, ckpt) == CLGAN_OK, "%s: save at 12", name);
  run_to(tb, 20, &b);
  snapshot(dev, tb, &b);
  CHECK(same_run(&a, 0, &b, 0, 0) && finite(&a),
        "%s: same seed: bitwise-identical weights (a save in between changes nothing), finite",
        name);
  run_to(td, 20, &d);
  snapshot(dev, td, &d);
  CHECK(!same_run(&a, 0, &d, 0, 0), "%s: other labels, another run", name);

  clgan_train_cfg loaded;
  int rows = 0, cols = 0;
  CHECK(clgan_checkpoint_cfg(ckpt, &loaded, &rows, &cols) == CLGAN_OK &&
            loaded.classes == CLASSES,
        "%s: the checkpoint records %d classes (%d)", name, CLASSES, loaded.classes);
  CHECK(clgan_trainer_create(&tc, dev, &loaded, data) == CLGAN_OK, "%s: trainer c", name);
  if (!tc) goto done;
  CHECK(clgan_trainer_load(tc, ckpt) == CLGAN_OK, "%s: load", name);
  c.n = 2;
  run_to(tc, 20, &c);
  snapshot(dev, tc, &c);
  CHECK(same_run(&a, 2, &c, 2, 2), "%s: resumed at 12: metrics at 15 and 20 and every weight "
        "equal the uninterrupted run's, bit for bit", name);

  /* The generator alone, for given classes, draws the trainer's images. */
  CHECK(clgan_trainer_save(tc, ckpt) == CLGAN_OK, "%s: save at 20", name);
  clgan_net g = {0};
  float z[6 * 8], want[6 * 64], got[6 * 64];
  int32_t labels[6] = {0, 1, 2, 2, 1, 0}, bad_labels[6] = {0, 1, 3, 0, 0, 0};
  clgan_fixed_latent(z, 6, 8, 3);
  CHECK(clgan_generate_labels(clgan_trainer_sampler(tc), z, labels, 6, 8, want) == CLGAN_OK,
        "%s: generate", name);
  CHECK(clgan_checkpoint_load_generator(ckpt, dev, &g, &loaded, &rows, &cols, 6, CLGAN_GEN_AUTO,
                                        NULL) == CLGAN_OK &&
            g.cond.kind == CLGAN_COND_CONCAT && g.cond.classes == CLASSES,
        "%s: load_generator builds the conditional generator", name);
  if (g.layers) {
    CHECK(clgan_generate_labels(&g, z, labels, 6, 8, got) == CLGAN_OK &&
              !memcmp(got, want, sizeof got),
          "%s: the generator loaded alone draws the trainer's images, bit for bit", name);
    CHECK(memcmp(got, got + 5 * 64, 64 * sizeof(float)) != 0, "%s: classes change the image",
          name);
    CHECK(clgan_generate_labels(&g, z, bad_labels, 6, 8, got) == CLGAN_INVALID_ARGUMENT,
          "%s: class 3 of 3 is refused", name);
  }
  clgan_net_free(&g);

  /* A conditional checkpoint does not resume an unconditional run. */
  clgan_train_cfg plain = cfg;
  plain.classes = 0;
  clgan_trainer *tp = NULL;
  CHECK(clgan_trainer_create(&tp, dev, &plain, data) == CLGAN_OK, "%s: unconditional", name);
  if (tp) CHECK(clgan_trainer_load(tp, ckpt) == CLGAN_INVALID_ARGUMENT,
                "%s: a conditional checkpoint is refused by an unconditional run", name);
  clgan_trainer_free(tp);
done:
  remove(ckpt);
  clgan_trainer_free(ta);
  clgan_trainer_free(tb);
  clgan_trainer_free(tc);
  clgan_trainer_free(td);
  free(a.params);
  free(b.params);
  free(c.params);
  free(d.params);
  free(skip.params);
}

int main(void) {
  clgan_device *dev = test_open_device();
  uint8_t pixels[COUNT * SIDE * SIDE], labels[COUNT], other[COUNT];
  for (int i = 0; i < COUNT; i++) { /* the stripes' phase is the class */
    labels[i] = (uint8_t)(i % CLASSES);
    other[i] = (uint8_t)((i / 7) % CLASSES);
    for (int p = 0; p < SIDE * SIDE; p++)
      pixels[i * SIDE * SIDE + p] = (uint8_t)(((p % SIDE + i % 3) % 3 == 0) ? 230 : 20 + i % 7);
  }
  clgan_train_data data = {.count = COUNT, .rows = SIDE, .cols = SIDE};
  clgan_train_data relabelled = data;
  CHECK(clgan_buffer_alloc(dev, &data.images, sizeof pixels) == CLGAN_OK &&
            clgan_buffer_alloc(dev, &data.labels, COUNT) == CLGAN_OK &&
            clgan_buffer_alloc(dev, &relabelled.labels, COUNT) == CLGAN_OK,
        "upload");
  clgan_buffer_write(dev, &data.images, 0, sizeof pixels, pixels);
  clgan_buffer_write(dev, &data.labels, 0, COUNT, labels);
  clgan_buffer_write(dev, &relabelled.labels, 0, COUNT, other);
  relabelled.images = data.images;

  clgan_train_cfg cfg;
  clgan_preset("mlp", &cfg);
  snprintf(cfg.g_spec, sizeof cfg.g_spec, "linear:16,relu,linear:%d,tanh", SIDE * SIDE);
  snprintf(cfg.d_spec, sizeof cfg.d_spec, "linear:16,lrelu:0.2,linear:1,sigmoid");
  cfg.latent = 8;
  cfg.batch = 32;
  cfg.seed = 77;
  cfg.classes = CLASSES;

  /* Without labels: refused. */
  clgan_train_data unlabelled = {.count = COUNT, .rows = SIDE, .cols = SIDE,
                                 .images = data.images};
  clgan_trainer *t = NULL;
  CHECK(clgan_trainer_create(&t, dev, &cfg, &unlabelled) == CLGAN_INVALID_ARGUMENT,
        "conditional training without labels is refused");
  clgan_trainer_free(t);

  char dir[] = "/tmp/clgan-test-cond-XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  train_case(dev, &data, &relabelled, cfg, "concat mlp, bce", dir);
  clgan_train_cfg proj = cfg;
  snprintf(proj.d_spec, sizeof proj.d_spec, "conv:4:3:2:1,lrelu:0.2,flatten,linear:1");
  proj.loss = CLGAN_LOSS_WGAN_GP;
  proj.batch = 20; /* halves not aligned: the labels in two buffers */
  train_case(dev, &data, &relabelled, proj, "projection, wgan-gp", dir);
  proj.loss = CLGAN_LOSS_HINGE;
  proj.batch = 32;
  proj.ema = 0.9f;
  train_case(dev, &data, &relabelled, proj, "projection, hinge, ema", dir);
  rmdir(dir);
  relabelled.images = (clgan_buffer){0};
  clgan_buffer_free(&relabelled.labels);
  clgan_buffer_free(&data.labels);
  clgan_buffer_free(&data.images);
  clgan_device_close(dev);
  return test_finish();
}
