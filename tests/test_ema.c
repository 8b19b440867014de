/* The EMA generator (clgan train --ema): the update against PyTorch (tests/data/
 * ema_fixture.safetensors, tests/fixtures/make_ema_fixture.py: parameters and batch-norm
 * statistics averaged, num_batches_tracked copied, TensorFlow's warm-up); inside the trainer
 * against a host replica of G's weights step by step; exact resume with EMA on; checkpoints
 * that hold generator_ema and the loader's choice of generator; and the decay's bounds. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clgan/gan.h"
#include "clgan/io.h"
#include "gan/net_io.h"
#include "harness.h"

#define COUNT 320
#define SIDE 8

static float *read_params(clgan_device *dev, const clgan_net *net) {
  float *p = malloc(net->arena_n * sizeof *p);
  CHECK(clgan_buffer_read(dev, &net->params, 0, net->arena_n * sizeof *p, p) == CLGAN_OK,
        "read params");
  return p;
}

/* The fixture's snapshots through clgan_net_average, against PyTorch's EMA of them. */
static void test_against_pytorch(clgan_device *dev) {
  clgan_st_file *f = NULL;
  const char *path = CLGAN_TEST_DATA_DIR "/ema_fixture.safetensors";
  CHECK(clgan_st_open(path, &f) == CLGAN_OK, "open %s", path);
  if (!f) return;
  const char *spec_text = clgan_st_meta(f, "spec"), *steps_text = clgan_st_meta(f, "steps");
  const char *decay_text = clgan_st_meta(f, "decay");
  CHECK(spec_text && steps_text && decay_text, "fixture metadata");
  clgan_net_spec spec;
  char err[256];
  CHECK(clgan_spec_parse(spec_text, &spec, err, sizeof err) == CLGAN_OK, "spec: %s", err);
  clgan_net g = {0}, ema = {0}, want = {0};
  CHECK(clgan_net_create(&g, dev, &spec, 4, 1, 1, 4) == CLGAN_OK, "net g");
  CHECK(clgan_net_create(&ema, dev, &spec, 4, 1, 1, 4) == CLGAN_OK, "net ema");
  CHECK(clgan_net_create(&want, dev, &spec, 4, 1, 1, 4) == CLGAN_OK, "net want");
  int steps = atoi(steps_text);
  double decay = atof(decay_text);
  for (int k = 0; k < steps; k++) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "snap%d", k);
    ckpt_net_host h = {0};
    CHECK(ckpt_net_stage(f, path, &g, prefix, NULL, 0, &h) == CLGAN_OK &&
              ckpt_net_upload(&g, &h) == CLGAN_OK,
          "snapshot %d", k);
    ckpt_net_host_free(&h, g.count);
    double d = k == 0 ? 0.0 : clgan_ema_decay(decay, k - 1);
    CHECK(clgan_net_average(&ema, &g, d) == CLGAN_OK, "average %d", k);
  }
  ckpt_net_host hw = {0}, he = {0};
  CHECK(ckpt_net_stage(f, path, &want, "generator_ema", NULL, 0, &hw) == CLGAN_OK,
        "PyTorch's EMA");
  CHECK(ckpt_net_read(&ema, &he) == CLGAN_OK, "read EMA");
  if (hw.params && he.params) {
    /* Two products and a sum in float32, rounded the same way: bit for bit. */
    CHECK(memcmp(hw.params, he.params, ema.arena_n * sizeof(float)) == 0,
          "EMA parameters equal PyTorch's bit for bit");
    CHECK_CLOSE("EMA parameters", he.params, hw.params, ema.arena_n, 0, 0);
    for (int i = 0; i < ema.count; i++) {
      if (!clgan_layer_is_bn(ema.layers[i].spec.kind)) continue;
      int c = ema.layers[i].out_c;
      CHECK_CLOSE("EMA running statistics", he.running[i], hw.running[i], (size_t)2 * c, 0, 0);
      CHECK(ema.layers[i].bn_batches == hw.batches[i] && hw.batches[i] == steps,
            "num_batches_tracked copied: %ld, PyTorch %lld", ema.layers[i].bn_batches,
            (long long)hw.batches[i]);
    }
  }
  ckpt_net_host_free(&hw, want.count);
  ckpt_net_host_free(&he, ema.count);
  /* Layouts that differ are refused. */
  clgan_net_spec other;
  clgan_net odd = {0};
  CHECK(clgan_spec_parse("linear:9,bn,relu,linear:6,tanh", &other, err, sizeof err) == CLGAN_OK,
        "spec");
  CHECK(clgan_net_create(&odd, dev, &other, 4, 1, 1, 4) == CLGAN_OK, "net odd");
  CHECK(clgan_net_average(&odd, &g, 0.5f) == CLGAN_INVALID_ARGUMENT, "different layouts refused");
  clgan_net_free(&odd);
  clgan_net_free(&g);
  clgan_net_free(&ema);
  clgan_net_free(&want);
  clgan_st_close(f);
}

