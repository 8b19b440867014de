/* IDX reading and writing: plain and gzip round trips, finding a split's files in a folder,
 * and every kind of bad input (each written here as a small fixture) refused with the right
 * status and a message that names the file. Loads the real Fashion-MNIST when it is installed.
 * Needs no OpenCL device. */
#include <stdint.h>

#include "clgan/data.h"
#include "io_testutil.h"
#include "util/crc.h"

static char dir[512];

static const char *in_dir(const char *name) {
  static char paths[8][1024];
  static int next;
  char *p = paths[next++ % 8];
  snprintf(p, sizeof paths[0], "%s/%s", dir, name);
  return p;
}

/* An IDX header followed by `extra` bytes of data, written raw. */
static void write_idx_raw(const char *path, const unsigned char magic[4], const uint32_t *dims,
                          int ndims, size_t data_len) {
  size_t len = 4 + 4 * (size_t)ndims + data_len;
  unsigned char *buf = calloc(1, len);
  memcpy(buf, magic, 4);
  for (int i = 0; i < ndims; i++) {
    buf[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
    buf[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
    buf[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
    buf[7 + 4 * i] = (unsigned char)dims[i];
  }
  for (size_t i = 0; i < data_len; i++) buf[4 + 4 * ndims + i] = (unsigned char)(i * 7);
  io_write_bytes(path, buf, len);
  free(buf);
}

static void fill_images(uint8_t *img, int count, int rows, int cols) {
  for (int n = 0; n < count; n++)
    for (int r = 0; r < rows; r++)
      for (int c = 0; c < cols; c++)
        img[(n * rows + r) * cols + c] = (uint8_t)(n * 31 + r * 5 + c * 3 + (r * c) % 7);
}

static void test_round_trips(void) {
  enum { N = 40, R = 5, C = 7 };
  static uint8_t img[N * R * C], labels[N];
  fill_images(img, N, R, C);
  for (int i = 0; i < N; i++) labels[i] = (uint8_t)(i % 10);
  const char *names[] = {"plain-idx3", "packed-idx3.gz"};
  for (int k = 0; k < 2; k++) {
    const char *path = in_dir(names[k]);
    CHECK(clgan_idx_write_images(path, img, N, R, C) == CLGAN_OK, "write %s", names[k]);
    size_t len = 0;
    unsigned char *raw = io_read_bytes(path, &len);
    CHECK(raw != NULL, "read back %s", path);
    if (k == 0 && raw) {
      const unsigned char head[16] = {0, 0, 8, 3, 0, 0, 0, N, 0, 0, 0, R, 0, 0, 0, C};
      CHECK(len == 16 + N * R * C, "plain size %zu", len);
      CHECK(len >= 16 && !memcmp(raw, head, 16), "big-endian IDX header as specified");
      CHECK(len == 16 + N * R * C && !memcmp(raw + 16, img, N * R * C), "data follows the header");
    }
    if (k == 1 && raw) CHECK(len > 2 && raw[0] == 0x1f && raw[1] == 0x8b, "gzip magic in .gz");
    free(raw);
    uint8_t *data = NULL;
    int dims[3] = {0}, nd = 0;
    CHECK(clgan_idx_read(path, 3, &data, dims, &nd) == CLGAN_OK, "read %s", names[k]);
    CHECK(nd == 3 && dims[0] == N && dims[1] == R && dims[2] == C, "dims %d: %d %d %d", nd,
          dims[0], dims[1], dims[2]);
    CHECK(data && !memcmp(data, img, sizeof img), "%s: pixels survive the round trip", names[k]);
    free(data);
    CHECK(io_count_tmp(dir) == 0, "no temporary file left behind");
  }

  /* A folder holding a split, in both spellings. */
  int ldims[1] = {N};
  CHECK(clgan_idx_write_images(in_dir("train-images-idx3-ubyte.gz"), img, N, R, C) == CLGAN_OK,
        "write train images");
  CHECK(clgan_idx_write(in_dir("train-labels-idx1-ubyte"), labels, ldims, 1) == CLGAN_OK,
        "write train labels");
  clgan_dataset ds;
  CHECK(clgan_dataset_load(dir, "train", &ds) == CLGAN_OK, "load train split");
  CHECK(ds.count == N && ds.rows == R && ds.cols == C, "dataset shape %d %d %d", ds.count,
        ds.rows, ds.cols);
  CHECK(ds.images && !memcmp(ds.images, img, sizeof img), "dataset images");
  CHECK(ds.labels && !memcmp(ds.labels, labels, sizeof labels), "dataset labels");
  CHECK(ds.classes == 10, "classes = max label + 1 = 10, got %d", ds.classes);
  clgan_dataset_free(&ds);
  CHECK(ds.images == NULL && ds.count == 0, "free zeroes the dataset");
  clgan_dataset_free(&ds);
  clgan_dataset_free(NULL);

  CHECK(clgan_idx_write_images(in_dir("t10k-images.idx3-ubyte"), img, N, R, C) == CLGAN_OK,
        "write t10k images, dotted spelling");
  CHECK(clgan_dataset_load(dir, "t10k", &ds) == CLGAN_OK, "load t10k split without labels");
  CHECK(ds.count == N && ds.labels == NULL && ds.classes == 0, "no labels file: labels NULL");
  clgan_dataset_free(&ds);

  /* A .gz name over plain content is read as plain (zlib is transparent). */
  CHECK(clgan_idx_write_images(in_dir("plain-named.gz.tmpx"), img, N, R, C) == CLGAN_OK, "plain");
  CHECK(rename(in_dir("plain-named.gz.tmpx"), in_dir("plain-named.gz")) == 0, "rename");
  uint8_t *data = NULL;
  int dims[3], nd;
  CHECK(clgan_idx_read(in_dir("plain-named.gz"), 3, &data, dims, &nd) == CLGAN_OK,
        "plain content under a .gz name");
  free(data);
}

/* Appends to out one gzip member holding data in stored (uncompressed) deflate blocks, built by
 * hand (RFC 1951 3.2.4, RFC 1952) so the test needs no zlib of its own. Returns the new length. */
static size_t gzip_stored_member(unsigned char *out, size_t at, const uint8_t *data, size_t n) {
  static const unsigned char head[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
  memcpy(out + at, head, 10);
  at += 10;
  size_t done = 0;
  do {
    size_t chunk = n - done < 65535 ? n - done : 65535;
    out[at++] = done + chunk == n; /* BFINAL, BTYPE 00 */
    out[at++] = (unsigned char)chunk;
    out[at++] = (unsigned char)(chunk >> 8);
    out[at++] = (unsigned char)~chunk;
    out[at++] = (unsigned char)(~chunk >> 8);
    memcpy(out + at, data + done, chunk);
    at += chunk;
    done += chunk;
  } while (done < n);
  unsigned long crc = clgan_crc32_update(0, data, n);
  for (int i = 0; i < 4; i++) out[at++] = (unsigned char)(crc >> (8 * i));
  for (int i = 0; i < 4; i++) out[at++] = (unsigned char)(n >> (8 * i));
  return at;
}

static void test_bad_inputs(void) {
  const unsigned char images_magic[4] = {0, 0, 8, 3}, labels_magic[4] = {0, 0, 8, 1};
  uint8_t *data = NULL;
  int dims[3], nd;
  const char *p;

  p = in_dir("gif-idx3");
  io_write_bytes(p, "GIF89a\0\0\0\0\0\0\0\0\0\0", 16);
  io_log_start();
  CHECK_REFUSED("wrong magic", clgan_idx_read(p, 3, &data, dims, &nd), CLGAN_BAD_FORMAT, p,
                "not an IDX file");
  CHECK(data == NULL, "no data on failure");

  p = in_dir("labels-as-images");
  write_idx_raw(p, labels_magic, (uint32_t[]){10}, 1, 10);
  io_log_start();
  CHECK_REFUSED("1-D file read as images", clgan_idx_read(p, 3, &data, dims, &nd),
                CLGAN_BAD_FORMAT, p, "expected 3");

  p = in_dir("images-as-labels");
  write_idx_raw(p, images_magic, (uint32_t[]){2, 3, 3}, 3, 18);
  io_log_start();
  CHECK_REFUSED("3-D file read as labels", clgan_idx_read(p, 1, &data, dims, &nd),
                CLGAN_BAD_FORMAT, p, "expected 1");

  p = in_dir("float-idx3");
  write_idx_raw(p, (const unsigned char[]){0, 0, 0x0D, 3}, (uint32_t[]){1, 2, 2}, 3, 16);
  io_log_start();
  CHECK_REFUSED("float32 elements", clgan_idx_read(p, 3, &data, dims, &nd), CLGAN_BAD_FORMAT, p,
                "float32");

  const struct {
    const char *name;
    uint32_t dims[3];
  } absurd[] = {{"count0", {0, 28, 28}},
                {"count-huge", {20000000, 28, 28}},
                {"rows0", {10, 0, 28}},
                {"cols-huge", {10, 28, 5000}},
                {"all-max", {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}}};
  for (size_t i = 0; i < sizeof absurd / sizeof absurd[0]; i++) {
    p = in_dir(absurd[i].name);
    write_idx_raw(p, images_magic, absurd[i].dims, 3, 64);
    io_log_start();
    CHECK_REFUSED(absurd[i].name, clgan_idx_read(p, 3, &data, dims, &nd), CLGAN_BAD_FORMAT, p,
                  "absurd");
  }

  p = in_dir("short-header");
  io_write_bytes(p, images_magic, 4);
  io_log_start();
  CHECK_REFUSED("header cut after the magic", clgan_idx_read(p, 3, &data, dims, &nd),
                CLGAN_BAD_FORMAT, p, "truncated IDX header");

  p = in_dir("tiny");
  io_write_bytes(p, images_magic, 2);
  io_log_start();
  CHECK_REFUSED("2-byte file", clgan_idx_read(p, 3, &data, dims, &nd), CLGAN_BAD_FORMAT, p,
                "too short");

  p = in_dir("truncated-idx3");
  write_idx_raw(p, images_magic, (uint32_t[]){3, 4, 4}, 3, 10);
  io_log_start();
  CHECK_REFUSED("truncated data", clgan_idx_read(p, 3, &data, dims, &nd), CLGAN_BAD_FORMAT, p,
                "truncated: expected 48 pixel bytes, found 10");

  p = in_dir("big-truncated-idx3");
  write_idx_raw(p, images_magic, (uint32_t[]){60000, 28, 28}, 3, 1000);
  io_log_start();
  CHECK_REFUSED("data set header over 1000 bytes", clgan_idx_read(p, 3, &data, dims, &nd),
                CLGAN_BAD_FORMAT, p, "expected 47040000 pixel bytes, found 1000");

  p = in_dir("trailing-idx3");
  write_idx_raw(p, images_magic, (uint32_t[]){3, 4, 4}, 3, 48 + 5);
  io_log_start();
  CHECK_REFUSED("trailing garbage", clgan_idx_read(p, 3, &data, dims, &nd), CLGAN_BAD_FORMAT, p,
                "5 bytes after the last");

  io_log_start();
  p = in_dir("no-such-file");
  CHECK_REFUSED("missing file", clgan_idx_read(p, 3, &data, dims, &nd), CLGAN_IO_ERROR, p, NULL);
  io_log_start();
  CHECK_REFUSED("a folder", clgan_idx_read(dir, 3, &data, dims, &nd), CLGAN_IO_ERROR, dir,
                "not a regular file");

  /* gzip damage: a flipped byte in the compressed body, a cut stream, a wrong CRC. */
  enum { N = 64, R = 28, C = 28 };
  static uint8_t img[N * R * C];
  fill_images(img, N, R, C);
  const char *good = in_dir("good-idx3.gz");
  CHECK(clgan_idx_write_images(good, img, N, R, C) == CLGAN_OK, "write gz fixture");
  size_t len = 0;
  unsigned char *gz = io_read_bytes(good, &len);
  CHECK(gz && len > 100, "gz fixture has %zu bytes", len);
  if (!gz || len <= 100) return;

  p = in_dir("flipped-idx3.gz");
  gz[len / 2] ^= 0x5A;
  io_write_bytes(p, gz, len);
  gz[len / 2] ^= 0x5A;
  io_log_start();
  CHECK_REFUSED("flipped byte in the gzip body", clgan_idx_read(p, 3, &data, dims, &nd),
                CLGAN_BAD_FORMAT, p, "gzip");

  p = in_dir("cut-idx3.gz");
  io_write_bytes(p, gz, len / 2);
  io_log_start();
  CHECK_REFUSED("gzip stream cut in half", clgan_idx_read(p, 3, &data, dims, &nd),
                CLGAN_BAD_FORMAT, p, "gzip stream ends early");

  p = in_dir("crc-idx3.gz");
  gz[len - 6] ^= 0x01; /* the trailer is CRC32 then ISIZE, 4 bytes each */
  io_write_bytes(p, gz, len);
  gz[len - 6] ^= 0x01;
  io_log_start();
  CHECK_REFUSED("wrong gzip CRC", clgan_idx_read(p, 3, &data, dims, &nd), CLGAN_BAD_FORMAT, p,
                "corrupt gzip");

  p = in_dir("notrailer-idx3.gz");
  io_write_bytes(p, gz, len - 8);
  io_log_start();
  CHECK_REFUSED("gzip without its trailer", clgan_idx_read(p, 3, &data, dims, &nd),
                CLGAN_BAD_FORMAT, p, "gzip");
  free(gz);

  /* Issue 9, finding 6: a file missing its last 1 to 9 bytes (the 8-byte trailer, and the end of
   * the last block) was accepted when the data itself was complete. zlib reports the missing
   * trailer only when it decompresses into its own buffer; a read of 512 KiB or more (twice
   * gzbuffer's size) goes straight into the caller's and ends without a word: so more than
   * 1 MiB of pixels, as in the real training file. */
  enum { BIG = 1500 };
  static uint8_t big[BIG * R * C];
  fill_images(big, BIG, R, C);
  const char *big_path = in_dir("big-idx3.gz");
  CHECK(clgan_idx_write_images(big_path, big, BIG, R, C) == CLGAN_OK, "write a 1.2 MB gz fixture");
  gz = io_read_bytes(big_path, &len);
  CHECK(gz && len > 100, "big gz fixture has %zu bytes", len);
  if (!gz || len <= 100) return;
  CHECK(clgan_idx_read(big_path, 3, &data, dims, &nd) == CLGAN_OK && dims[0] == BIG,
        "the whole big gz file is read");
  free(data);
  data = NULL;
  /* A gzip file of two members (as `cat a.gz b.gz` makes) stays accepted: its last trailer holds
   * the CRC of the second member only. */
  {
    static uint8_t raw[16 + 200 * 28 * 28];
    static unsigned char two[sizeof raw + 4096];
    const uint8_t idx_head[16] = {0, 0, 8, 3, 0, 0, 0, 200, 0, 0, 0, 28, 0, 0, 0, 28};
    memcpy(raw, idx_head, 16);
    memcpy(raw + 16, big, 200 * 28 * 28);
    size_t half = sizeof raw / 2;
    size_t tl = gzip_stored_member(two, 0, raw, half);
    tl = gzip_stored_member(two, tl, raw + half, sizeof raw - half);
    p = in_dir("two-members-idx3.gz");
    io_write_bytes(p, two, tl);
    CHECK(clgan_idx_read(p, 3, &data, dims, &nd) == CLGAN_OK && dims[0] == 200 &&
              memcmp(data, big, 200 * 28 * 28) == 0,
          "a gzip file of two members is read");
    free(data);
    data = NULL;
    p = in_dir("two-members-cut-idx3.gz");
    io_write_bytes(p, two, tl - 3);
    io_log_start();
    CHECK_REFUSED("two members, the second cut", clgan_idx_read(p, 3, &data, dims, &nd),
                  CLGAN_BAD_FORMAT, p, "gzip");
  }
  for (size_t cut = 1; cut <= 9; cut++) {
    char name[64];
    snprintf(name, sizeof name, "cut%zu-idx3.gz", cut);
    p = in_dir(name);
    io_write_bytes(p, gz, len - cut);
    io_log_start();
    clgan_status st = clgan_idx_read(p, 3, &data, dims, &nd);
    CHECK_REFUSED(name, st, CLGAN_BAD_FORMAT, p, "gzip");
    free(data);
    data = NULL;
  }
  free(gz);
  io_log_stop();
  CHECK(data == NULL, "no data after any failure");
}

static void test_dataset_errors(void) {
  char sub[600];
  snprintf(sub, sizeof sub, "%s/split", dir);
  CHECK(mkdir(sub, 0777) == 0, "mkdir %s", sub);
  clgan_dataset ds;
  io_log_start();
  CHECK_REFUSED("empty folder", clgan_dataset_load(sub, "train", &ds), CLGAN_IO_ERROR,
                "train-images-idx3-ubyte.gz", "train-images.idx3-ubyte");
  CHECK(ds.images == NULL && ds.count == 0, "zeroed on failure");

  enum { N = 10 };
  static uint8_t img[N * 4 * 4], labels[N];
  char ip[700], lp[700];
  snprintf(ip, sizeof ip, "%s/train-images-idx3-ubyte", sub);
  snprintf(lp, sizeof lp, "%s/train-labels-idx1-ubyte.gz", sub);
  CHECK(clgan_idx_write_images(ip, img, N, 4, 4) == CLGAN_OK, "write images");
  CHECK(clgan_idx_write(lp, labels, (int[]){N - 1}, 1) == CLGAN_OK, "write 9 labels");
  io_log_start();
  CHECK_REFUSED("label count mismatch", clgan_dataset_load(sub, "train", &ds), CLGAN_BAD_FORMAT,
                lp, "9 labels");
  CHECK(strstr(io_log, ip) != NULL, "the mismatch names the images file too: %s", io_log);

  CHECK(clgan_idx_write(lp, labels, (int[]){N, 1, 1}, 3) == CLGAN_OK, "write 3-D labels");
  io_log_start();
  CHECK_REFUSED("3-D labels file", clgan_dataset_load(sub, "train", &ds), CLGAN_BAD_FORMAT, lp,
                "dimensions");
  io_log_start();
  char unwritable[1200];
  io_unwritable_path(dir, "x-idx3-ubyte.gz", unwritable, sizeof unwritable);
  io_log_start();
  CHECK_REFUSED("writer given a folder that cannot be made",
                clgan_idx_write_images(unwritable, img, N, 4, 4), CLGAN_WRITE_FAILED, "plain-file",
                NULL);
  io_log_start();
  CHECK_REFUSED("writer given a zero dimension", clgan_idx_write(ip, img, (int[]){0, 4, 4}, 3),
                CLGAN_INVALID_ARGUMENT, ip, "dimension 0 is 0");
  io_log_stop();
}

/* Fashion-MNIST from $CLGAN_DATA or the default folder. Missing: a failure when $CI is true or 1
 * (as test_classifier.c), a printed note elsewhere. */
static void test_fashion_mnist(void) {
  const char *fm = clgan_data_dir(NULL), *ci = getenv("CI");
  if (!io_file_exists(fm)) {
    CHECK(!(ci && (!strcmp(ci, "true") || !strcmp(ci, "1"))),
          "no Fashion-MNIST in %s (scripts/setup.sh installs it); with CI=true this fails", fm);
    printf("note: %s not installed; real-data checks skipped\n", fm);
    return;
  }
  const char *splits[] = {"train", "t10k"};
  const int counts[] = {60000, 10000};
  for (int s = 0; s < 2; s++) {
    clgan_dataset ds;
    CHECK(clgan_dataset_load(fm, splits[s], &ds) == CLGAN_OK, "load Fashion-MNIST %s", splits[s]);
    CHECK(ds.count == counts[s] && ds.rows == 28 && ds.cols == 28, "%s: %d x %d x %d",
          splits[s], ds.count, ds.rows, ds.cols);
    int bad = 0, hist[10] = {0};
    long long sum = 0;
    for (int i = 0; ds.labels && i < ds.count; i++) {
      if (ds.labels[i] >= 10) bad++;
      else hist[ds.labels[i]]++;
    }
    for (size_t i = 0; ds.images && i < (size_t)ds.count * 784; i++) sum += ds.images[i];
    CHECK(ds.labels && bad == 0 && ds.classes == 10, "%s: labels < 10 (%d bad, classes %d)",
          splits[s], bad, ds.classes);
    for (int k = 0; k < 10; k++)
      CHECK(hist[k] == counts[s] / 10, "%s: Fashion-MNIST is balanced: class %d has %d",
            splits[s], k, hist[k]);
    double mean = ds.count ? (double)sum / ((double)ds.count * 784) : 0;
    CHECK(mean > 50 && mean < 100, "%s: mean pixel %.1f (Fashion-MNIST: about 73)", splits[s],
          mean);
    clgan_dataset_free(&ds);
  }
}

int main(void) {
  snprintf(dir, sizeof dir, "%s", io_tmpdir("idx"));
  test_round_trips();
  test_bad_inputs();
  test_dataset_errors();
  test_fashion_mnist();
  io_rm_tree(dir);
  return test_finish();
}
