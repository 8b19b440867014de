/* The network spec language (see include/clgan/nn.h): parsing with messages that point at the
 * bad token, and the canonical text written into checkpoints. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/nn.h"
#include "util/names.h"

static const char *const layer_names[] = {
#define X(e, name, record) name,
    CLGAN_LAYER_TABLE(X)
#undef X
};

const char *clgan_layer_kind_name(clgan_layer_kind kind) {
  return (unsigned)kind < CLGAN_LAYER_COUNT ? layer_names[kind] : NULL;
}

int clgan_layer_is_bn(clgan_layer_kind kind) {
  return kind == CLGAN_LAYER_BN || kind == CLGAN_LAYER_BN2D;
}

static const char *const init_names[] = {
#define X(e, name) name,
    CLGAN_INIT_TABLE(X)
#undef X
};

const char *clgan_init_name(clgan_init init) {
  return (unsigned)init < CLGAN_INIT_COUNT ? init_names[init] : NULL;
}

int clgan_init_parse(const char *name, clgan_init *init) {
  int i = clgan_name_index(init_names, CLGAN_INIT_COUNT, name);
  if (i >= 0) *init = (clgan_init)i;
  return i >= 0;
}

/* A token's layer name, lower-cased by the parser: the table's name compared without case
 * (convT), or one of the older spellings kept as aliases. -1 when unknown. */
static int layer_kind_of(const char *name) {
  static const struct {
    const char *alias;
    clgan_layer_kind kind;
  } aliases[] = {{"dense", CLGAN_LAYER_LINEAR}, {"batchnorm", CLGAN_LAYER_BN}};
  for (int i = 0; i < CLGAN_LAYER_COUNT; i++) {
    if (i == CLGAN_LAYER_ACT) continue; /* an activation is written by its own name */
    const char *a = layer_names[i], *b = name;
    while (*a && tolower((unsigned char)*a) == *b) a++, b++;
    if (!*a && !*b) return i;
  }
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (!strcmp(name, aliases[i].alias)) return (int)aliases[i].kind;
  return -1;
}

/* Parses a float field of a token; 0 on failure. */
static int parse_float(const char *s, float *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !isfinite(v)) return 0;
  *out = (float)v;
  return 1;
}

static int parse_int(const char *s, int *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v <= 0 || v > (1 << 24)) return 0;
  *out = (int)v;
  return 1;
}

/* conv:C:K[:S[:P]] and convT: the fields after the name; NULL or what is wrong. */
static const char *parse_conv(clgan_layer_spec *l, char **fields, int nf) {
  l->stride = 1;
  l->pad = 0;
  int pad = 0;
  if (nf < 3 || nf > 5)
    return "a convolution takes 2 to 4 values: channels, kernel, stride, padding "
           "(conv:64:4:2:1)";
  if (!parse_int(fields[1], &l->out)) return "the channel count must be a positive integer";
  if (!parse_int(fields[2], &l->k) || l->k > 64)
    return "the kernel size must be an integer in 1..64";
  if (nf >= 4 && (!parse_int(fields[3], &l->stride) || l->stride > 64))
    return "the stride must be an integer in 1..64";
  if (nf == 5 && !(fields[4][0] == '0' && !fields[4][1]) &&
      (!parse_int(fields[4], &pad) || pad > 64))
    return "the padding must be an integer in 0..64";
  l->pad = pad;
  return NULL;
}

/* bn[:MOMENTUM[:EPS]] and bn2d, MOMENTUM Keras-style; NULL or what is wrong. */
static const char *parse_bn(clgan_layer_spec *l, char **fields, int nf) {
  float keras_momentum = 0.9f;
  const char *problem = NULL;
  l->eps = 1e-5f;
  if (nf > 3)
    problem = "bn takes at most two values, momentum and eps (bn:0.8:0.001)";
  else if (nf >= 2 && (!parse_float(fields[1], &keras_momentum) || keras_momentum < 0 ||
                       keras_momentum >= 1))
    problem = "the momentum must be a number in [0, 1) (Keras-style: 0.8 keeps 80% of the "
              "running average)";
  else if (nf == 3 && (!parse_float(fields[2], &l->eps) || l->eps <= 0 || l->eps > 1))
    problem = "eps must be a number in (0, 1]";
  l->param = 1.0f - keras_momentum;
  return problem;
}

/* One token, split at its colons into fields (fields[0] the lower-cased name), into l; NULL or
 * what is wrong with it. */
