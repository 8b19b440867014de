/* A program that uses the installed libclgan, as any C program would: it opens an OpenCL device,
 * trains a few steps of a preset on an IDX data set, and writes a grid of samples as a PNG.
 *   consumer [STEPS [OUT.png [DATA_DIR]]]   (defaults: 20, consumer.png, $CLGAN_DATA or Fashion-MNIST)
 * The device is $CLGAN_DEVICE's, else the first GPU, else the first device. Exit 0 on success,
 * 1 on a failure (the library has printed why), 2 for a bad argument. Built against the installed
 * tree by CMake (CMakeLists.txt beside it: find_package(clgan)) or by pkg-config:
 *   cc consumer.c $(pkg-config --cflags --libs clgan) -o consumer */
#include <stdio.h>
#include <stdlib.h>

#include <clgan/data.h>
#include <clgan/device.h>
#include <clgan/gan.h>
#include <clgan/io.h>
#include <clgan/status.h>

#define TRY(call)                                                                        \
  do {                                                                                   \
    if ((st = (call)) != CLGAN_OK) {                                                     \
      fprintf(stderr, "consumer: %s: %s\n", #call, clgan_status_name(st));              \
      goto done;                                                                         \
    }                                                                                    \
  } while (0)

int main(int argc, char **argv) {
  char *end = NULL;
  long steps = argc > 1 ? strtol(argv[1], &end, 10) : 20;
  if (argc > 1 && (*end || steps < 1 || steps > 100000)) {
    fprintf(stderr, "consumer: STEPS '%s' must be an integer in 1..100000\n", argv[1]);
    return 2;
  }
  const char *out = argc > 2 ? argv[2] : "consumer.png";
  const char *data_dir = clgan_data_dir(argc > 3 ? argv[3] : NULL);
  printf("consumer: libclgan %s\n", clgan_version());

  clgan_status st = CLGAN_OK;
  clgan_device *dev = NULL;
  clgan_dataset ds = {0};
  clgan_train_data data = {0};
  clgan_trainer *t = NULL;
  float *z = NULL, *pixels = NULL;

  clgan_device_cfg dcfg = {0};
  clgan_device_cfg_from_env(&dcfg); /* $CLGAN_DEVICE and the tuning variables */
  TRY(clgan_device_open(&dev, &dcfg));
  TRY(clgan_dataset_load(data_dir, "train", &ds));
  TRY(clgan_dataset_upload(dev, &ds, &data.images));
  data.count = ds.count;
  data.rows = ds.rows;
  data.cols = ds.cols;

  clgan_train_cfg cfg;
  TRY(clgan_preset("mlp", &cfg));
  cfg.batch = 32;
  TRY(clgan_trainer_create(&t, dev, &cfg, &data));
  for (long s = 0; s < steps; s++) TRY(clgan_trainer_step(t));
  clgan_metrics m;
  TRY(clgan_trainer_metrics(t, &m));
  printf("consumer: %ld steps, D loss %.3f, G loss %.3f\n", clgan_trainer_step_count(t),
         m.d_loss, m.g_loss);

  enum { N = 16 };
  z = malloc((size_t)N * cfg.latent * sizeof *z);
  pixels = malloc((size_t)N * ds.rows * ds.cols * sizeof *pixels);
  if (!z || !pixels) {
    st = CLGAN_HOST_OUT_OF_MEMORY;
    goto done;
  }
  clgan_fixed_latent(z, N, cfg.latent, 1);
  TRY(clgan_generate(clgan_trainer_generator(t), z, N, cfg.latent, pixels));
  int scale = clgan_grid_auto_scale(N, ds.cols, 0, 2);
  TRY(clgan_png_write_grid_scaled(out, pixels, N, 1, ds.rows, ds.cols, 0, 2, scale));
  printf("consumer: %d samples -> %s\n", N, out);
done:
  free(z);
  free(pixels);
  clgan_trainer_free(t);
  clgan_buffer_free(&data.images);
  clgan_dataset_free(&ds);
  clgan_device_close(dev);
  return st == CLGAN_OK ? 0 : st == CLGAN_INVALID_ARGUMENT || st == CLGAN_IO_ERROR ? 2 : 1;
}
