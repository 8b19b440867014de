/* Presets fitted to the data's shape (issue 13, clgan_preset_fit): 1x28x28 leaves every preset
 * as it is (IDX runs unchanged); the MLPs' output layer follows C*H*W; dcgan's family takes
 * sides divisible by 4; dcgan32 and dcgan64 their own size only; specs the user gave are left
 * alone; refusals name the preset and the size. The fitted specs parse. Needs no device. */
#include <string.h>

#include "clgan/gan.h"
#include "io_testutil.h"

static void fit(const char *model, int c, int h, int w, clgan_status want, const char *g_has,
                const char *msg_has) {
  clgan_train_cfg cfg, orig;
  CHECK(clgan_preset(model, &cfg) == CLGAN_OK, "preset %s", model);
  orig = cfg;
  io_log_start();
  clgan_status st = clgan_preset_fit(&cfg, c, h, w);
  io_log_stop();
  CHECK(st == want, "%s on %dx%dx%d: status %d, want %d (%s)", model, c, h, w, st, want, io_log);
  if (g_has) CHECK(strstr(cfg.g_spec, g_has) != NULL, "%s on %dx%dx%d: G '%s' lacks '%s'", model, c, h, w, cfg.g_spec, g_has);
  if (msg_has) CHECK(strstr(io_log, msg_has) != NULL, "%s: message '%s' lacks '%s'", model, io_log, msg_has);
  if (st == CLGAN_OK) {
    clgan_net_spec spec;
    char err[256];
    CHECK(clgan_spec_parse(cfg.g_spec, &spec, err, sizeof err) == CLGAN_OK, "%s: %s", cfg.g_spec, err);
    CHECK(!strcmp(cfg.d_spec, orig.d_spec), "%s: D unchanged", model);
    CHECK(cfg.channels == c, "%s: channels %d", model, cfg.channels);
  }
}

int main(void) {
  for (int i = 0; clgan_preset_names[i]; i++) {
    const char *m = clgan_preset_names[i];
    if (!strcmp(m, "dcgan32") || !strcmp(m, "dcgan64")) continue;
    clgan_train_cfg a, b;
    clgan_preset(m, &a);
    b = a;
    CHECK(clgan_preset_fit(&b, 1, 28, 28) == CLGAN_OK && !strcmp(a.g_spec, b.g_spec) &&
              !strcmp(a.d_spec, b.d_spec), "%s: 1x28x28 changes nothing", m);
  }
  fit("mlp", 3, 32, 32, CLGAN_OK, "linear:256,relu,linear:3072,tanh", NULL);
  fit("mlp-bn", 1, 12, 20, CLGAN_OK, "linear:240,tanh", NULL);
  fit("mlp-tf", 3, 64, 64, CLGAN_OK, "linear:12288", NULL);
  fit("dcgan", 3, 32, 32, CLGAN_OK, "linear:16384,bn,relu,reshape:256x8x8,", NULL);
  fit("dcgan", 3, 32, 32, CLGAN_OK, "convT:3:4:2:1,tanh", NULL);
  fit("wgan-gp", 1, 64, 48, CLGAN_OK, "reshape:256x16x12,", NULL);
  fit("dcgan", 1, 30, 30, CLGAN_INVALID_ARGUMENT, NULL, "multiples of 4");
  fit("dcgan32", 3, 32, 32, CLGAN_OK, "convT:3:4:2:1,tanh", NULL);
  fit("dcgan32", 1, 32, 32, CLGAN_OK, "convT:64:4:2:1,bn2d,relu,convT:1:4:2:1,tanh", NULL);
  fit("dcgan64", 3, 64, 64, CLGAN_OK, "convT:512:4:1:0,", NULL);
  fit("dcgan64", 3, 32, 32, CLGAN_INVALID_ARGUMENT, NULL, "dcgan64 takes 64x64");
  fit("dcgan32", 3, 28, 28, CLGAN_INVALID_ARGUMENT, NULL, "--image-size 32");
  /* A spec given in the preset's place is the user's. */
  clgan_train_cfg cfg;
  clgan_preset("mlp", &cfg);
  snprintf(cfg.g_spec, sizeof cfg.g_spec, "linear:64,relu,linear:784,tanh");
  CHECK(clgan_preset_fit(&cfg, 3, 32, 32) == CLGAN_OK &&
            !strcmp(cfg.g_spec, "linear:64,relu,linear:784,tanh") && cfg.channels == 3,
        "a user's spec is left alone");
  return test_finish();
}