static const char *parse_layer(clgan_layer_spec *l, char **fields, int nf) {
  const char *name = fields[0];
  int kind = layer_kind_of(name);
  clgan_act act = CLGAN_ACT_IDENTITY;
  int is_act = clgan_act_parse(name, &act) && act != CLGAN_ACT_IDENTITY;
  if (!strcmp(name, "leakyrelu")) {
    is_act = 1;
    act = CLGAN_ACT_LRELU;
  }
  if (kind == CLGAN_LAYER_LINEAR) {
    l->kind = CLGAN_LAYER_LINEAR;
    if (nf != 2)
      return "linear takes exactly one value, its output size (linear:256), and optionally sn "
             "(linear:256:sn)";
    if (!parse_int(fields[1], &l->out)) return "the output size must be a positive integer";
    return NULL;
  }
  if (is_act && act != CLGAN_ACT_LRELU) {
    l->kind = CLGAN_LAYER_ACT;
    l->act = act;
    return nf != 1 ? "this activation takes no value" : NULL;
  }
  if (is_act) {
    l->kind = CLGAN_LAYER_ACT;
    l->act = CLGAN_ACT_LRELU;
    l->param = 0.01f;
    if (nf > 2) return "lrelu takes at most one value, its negative slope (lrelu:0.2)";
    if (nf == 2 && (!parse_float(fields[1], &l->param) || l->param < 0 || l->param >= 1))
      return "the slope must be a number in [0, 1)";
    return NULL;
  }
  if (kind == CLGAN_LAYER_CONV || kind == CLGAN_LAYER_CONVT) {
    l->kind = (clgan_layer_kind)kind;
    return parse_conv(l, fields, nf);
  }
  if (kind == CLGAN_LAYER_RESHAPE) {
    l->kind = CLGAN_LAYER_RESHAPE;
    char extra;
    if (nf != 2 || sscanf(fields[1], "%dx%dx%d%c", &l->c, &l->h, &l->w, &extra) != 3 ||
        l->c < 1 || l->h < 1 || l->w < 1 || l->c > (1 << 20) || l->h > 4096 || l->w > 4096)
      return "reshape takes one value, CxHxW with positive sizes (reshape:256x7x7)";
    return NULL;
  }
  if (kind == CLGAN_LAYER_FLATTEN) {
    l->kind = CLGAN_LAYER_FLATTEN;
    return nf != 1 ? "flatten takes no value" : NULL;
  }
  if (kind >= 0 && clgan_layer_is_bn((clgan_layer_kind)kind)) {
    l->kind = (clgan_layer_kind)kind;
    return parse_bn(l, fields, nf);
  }
  return "unknown layer (known: linear:N[:sn], relu, lrelu[:SLOPE], tanh, sigmoid, "
         "bn[:MOMENTUM[:EPS]], bn2d[:MOMENTUM[:EPS]], conv:C:K[:S[:P]][:sn], "
         "convT:C:K[:S[:P]][:sn], reshape:CxHxW, flatten)";
}