static void test_decay(void) {
  CHECK(clgan_ema_decay(0.999, 0) == 0.1, "first update: (1 + 0) / (10 + 0) = 0.1");
  CHECK(clgan_ema_decay(0.6, 12) == 13.0 / 22.0, "warm-up below the decay");
  CHECK(clgan_ema_decay(0.6, 13) == 0.6, "the decay once the warm-up passes it");
  CHECK(clgan_ema_decay(0.999, 100000) == 0.999, "the decay late in training");
}

static clgan_train_cfg small_cfg(float ema) {
  clgan_train_cfg c;
  clgan_preset("mlp-bn", &c); /* batch norm in G: running statistics are averaged too */
  snprintf(c.g_spec, sizeof c.g_spec, "linear:16,lrelu:0.2,bn,linear:%d,tanh", SIDE * SIDE);
  snprintf(c.d_spec, sizeof c.d_spec, "linear:16,lrelu:0.2,linear:1,sigmoid");
  c.latent = 8;
  c.batch = 32;
  c.seed = 99;
  c.ema = ema;
  return c;
}

/* Inside the trainer: after every step the EMA generator equals a host replica computed from
 * G's weights read after that step. */
static void test_trainer_replica(clgan_device *dev, const clgan_train_data *data) {
  clgan_train_cfg cfg = small_cfg(0.9f);
  clgan_trainer *t = NULL;
  CHECK(clgan_trainer_create(&t, dev, &cfg, data) == CLGAN_OK, "trainer");
  if (!t) return;
  clgan_net *g = clgan_trainer_generator(t), *e = clgan_trainer_sampler(t);
  CHECK(g != e, "the sampler is the EMA generator when ema > 0");
  size_t n = g->arena_n;
  float *replica = read_params(dev, g), *start = read_params(dev, e);
  CHECK(memcmp(replica, start, n * sizeof(float)) == 0, "the EMA generator starts as G");
  int moved = 0;
  for (long s = 0; s < 25; s++) {
    CHECK(clgan_trainer_step(t) == CLGAN_OK, "step %ld", s);
    float *p = read_params(dev, g);
    double dk = clgan_ema_decay(0.9f, s);
    float keep = (float)dk, take = (float)(1.0 - dk);
    for (size_t i = 0; i < n; i++) {
      float a = take * p[i], b = keep * replica[i];
      replica[i] = a + b;
      if (replica[i] != p[i]) moved = 1;
    }
    free(p);
  }
  float *got = read_params(dev, e);
  CHECK_CLOSE("EMA generator against the host replica after 25 steps", got, replica, n, 0, 0);
  CHECK(moved, "the EMA differs from G (the average lags)");
  free(got);
  free(replica);
  free(start);
  clgan_trainer_free(t);
  /* Off: the sampler is G itself. */
  cfg = small_cfg(0.0f);
  CHECK(clgan_trainer_create(&t, dev, &cfg, data) == CLGAN_OK, "trainer without EMA");
  if (t) CHECK(clgan_trainer_sampler(t) == clgan_trainer_generator(t), "no EMA: G samples");
  clgan_trainer_free(t);
}

/* Interrupted at step 7 and resumed: the EMA generator equals the uninterrupted run's; the
 * checkpoint's generator_ema is what the loader picks by default. */
