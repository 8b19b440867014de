/* Private to src/gan/: a clgan_net's state to and from safetensors files (net_io.c), shared by
 * the GAN checkpoints and the domain classifier. */
#ifndef CLGAN_GAN_NET_IO_H
#define CLGAN_GAN_NET_IO_H

#include <stdint.h>

#include "clgan/io.h"
#include "clgan/nn.h"

/* Adds metadata key = the printf-formatted value (cut at 1,199 bytes). */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
clgan_status ckpt_meta_printf(clgan_st_writer *w, const char *key, const char *fmt, ...);

/* Host copies of one net's device state, read back for saving or staged for loading. */
typedef struct {
  float *params, *state1, *state2;
  float **running; /* per layer: running_mean then running_var (2 * out floats), or NULL */
  int64_t *batches;
  float **sn;      /* per layer with sn: weight_u then weight_v (r + a*k floats), or NULL */
} ckpt_net_host;

void ckpt_net_host_free(ckpt_net_host *h, int count); /* count: the net's layers */
/* Reads parameters, optimizer state and batch-norm statistics back from the device. */
clgan_status ckpt_net_read(clgan_net *net, ckpt_net_host *h);
/* Adds the net's tensors under "<prefix>.<i>.weight" ... ("<i>.weight" with prefix NULL, the
 * names of a bare nn.Sequential; a layer with sn has weight_orig, weight_u and weight_v, as
 * spectral_norm names them, and no weight), and opt's state under "optimizer.<name>.<state>" (none with
 * opt NULL). */
clgan_status ckpt_net_add(clgan_st_writer *w, const clgan_net *net, const ckpt_net_host *h,
                          const char *prefix, const clgan_opt_cfg *opt);
/* Finds a float tensor of exactly this shape, or reports what differs and yields NULL; does
 * nothing once *st is an error. */
const float *ckpt_need_tensor(const clgan_st_file *f, const char *name, const int64_t *shape,
                              int ndim, clgan_status *st);
/* Validates every tensor of one net (names as ckpt_net_add) and stages it in host arrays;
 * changes nothing on the device. with_optimizer = 0 skips optimizer state (opt may then be
 * NULL). */
clgan_status ckpt_net_stage(const clgan_st_file *f, const char *path, const clgan_net *net,
                            const char *prefix, const clgan_opt_cfg *opt, int with_optimizer,
                            ckpt_net_host *h);
/* Uploads what ckpt_net_stage staged; zeroes the gradients. */
clgan_status ckpt_net_upload(clgan_net *net, const ckpt_net_host *h);

#endif