clgan_status clgan_spec_parse(const char *text, clgan_net_spec *spec, char *err, size_t err_size) {
  memset(spec, 0, sizeof *spec);
  if (err_size) err[0] = '\0';
  if (!text || !*text) {
    snprintf(err, err_size, "the spec is empty");
    return CLGAN_INVALID_ARGUMENT;
  }
  char buf[2048];
  if (strlen(text) >= sizeof buf) {
    snprintf(err, err_size, "the spec is longer than %zu characters", sizeof buf - 1);
    return CLGAN_INVALID_ARGUMENT;
  }
  strcpy(buf, text);
  int index = 0;
  char *p = buf;
  /* strtok would skip empty tokens ("linear:8,,tanh"); walk commas by hand. */
  for (;;) {
    char *comma = strchr(p, ',');
    if (comma) *comma = '\0';
    char *tok = p;
    while (isspace((unsigned char)*tok)) tok++;
    char *e = tok + strlen(tok);
    while (e > tok && isspace((unsigned char)e[-1])) *--e = '\0';
    index++;
    if (spec->count == CLGAN_MAX_LAYERS) {
      snprintf(err, err_size, "more than %d layers", CLGAN_MAX_LAYERS);
      return CLGAN_INVALID_ARGUMENT;
    }
    if (!*tok) {
      snprintf(err, err_size, "token %d is empty (two commas in a row, or a trailing comma)",
               index);
      return CLGAN_INVALID_ARGUMENT;
    }
    char orig[128];
    snprintf(orig, sizeof orig, "%.100s", tok);
    char *fields[8] = {tok};
    int nf = 1;
    for (char *c = strchr(tok, ':'); c && nf < 8; c = strchr(c + 1, ':')) {
      *c = '\0';
      fields[nf++] = c + 1;
    }
    for (char *c = fields[0]; *c; c++) *c = (char)tolower((unsigned char)*c);
    /* A trailing "sn": spectral normalisation of the layer's weight. */
    int sn = nf > 1 && !strcmp(fields[nf - 1], "sn");
    nf -= sn;
    const char *problem = parse_layer(&spec->layers[spec->count], fields, nf);
    clgan_layer_kind kind = spec->layers[spec->count].kind;
    if (!problem && sn && kind != CLGAN_LAYER_LINEAR && kind != CLGAN_LAYER_CONV &&
        kind != CLGAN_LAYER_CONVT)
      problem = "sn (spectral normalisation) applies only to a layer with a weight: linear, "
                "conv or convT";
    spec->layers[spec->count].sn = sn;
    if (problem) {
      snprintf(err, err_size, "token %d '%s': %s", index, orig, problem);
      return CLGAN_INVALID_ARGUMENT;
    }
    spec->count++;
    if (!comma) break;
    p = comma + 1;
  }
  int has_linear = 0;
  for (int i = 0; i < spec->count; i++)
    has_linear |= spec->layers[i].kind == CLGAN_LAYER_LINEAR ||
                  spec->layers[i].kind == CLGAN_LAYER_CONV ||
                  spec->layers[i].kind == CLGAN_LAYER_CONVT;
  if (!has_linear) {
    snprintf(err, err_size, "the spec has no linear or convolution layer, so nothing to learn");
    return CLGAN_INVALID_ARGUMENT;
  }
  return CLGAN_OK;
}

/* The shortest %g text (6 to 9 digits) that parse_float reads back as v: the usual values keep
 * their short spelling ("0.2", "1e-05") and a value such as 0.99999988 is not rounded to "1",
 * which the parser refuses and which would not be the value the network was trained with
 * (the round trip in fuzz/fuzz_spec.c checks this). */
static void float_text(char *out, size_t size, float v) {
  for (int digits = 6; digits <= 9; digits++) {
    snprintf(out, size, "%.*g", digits, (double)v);
    if ((float)strtod(out, NULL) == v) return;
  }
}

void clgan_spec_format(const clgan_net_spec *spec, char *out, size_t size) {
  size_t used = 0;
  out[0] = '\0';
  for (int i = 0; i < spec->count && used < size; i++) {
    const clgan_layer_spec *l = &spec->layers[i];
    const char *sep = i ? "," : "";
    char a[32], b[32];
    int n = 0;
    const char *name = l->kind == CLGAN_LAYER_ACT ? clgan_act_name(l->act)
                                                  : clgan_layer_kind_name(l->kind);
    if (!name || (l->kind == CLGAN_LAYER_ACT && l->act == CLGAN_ACT_IDENTITY)) continue;
    switch (l->kind) {
      case CLGAN_LAYER_LINEAR:
        n = snprintf(out + used, size - used, "%s%s:%d", sep, name, l->out);
        break;
      case CLGAN_LAYER_BN:
      case CLGAN_LAYER_BN2D:
        float_text(a, sizeof a, 1.0f - l->param);
        float_text(b, sizeof b, l->eps);
        n = snprintf(out + used, size - used, "%s%s:%s:%s", sep, name, a, b);
        break;
      case CLGAN_LAYER_CONV:
      case CLGAN_LAYER_CONVT:
        n = snprintf(out + used, size - used, "%s%s:%d:%d:%d:%d", sep, name, l->out, l->k,
                     l->stride, l->pad);
        break;
      case CLGAN_LAYER_RESHAPE:
        n = snprintf(out + used, size - used, "%s%s:%dx%dx%d", sep, name, l->c, l->h, l->w);
        break;
      case CLGAN_LAYER_FLATTEN:
        n = snprintf(out + used, size - used, "%s%s", sep, name);
        break;
      case CLGAN_LAYER_ACT:
        if (l->act == CLGAN_ACT_LRELU) {
          float_text(a, sizeof a, l->param);
          n = snprintf(out + used, size - used, "%s%s:%s", sep, name, a);
        } else {
          n = snprintf(out + used, size - used, "%s%s", sep, name);
        }
        break;
    }
    if (n < 0) return;
    used += (size_t)n;
    if (l->sn && used < size && (n = snprintf(out + used, size - used, ":sn")) > 0)
      used += (size_t)n;
  }
}