static void test_resume_and_load(clgan_device *dev, const clgan_train_data *data,
                                 const char *dir) {
  clgan_train_cfg cfg = small_cfg(0.95f);
  char ckpt[512], plain[512];
  snprintf(ckpt, sizeof ckpt, "%s/ema.safetensors", dir);
  snprintf(plain, sizeof plain, "%s/plain.safetensors", dir);
  clgan_trainer *a = NULL, *b = NULL, *c = NULL;
  CHECK(clgan_trainer_create(&a, dev, &cfg, data) == CLGAN_OK, "trainer a");
  CHECK(clgan_trainer_create(&b, dev, &cfg, data) == CLGAN_OK, "trainer b");
  CHECK(clgan_trainer_create(&c, dev, &cfg, data) == CLGAN_OK, "trainer c");
  if (!a || !b || !c) goto done;
  for (int s = 0; s < 15; s++) CHECK(clgan_trainer_step(a) == CLGAN_OK, "a step");
  for (int s = 0; s < 7; s++) CHECK(clgan_trainer_step(b) == CLGAN_OK, "b step");
  CHECK(clgan_trainer_save(b, ckpt) == CLGAN_OK, "save with EMA");
  CHECK(clgan_trainer_load(c, ckpt) == CLGAN_OK, "resume with EMA");
  for (int s = 7; s < 15; s++) CHECK(clgan_trainer_step(c) == CLGAN_OK, "c step");
  size_t n = clgan_trainer_sampler(a)->arena_n;
  float *pa = read_params(dev, clgan_trainer_sampler(a));
  float *pc = read_params(dev, clgan_trainer_sampler(c));
  CHECK(memcmp(pa, pc, n * sizeof(float)) == 0, "resumed EMA equals the uninterrupted run's");
  free(pa);
  free(pc);

  /* The loader: AUTO and EMA give the EMA generator, RAW the trained one. */
  float *want_ema = read_params(dev, clgan_trainer_sampler(b));
  float *want_raw = read_params(dev, clgan_trainer_generator(b));
  clgan_gen_pick picks[3] = {CLGAN_GEN_AUTO, CLGAN_GEN_EMA, CLGAN_GEN_RAW};
  for (int i = 0; i < 3; i++) {
    clgan_net g = {0};
    clgan_train_cfg lc;
    int rows = 0, cols = 0, is_ema = -1;
    CHECK(clgan_checkpoint_load_generator(ckpt, dev, &g, &lc, &rows, &cols, 8, picks[i],
                                          &is_ema) == CLGAN_OK,
          "load generator pick %d", i);
    if (g.count) {
      float *p = read_params(dev, &g);
      CHECK(is_ema == (i < 2), "pick %d: is_ema %d", i, is_ema);
      CHECK(lc.ema == 0.95f, "the checkpoint's decay (got %g)", (double)lc.ema);
      CHECK(memcmp(p, i < 2 ? want_ema : want_raw, n * sizeof(float)) == 0,
            "pick %d loads the %s generator", i, i < 2 ? "EMA" : "trained");
      free(p);
    }
    clgan_net_free(&g);
  }
  CHECK(memcmp(want_ema, want_raw, n * sizeof(float)) != 0, "EMA and trained differ");
  free(want_ema);
  free(want_raw);

  /* A checkpoint without EMA: AUTO gives G, EMA is refused; resuming it with EMA on is
   * refused. */
  clgan_trainer *p = NULL;
  clgan_train_cfg pcfg = small_cfg(0.0f);
  CHECK(clgan_trainer_create(&p, dev, &pcfg, data) == CLGAN_OK, "plain trainer");
  if (p) {
    CHECK(clgan_trainer_step(p) == CLGAN_OK && clgan_trainer_save(p, plain) == CLGAN_OK,
          "plain checkpoint");
    clgan_net g = {0};
    clgan_train_cfg lc;
    int rows = 0, cols = 0, is_ema = -1;
    CHECK(clgan_checkpoint_load_generator(plain, dev, &g, &lc, &rows, &cols, 8, CLGAN_GEN_AUTO,
                                          &is_ema) == CLGAN_OK && is_ema == 0,
          "AUTO on a checkpoint without EMA loads G");
    clgan_net_free(&g);
    CHECK(clgan_checkpoint_load_generator(plain, dev, &g, &lc, &rows, &cols, 8, CLGAN_GEN_EMA,
                                          &is_ema) == CLGAN_INVALID_ARGUMENT && g.count == 0,
          "EMA asked of a checkpoint without one is refused");
    CHECK(clgan_trainer_load(c, plain) == CLGAN_INVALID_ARGUMENT,
          "an EMA run does not resume a checkpoint without EMA");
    CHECK(clgan_trainer_load(p, ckpt) != CLGAN_OK, "nor the other way round");
    clgan_trainer_free(p);
  }
done:
  clgan_trainer_free(a);
  clgan_trainer_free(b);
  clgan_trainer_free(c);
  remove(ckpt);
  remove(plain);
}

