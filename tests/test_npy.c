/* .npy: reading files laid out exactly as numpy.save writes them (the header text below was
 * copied from numpy 2.4's output), writing byte-identical files, version 2.0 headers, 1-D
 * arrays, and refusals of everything clgan does not read. Needs no OpenCL device. */
#include <stdint.h>

#include "clgan/io.h"
#include "io_testutil.h"

static char dir[512];

static const char *in_dir(const char *name) {
  static char paths[4][1024];
  static int next;
  char *p = paths[next++ % 4];
  snprintf(p, sizeof paths[0], "%s/%s", dir, name);
  return p;
}

/* np.save(f, (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1)): 152 bytes. */
static const char numpy_2x3_header[] =
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
    "                                                          \n";
static const float values_2x3[6] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};

/* A .npy file: magic, version, header length (2 bytes for 1.x, 4 for 2.x), header, data. */
static void write_npy(const char *path, int major, const char *header, const void *data,
                      size_t data_len) {
  size_t hl = strlen(header), pre = major == 1 ? 10 : 12;
  unsigned char *buf = malloc(pre + hl + data_len + 1);
  memcpy(buf, "\x93NUMPY", 6);
  buf[6] = (unsigned char)major;
  buf[7] = 0;
  for (size_t i = 0; i < pre - 8; i++) buf[8 + i] = (unsigned char)(hl >> (8 * i));
  memcpy(buf + pre, header, hl);
  if (data_len) memcpy(buf + pre + hl, data, data_len);
  io_write_bytes(path, buf, pre + hl + data_len);
  free(buf);
}

static void test_numpy_files(void) {
  float *x = NULL;
  int rows = 0, cols = 0;
  const char *p = in_dir("numpy.npy");
  write_npy(p, 1, numpy_2x3_header, values_2x3, sizeof values_2x3);
  size_t len = 0;
  unsigned char *numpy_bytes = io_read_bytes(p, &len);
  CHECK(len == 152, "numpy's file is 152 bytes, fixture %zu", len);
  CHECK(clgan_npy_read_f32(p, &x, &rows, &cols) == CLGAN_OK, "read numpy's 2x3 file");
  CHECK(rows == 2 && cols == 3 && x && !memcmp(x, values_2x3, sizeof values_2x3),
        "2x3 values (%d x %d)", rows, cols);
  free(x);

  const char *q = in_dir("ours.npy");
  CHECK(clgan_npy_write_f32(q, values_2x3, 2, 3) == CLGAN_OK, "write 2x3");
  size_t ours_len = 0;
  unsigned char *ours = io_read_bytes(q, &ours_len);
  CHECK(ours && numpy_bytes && ours_len == len && !memcmp(ours, numpy_bytes, len),
        "our file is byte-identical to numpy.save's");
  free(ours);
  free(numpy_bytes);
  CHECK(io_count_tmp(dir) == 0, "no temporary file left behind");

  p = in_dir("vector.npy");
  write_npy(p, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }   \n", values_2x3, 12);
  CHECK(clgan_npy_read_f32(p, &x, &rows, &cols) == CLGAN_OK, "read 1-D");
  CHECK(rows == 1 && cols == 3 && x && x[2] == 0.0f, "1-D reads as 1 x n (%d x %d)", rows, cols);
  free(x);

  p = in_dir("v2.npy");
  write_npy(p, 2, "{\"shape\": (3, 2), \"fortran_order\": False, \"descr\": \"<f4\"}\n", values_2x3,
            24);
  CHECK(clgan_npy_read_f32(p, &x, &rows, &cols) == CLGAN_OK, "version 2.0, keys reordered");
  CHECK(rows == 3 && cols == 2 && x && x[5] == 1.5f, "v2 values (%d x %d)", rows, cols);
  free(x);

  p = in_dir("fortran-row.npy");
  write_npy(p, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 3), }\n", values_2x3, 12);
  CHECK(clgan_npy_read_f32(p, &x, &rows, &cols) == CLGAN_OK && rows == 1 && cols == 3,
        "Fortran order of a single row is the same layout: accepted");
  free(x);

  /* Round trip of a bigger array, including values that are not exact decimals. */
  enum { R = 17, C = 9 };
  float big[R * C];
  unsigned long long seed = 7;
  test_fill_uniform(big, R * C, -3.0f, 3.0f, &seed);
  q = in_dir("sub/big.npy");
  CHECK(clgan_npy_write_f32(q, big, R, C) == CLGAN_OK, "write 17x9 into a new folder");
  CHECK(clgan_npy_read_f32(q, &x, &rows, &cols) == CLGAN_OK, "read 17x9");
  CHECK(rows == R && cols == C && x && !memcmp(x, big, sizeof big), "17x9 round trip is exact");
  free(x);
}

