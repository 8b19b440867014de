/* The network spec language: presets parse, canonical text round-trips, and every kind of bad
 * spec is refused with a message that points at the bad token. */
#include <math.h>
#include <string.h>

#include "clgan/gan.h"
#include "harness.h"

static void bad(const char *text, const char *must_contain) {
  clgan_net_spec spec;
  char err[256];
  clgan_status st = clgan_spec_parse(text, &spec, err, sizeof err);
  CHECK(st == CLGAN_INVALID_ARGUMENT, "'%s' is refused", text);
  CHECK(strstr(err, must_contain) != NULL, "'%s': message '%s' mentions '%s'", text, err,
        must_contain);
}

int main(void) {
  for (int i = 0; clgan_preset_names[i]; i++) {
    clgan_train_cfg cfg;
    CHECK(clgan_preset(clgan_preset_names[i], &cfg) == CLGAN_OK, "preset %s", clgan_preset_names[i]);
    const char *specs[2] = {cfg.g_spec, cfg.d_spec};
    for (int k = 0; k < 2; k++) {
      clgan_net_spec a, b;
      char err[256], text[1024];
      CHECK(clgan_spec_parse(specs[k], &a, err, sizeof err) == CLGAN_OK, "%s parses: %s",
            specs[k], err);
      clgan_spec_format(&a, text, sizeof text);
      CHECK(clgan_spec_parse(text, &b, err, sizeof err) == CLGAN_OK && a.count == b.count &&
                !memcmp(a.layers, b.layers, sizeof a.layers[0] * (size_t)a.count),
            "'%s' round-trips through '%s'", specs[k], text);
    }
  }
  clgan_train_cfg cfg;
  CHECK(clgan_preset("nope", &cfg) == CLGAN_INVALID_ARGUMENT, "unknown preset");

  clgan_net_spec s;
  char err[256];
  CHECK(clgan_spec_parse("linear:256,lrelu:0.01,bn:0.8,linear:784,tanh", &s, err, sizeof err) ==
            CLGAN_OK && s.count == 5,
        "the README example parses");
  CHECK(s.layers[0].kind == CLGAN_LAYER_LINEAR && s.layers[0].out == 256, "linear:256");
  CHECK(s.layers[1].act == CLGAN_ACT_LRELU && s.layers[1].param == 0.01f, "lrelu:0.01");
  CHECK(s.layers[2].kind == CLGAN_LAYER_BN && fabsf(s.layers[2].param - 0.2f) < 1e-6f &&
            s.layers[2].eps == 1e-5f,
        "bn:0.8 is PyTorch momentum 0.2, default eps 1e-5");
  CHECK(clgan_spec_parse(" Linear:8 , ReLU ,lrelu, bn:0.9:0.001,sigmoid", &s, err, sizeof err) ==
            CLGAN_OK && s.layers[2].param == 0.01f && s.layers[3].eps == 0.001f,
        "blanks, case, default slope");

  char text[1024];
  CHECK(clgan_spec_parse("linear:256,lrelu:0.01,bn:0.8,linear:784,tanh", &s, err, sizeof err) ==
            CLGAN_OK, "the README example parses again");
  clgan_spec_format(&s, text, sizeof text);
  CHECK(!strcmp(text, "linear:256,lrelu:0.01,bn:0.8:1e-05,linear:784,tanh"),
        "usual values keep their short canonical text: '%s'", text);
  /* Caught by the round trip in fuzz/fuzz_spec.c (inputs in fuzz/regressions/fuzz_spec/):
   * values that 6 digits round to 1, which the parser refuses, or to another float. */
  const char *exact[] = {"linear:1,lrelu:0.9999999", "linear:8,bn:0.9999999",
                         "linear:8,bn2d:0.1234567,lrelu:0.1234567,bn:0.5:0.12345678"};
  for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
    clgan_net_spec a, b;
    CHECK(clgan_spec_parse(exact[i], &a, err, sizeof err) == CLGAN_OK, "%s parses", exact[i]);
    clgan_spec_format(&a, text, sizeof text);
    CHECK(clgan_spec_parse(text, &b, err, sizeof err) == CLGAN_OK && a.count == b.count &&
              !memcmp(a.layers, b.layers, sizeof a.layers[0] * (size_t)a.count),
          "'%s' round-trips exactly through '%s' (%s)", exact[i], text, err);
  }

  /* sn round-trips, written after every field of its layer. */
  const char *sn_specs[][2] = {
      {"conv:64:4:2:1:sn,lrelu:0.2,flatten,linear:1:sn", "conv:64:4:2:1:sn,lrelu:0.2,flatten,linear:1:sn"},
      {"Conv:8:4:sn,convT:2:3:2:sn,linear:3", "conv:8:4:1:0:sn,convT:2:3:2:0:sn,linear:3"}};
  for (size_t i = 0; i < sizeof sn_specs / sizeof sn_specs[0]; i++) {
    clgan_net_spec a, b;
    CHECK(clgan_spec_parse(sn_specs[i][0], &a, err, sizeof err) == CLGAN_OK && a.layers[0].sn &&
              !a.layers[a.count - 1].sn == (i == 1),
          "%s parses, sn where written (%s)", sn_specs[i][0], err);
    clgan_spec_format(&a, text, sizeof text);
    CHECK(!strcmp(text, sn_specs[i][1]) && clgan_spec_parse(text, &b, err, sizeof err) == CLGAN_OK &&
              !memcmp(a.layers, b.layers, sizeof a.layers[0] * (size_t)a.count),
          "'%s' round-trips through '%s'", sn_specs[i][0], text);
  }
  CHECK(clgan_spec_parse("conv:8:4:2:sn", &s, err, sizeof err) == CLGAN_OK && s.layers[0].sn &&
            s.layers[0].stride == 2 && s.layers[0].pad == 0,
        "conv:8:4:2:sn keeps the default padding");

  bad("", "empty");
  bad("linear:256,,tanh", "token 2");
  bad("linear:256,tanh,", "token 3");
  bad("linaer:784", "token 1 'linaer:784': unknown layer");
  bad("linear:128,relu,linear:abc", "token 3 'linear:abc'");
  bad("linear:0", "positive integer");
  bad("linear:-5", "positive integer");
  bad("linear", "exactly one value");
  bad("linear:8:9", "exactly one value");
  bad("linear:8,relu:3", "token 2 'relu:3': this activation takes no value");
  bad("linear:8,lrelu:1.5", "slope");
  bad("linear:8,lrelu:x", "slope");
  bad("linear:8,bn:1.2", "momentum");
  bad("linear:8,bn:0.8:0", "eps");
  bad("linear:8,bn:0.8:0.1:3", "at most two");
  bad("relu,tanh", "no linear or convolution layer");
  bad("conv:8", "2 to 4 values");
  bad("conv:8:0", "kernel size");
  bad("convT:8:4:2:x", "padding");
  bad("linear:8,reshape:2x2", "CxHxW");
  bad("linear:8,flatten:3", "takes no value");
  bad("linear:8,identity", "unknown layer");
  /* sn: only on a layer with a weight, only once, only last. */
  bad("linear:8,relu:sn", "token 2 'relu:sn': sn (spectral normalisation) applies only to a "
                          "layer with a weight");
  bad("linear:8,lrelu:0.2:sn", "token 2 'lrelu:0.2:sn': sn");
  bad("linear:8,bn:sn", "token 2 'bn:sn': sn");
  bad("conv:8:3,bn2d:0.9:sn", "token 2 'bn2d:0.9:sn': sn");
  bad("linear:8,tanh:sn", "token 2 'tanh:sn': sn");
  bad("linear:8,reshape:2x2x2:sn", "token 2 'reshape:2x2x2:sn': sn");
  bad("conv:8:3,flatten:sn,linear:1", "token 2 'flatten:sn': sn");
  bad("linear:8:sn:sn", "exactly one value");
  bad("linear:sn", "exactly one value");
  bad("linear:8:SN", "exactly one value");
  bad("conv:8:4:2:1:1:sn", "2 to 4 values");
  bad("conv:8:4:sn:2", "stride");

  /* The names the tables give are the spellings in checkpoints and CLI options: pinned. */
  static const char *const acts[] = {"identity", "relu", "lrelu", "tanh", "sigmoid"};
  static const char *const opts[] = {"adam", "rmsprop", "sgd"};
  static const char *const inits[] = {"torch", "glorot", "dcgan"};
  static const char *const losses[] = {"bce", "bce-minimax", "wgan", "wgan-gp", "hinge", "lsgan"};
  static const char *const kinds[] = {"linear", "act", "bn", "bn2d", "conv", "convT", "reshape",
                                      "flatten"};
  CHECK(CLGAN_ACT_COUNT == 5 && CLGAN_OPT_COUNT == 3 && CLGAN_INIT_COUNT == 3 &&
            CLGAN_LOSS_COUNT == 6 && CLGAN_LAYER_COUNT == 8,
        "table sizes");
  for (int i = 0; i < CLGAN_ACT_COUNT; i++) {
    clgan_act a = CLGAN_ACT_IDENTITY;
    CHECK(!strcmp(clgan_act_name((clgan_act)i), acts[i]) && clgan_act_parse(acts[i], &a) &&
              a == (clgan_act)i,
          "activation %s", acts[i]);
  }
  for (int i = 0; i < CLGAN_OPT_COUNT; i++) {
    clgan_opt_kind o = CLGAN_OPT_ADAM;
    CHECK(!strcmp(clgan_opt_name((clgan_opt_kind)i), opts[i]) && clgan_opt_parse(opts[i], &o) &&
              o == (clgan_opt_kind)i,
          "optimizer %s", opts[i]);
  }
  for (int i = 0; i < CLGAN_INIT_COUNT; i++) {
    clgan_init in = CLGAN_INIT_TORCH;
    CHECK(!strcmp(clgan_init_name((clgan_init)i), inits[i]) && clgan_init_parse(inits[i], &in) &&
              in == (clgan_init)i,
          "initialiser %s", inits[i]);
  }
  for (int i = 0; i < CLGAN_LOSS_COUNT; i++) {
    clgan_loss_kind k = CLGAN_LOSS_BCE;
    CHECK(!strcmp(clgan_loss_name((clgan_loss_kind)i), losses[i]) &&
              clgan_loss_parse(losses[i], &k) && k == (clgan_loss_kind)i,
          "loss %s", losses[i]);
  }
  for (int i = 0; i < CLGAN_LAYER_COUNT; i++)
    CHECK(!strcmp(clgan_layer_kind_name((clgan_layer_kind)i), kinds[i]) &&
              clgan_layer_is_bn((clgan_layer_kind)i) ==
                  (i == CLGAN_LAYER_BN || i == CLGAN_LAYER_BN2D),
          "layer kind %s", kinds[i]);
  clgan_act a = CLGAN_ACT_RELU;
  clgan_opt_kind o = CLGAN_OPT_SGD;
  CHECK(!clgan_act_parse("ReLU", &a) && a == CLGAN_ACT_RELU && !clgan_opt_parse("", &o) &&
            o == CLGAN_OPT_SGD && !clgan_loss_name((clgan_loss_kind)CLGAN_LOSS_COUNT) &&
            !clgan_act_name((clgan_act)-1),
        "unknown names and values are refused");
  CHECK(strstr(clgan_kernel_preamble(), "enum clgan_critic_kind { CLGAN_CRITIC_WASSERSTEIN, "
                                        "CLGAN_CRITIC_HINGE, CLGAN_CRITIC_LSQ, };") &&
            strstr(clgan_kernel_preamble(), "#define CLGAN_PIXEL_SCALE 0x1.010102p-7f\n") &&
            strstr(clgan_kernel_preamble(), "float clgan_tree_sum(__local float *scratch"),
        "the kernel preamble holds the tables' enums, the pixel scale and the tree sum");
  return test_finish();
}