/* A generator with spectral normalisation: the EMA generator's u and v are G's (copied each
 * step), so its eval-mode sigma is computed from vectors that track the weights. */
static void test_sn_vectors(clgan_device *dev, const clgan_train_data *data) {
  clgan_train_cfg cfg = small_cfg(0.9f);
  snprintf(cfg.g_spec, sizeof cfg.g_spec, "linear:16:sn,lrelu:0.2,bn,linear:%d:sn,tanh",
           SIDE * SIDE);
  clgan_trainer *t = NULL;
  CHECK(clgan_trainer_create(&t, dev, &cfg, data) == CLGAN_OK, "trainer with sn in G");
  if (!t) return;
  for (int s = 0; s < 4; s++) CHECK(clgan_trainer_step(t) == CLGAN_OK, "step");
  clgan_net *g = clgan_trainer_generator(t), *e = clgan_trainer_sampler(t);
  for (int i = 0; i < g->count; i++) {
    if (!g->layers[i].spec.sn) continue;
    int r = g->layers[i].sn.r, c = g->layers[i].sn.a * g->layers[i].sn.k;
    float *gu = malloc((size_t)(r + c) * sizeof *gu), *eu = malloc((size_t)(r + c) * sizeof *eu);
    clgan_buffer_read(dev, &g->layers[i].sn_u, 0, (size_t)r * sizeof *gu, gu);
    clgan_buffer_read(dev, &g->layers[i].sn_v, 0, (size_t)c * sizeof *gu, gu + r);
    clgan_buffer_read(dev, &e->layers[i].sn_u, 0, (size_t)r * sizeof *eu, eu);
    clgan_buffer_read(dev, &e->layers[i].sn_v, 0, (size_t)c * sizeof *eu, eu + r);
    CHECK(memcmp(gu, eu, (size_t)(r + c) * sizeof *gu) == 0, "layer %d: EMA's u, v are G's", i);
    free(gu);
    free(eu);
  }
  clgan_trainer_free(t);
}

static void test_bounds(void) {
  float bad[] = {1.0f, 1.5f, -0.1f, NAN, INFINITY};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    clgan_train_cfg c = small_cfg(bad[i]);
    clgan_cfg_fault fault;
    CHECK(clgan_train_cfg_check(&c, &fault) == CLGAN_INVALID_ARGUMENT && fault.field &&
              !strcmp(fault.field, "ema"),
          "ema %g refused, naming 'ema'", (double)bad[i]);
  }
  clgan_train_cfg ok = small_cfg(0.999f);
  clgan_cfg_fault fault;
  CHECK(clgan_train_cfg_check(&ok, &fault) == CLGAN_OK, "ema 0.999 accepted");
}

int main(void) {
  clgan_device *dev = test_open_device();
  test_decay();
  test_bounds();
  test_against_pytorch(dev);
  uint8_t *pixels = malloc(COUNT * SIDE * SIDE);
  for (int i = 0; i < COUNT; i++)
    for (int p = 0; p < SIDE * SIDE; p++)
      pixels[i * SIDE * SIDE + p] = (uint8_t)(((p % SIDE + i % 3) % 3 == 0) ? 230 : 20 + i % 7);
  clgan_train_data data = {.count = COUNT, .rows = SIDE, .cols = SIDE};
  CHECK(clgan_buffer_alloc(dev, &data.images, COUNT * SIDE * SIDE) == CLGAN_OK, "upload");
  clgan_buffer_write(dev, &data.images, 0, COUNT * SIDE * SIDE, pixels);
  test_trainer_replica(dev, &data);
  test_sn_vectors(dev, &data);
  char dir[] = "/tmp/clgan-test-ema-XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  test_resume_and_load(dev, &data, dir);
  rmdir(dir);
  clgan_buffer_free(&data.images);
  free(pixels);
  clgan_device_close(dev);
  return test_finish();
}