static void test_refusals(void) {
  static const struct {
    const char *what, *header;
    size_t data_len;
    const char *says;
  } cases[] = {
      {"float64", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }\n", 48, "float64"},
      {"big-endian", "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }\n", 24,
       "big-endian"},
      {"uint8", "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }\n", 6, "'|u1'"},
      {"3-D", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }\n", 24, "3-D"},
      {"scalar", "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", 4, "0-D"},
      {"Fortran order", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n", 24,
       "Fortran order"},
      {"truncated", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 20,
       "truncated: shape (2, 3) needs 24 data bytes, found 20"},
      {"trailing bytes", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 28,
       "trailing bytes"},
      {"structured dtype", "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }\n",
       8, "structured"},
      {"unknown key", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}\n", 8,
       "'x'"},
      {"repeated key", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\n",
       8, "repeated"},
      {"missing shape", "{'descr': '<f4', 'fortran_order': False}\n", 8, "lacks"},
      {"not a dict", "['descr']\n", 8, "not a Python dict"},
      {"negative size", "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }\n", 8,
       "'shape'"},
      {"huge size", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }\n", 8,
       "'shape'"},
      {"trailing text", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x\n", 8,
       "trailing text"},
  };
  float data[16] = {0}, *x = NULL;
  int rows, cols;
  const char *p = in_dir("bad.npy");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    write_npy(p, 1, cases[i].header, data, cases[i].data_len);
    io_log_start();
    CHECK_REFUSED(cases[i].what, clgan_npy_read_f32(p, &x, &rows, &cols), CLGAN_BAD_FORMAT, p,
                  cases[i].says);
    CHECK(x == NULL, "%s: no data on failure", cases[i].what);
  }
  io_write_bytes(p, "\x93NUMPX\x01\x00\x00\x00", 10);
  io_log_start();
  CHECK_REFUSED("bad magic", clgan_npy_read_f32(p, &x, &rows, &cols), CLGAN_BAD_FORMAT, p,
                "magic");
  unsigned char v4[12];
  memcpy(v4, "\x93NUMPY\x04\x00\x02\x00{}", 12);
  io_write_bytes(p, v4, 12);
  io_log_start();
  CHECK_REFUSED("version 4.0", clgan_npy_read_f32(p, &x, &rows, &cols), CLGAN_BAD_FORMAT, p,
                "version 4.0");
  memcpy(v4, "\x93NUMPY\x01\x00\xff\x00{}", 12);
  io_write_bytes(p, v4, 12);
  io_log_start();
  CHECK_REFUSED("header past the end", clgan_npy_read_f32(p, &x, &rows, &cols), CLGAN_BAD_FORMAT,
                p, "runs past the end");
  io_log_start();
  CHECK_REFUSED("missing file", clgan_npy_read_f32(in_dir("none.npy"), &x, &rows, &cols),
                CLGAN_IO_ERROR, "none.npy", NULL);
  io_log_stop();

  /* Issue 9, finding 3: a link to /dev/zero or a folder is refused at once, naming the path. */
  p = in_dir("zero.npy");
  if (symlink("/dev/zero", p) == 0) {
    io_log_start();
    CHECK_REFUSED("a link to /dev/zero", clgan_npy_read_f32(p, &x, &rows, &cols), CLGAN_IO_ERROR,
                  p, "not a regular file");
    io_log_stop();
  }
  io_log_start();
  CHECK_REFUSED("a folder", clgan_npy_read_f32(dir, &x, &rows, &cols), CLGAN_IO_ERROR, dir,
                "a folder");
  io_log_stop();
}

/* A write that fails is CLGAN_WRITE_FAILED: a folder that cannot be made, and a full disk (the
 * temporary file the atomic writer opens is a link to /dev/full). */
static void test_write_failures(void) {
  const float v[6] = {1, 2, 3, 4, 5, 6};
  char bad[1200];
  io_unwritable_path(dir, "x.npy", bad, sizeof bad);
  io_log_start();
  CHECK_REFUSED("a folder that cannot be made", clgan_npy_write_f32(bad, v, 2, 3),
                CLGAN_WRITE_FAILED, "plain-file", NULL);
  io_log_stop();
  struct stat sb;
  if (stat("/dev/full", &sb) != 0) return;
  const char *p = in_dir("full.npy");
  char tmp[1200];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", p, (long)getpid());
  CHECK(symlink("/dev/full", tmp) == 0, "symlink to /dev/full");
  io_log_start();
  CHECK_REFUSED("a full disk", clgan_npy_write_f32(p, v, 2, 3), CLGAN_WRITE_FAILED, p, NULL);
  io_log_stop();
  /* Larger than stdio's buffer: the data's fwrite fails, not only the final flush. */
  static float big[64 * 1024];
  CHECK(symlink("/dev/full", tmp) == 0, "symlink to /dev/full again");
  io_log_start();
  CHECK_REFUSED("a full disk, large array", clgan_npy_write_f32(p, big, 64, 1024),
                CLGAN_WRITE_FAILED, p, NULL);
  io_log_stop();
  CHECK(!io_file_exists(p), "nothing written on a full disk");
}

int main(void) {
  snprintf(dir, sizeof dir, "%s", io_tmpdir("npy"));
  test_numpy_files();
  test_refusals();
  test_write_failures();
  io_rm_tree(dir);
  return test_finish();
}
