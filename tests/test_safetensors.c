/* safetensors: a round trip through the writer and the strict reader (order as added, dtypes,
 * scalars, empty and misaligned tensors, metadata with escapes), the byte layout the format
 * specifies, every truncation length and every single-byte flip refused, hand-built malicious
 * headers refused with a message naming the file, and the content checksum surviving a re-save
 * that reorders the header; and the CRC-32 the checksum uses. Needs no OpenCL device. */
#include <stdint.h>

#include "clgan/io.h"
#include "io_testutil.h"
#include "util/crc.h"

static char dir[512];

static const char *in_dir(const char *name) {
  static char paths[4][1024];
  static int next;
  char *p = paths[next++ % 4];
  snprintf(p, sizeof paths[0], "%s/%s", dir, name);
  return p;
}

static float weight[4 * 3], bias[4], odd[3];
static int64_t step = 123456789012LL, moments[2] = {-5, (int64_t)1 << 40};
static const char *note = "quote \" backslash \\ newline \n tab \t utf8 \xc3\xa9 \xe4\xb8\xad";

static clgan_status write_sample(const char *path) {
  clgan_st_writer *w = NULL;
  clgan_status st = clgan_st_writer_new(&w);
  if (st != CLGAN_OK) return st;
  clgan_st_add(w, "gen.0.weight", CLGAN_ST_F32, (int64_t[]){4, 3}, 2, weight);
  clgan_st_add(w, "gen.0.bias", CLGAN_ST_F32, (int64_t[]){4}, 1, bias);
  clgan_st_add(w, "odd", CLGAN_ST_F32, (int64_t[]){3}, 1, odd);
  clgan_st_add(w, "step", CLGAN_ST_I64, NULL, 0, &step);
  clgan_st_add(w, "moments", CLGAN_ST_I64, (int64_t[]){2}, 1, moments); /* at data byte 84 */
  clgan_st_add(w, "empty", CLGAN_ST_F32, (int64_t[]){0, 5}, 2, NULL);
  clgan_st_add_meta(w, "clgan.spec", "mlp:784-256-1");
  clgan_st_add_meta(w, "note", note);
  st = clgan_st_write(w, path);
  clgan_st_writer_free(w);
  return st;
}

static uint64_t le64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static void test_round_trip(void) {
  for (int i = 0; i < 12; i++) weight[i] = (float)i * 0.25f - 1.0f;
  for (int i = 0; i < 4; i++) bias[i] = -(float)i / 3.0f;
  for (int i = 0; i < 3; i++) odd[i] = 1e-30f * (float)(i + 1);
  const char *path = in_dir("sample.safetensors");
  CHECK(write_sample(path) == CLGAN_OK, "write sample");
  CHECK(io_count_tmp(dir) == 0, "no temporary file left behind");

  /* The layout the format specifies, read with no help from the reader. */
  size_t len = 0;
  unsigned char *raw = io_read_bytes(path, &len);
  CHECK(raw && len > 8, "sample has %zu bytes", len);
  if (!raw || len <= 8) return;
  uint64_t n = le64(raw);
  size_t data_len = 48 + 16 + 12 + 8 + 16;
  CHECK(n % 8 == 0 && 8 + n + data_len == len, "header %llu bytes, multiple of 8, then %zu data "
        "bytes, file %zu", (unsigned long long)n, data_len, len);
  if (8 + n + data_len != len) {
    free(raw);
    return;
  }
  CHECK(raw[8] == '{' && raw[8 + n - 1] == ' ', "header is a JSON object padded with spaces");
  char *header = calloc(1, n + 1);
  memcpy(header, raw + 8, n);
  CHECK(strstr(header, "\"gen.0.weight\":{\"dtype\":\"F32\",\"shape\":[4,3],\"data_offsets\":[0,48]}")
        != NULL, "weight entry as PyTorch writes it: %s", header);
  CHECK(strstr(header, "\"step\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[76,84]}") != NULL,
        "scalar entry");
  CHECK(strstr(header, "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[100,100]}") !=
        NULL, "empty entry");
  CHECK(strstr(header, "\"__metadata__\":{") != NULL && strstr(header, "\"clgan.crc32\":\"") != NULL,
        "metadata with the checksum");
  free(header);
  const unsigned char *data = raw + 8 + n;
  CHECK(!memcmp(data, weight, 48) && !memcmp(data + 48, bias, 16) && !memcmp(data + 64, odd, 12) &&
            !memcmp(data + 76, &step, 8) && !memcmp(data + 84, moments, 16),
        "data laid out in the order the tensors were added");
  free(raw);

  clgan_st_file *f = NULL;
  CHECK(clgan_st_open(path, &f) == CLGAN_OK, "open sample");
  if (!f) return;
  const char *order[] = {"gen.0.weight", "gen.0.bias", "odd", "step", "moments", "empty"};
  CHECK(clgan_st_count(f) == 6, "6 tensors, got %d", clgan_st_count(f));
  for (int i = 0; i < 6 && i < clgan_st_count(f); i++)
    CHECK(!strcmp(clgan_st_at(f, i)->name, order[i]), "tensor %d is %s", i, clgan_st_at(f, i)->name);
  CHECK(clgan_st_at(f, 6) == NULL && clgan_st_at(f, -1) == NULL, "at() out of range is NULL");
  const clgan_st_tensor *t = clgan_st_find(f, "gen.0.weight");
  CHECK(t && t->dtype == CLGAN_ST_F32 && t->ndim == 2 && t->shape[0] == 4 && t->shape[1] == 3 &&
            t->nbytes == 48 && !memcmp(t->data, weight, 48),
        "weight round trip");
  t = clgan_st_find(f, "step");
  CHECK(t && t->dtype == CLGAN_ST_I64 && t->ndim == 0 && t->nbytes == 8 &&
            *(const int64_t *)t->data == step,
        "scalar round trip");
  t = clgan_st_find(f, "moments");
  CHECK(t && (uintptr_t)t->data % 8 == 0, "an int64 tensor at data byte 84 is handed out aligned");
  CHECK(t && ((const int64_t *)t->data)[0] == -5 && ((const int64_t *)t->data)[1] == moments[1],
        "misaligned tensor values");
  t = clgan_st_find(f, "empty");
  CHECK(t && t->nbytes == 0 && t->ndim == 2 && t->shape[0] == 0 && t->shape[1] == 5, "empty");
  CHECK(clgan_st_find(f, "missing") == NULL, "find of a missing name is NULL");
  CHECK(clgan_st_meta(f, "note") && !strcmp(clgan_st_meta(f, "note"), note),
        "metadata with quotes, backslash, control characters and UTF-8 survives");
  CHECK(clgan_st_meta(f, "clgan.spec") && !strcmp(clgan_st_meta(f, "clgan.spec"), "mlp:784-256-1"),
        "spec metadata");
  CHECK(clgan_st_meta_count(f) == 4, "4 metadata entries (with the checksum and the version)");
  const char *version = clgan_st_meta(f, CLGAN_ST_VERSION_KEY);
  CHECK(version && version[0] >= '0' && version[0] <= '9', "clgan.version is set: %s",
        version ? version : "(none)");
  const void *p = NULL;
  CHECK(clgan_st_expect(f, "gen.0.bias", CLGAN_ST_F32, (int64_t[]){4}, 1, &p) == CLGAN_OK &&
            p && !memcmp(p, bias, 16),
        "expect() with the right shape");
  io_log_start();
  CHECK_REFUSED("expect() with the wrong shape",
                clgan_st_expect(f, "gen.0.weight", CLGAN_ST_F32, (int64_t[]){4, 4}, 2, &p),
                CLGAN_BAD_FORMAT, path, "is F32 [4, 3], expected F32 [4, 4]");
  io_log_start();
  CHECK_REFUSED("expect() with the wrong dtype",
                clgan_st_expect(f, "step", CLGAN_ST_F32, NULL, 0, &p), CLGAN_BAD_FORMAT, path,
                "is I64 [], expected F32 []");
  io_log_start();
  CHECK_REFUSED("expect() of a missing tensor",
                clgan_st_expect(f, "gen.9.weight", CLGAN_ST_F32, (int64_t[]){1}, 1, &p),
                CLGAN_BAD_FORMAT, path, "no tensor 'gen.9.weight'");
  io_log_stop();
  CHECK(p == NULL, "expect() clears the pointer on failure");
  clgan_st_close(f);
  clgan_st_close(NULL);
}

/* Every prefix of a valid file and every single-byte flip must be refused, never crash. */
static void test_damage(void) {
  const char *path = in_dir("sample.safetensors"), *bad = in_dir("damaged.safetensors");
  size_t len = 0;
  unsigned char *raw = io_read_bytes(path, &len);
  CHECK(raw != NULL, "read sample");
  if (!raw) return;
  int accepted = 0, unnamed = 0;
  for (size_t cut = 0; cut < len; cut++) {
    io_write_bytes(bad, raw, cut);
    clgan_st_file *f = NULL;
    io_log_start();
    clgan_status st = clgan_st_open(bad, &f);
    if (st != CLGAN_BAD_FORMAT && accepted++ < 3)
      fprintf(stderr, "  cut at %zu: %s\n", cut, clgan_status_name(st));
    unnamed += strstr(io_log, bad) == NULL;
    clgan_st_close(f);
  }
  CHECK(accepted == 0, "%d of %zu truncations not refused as BAD_FORMAT", accepted, len);
  CHECK(unnamed == 0, "%d truncation errors do not name the file", unnamed);

  const unsigned char flips[] = {0x01, 0x80, 0x20};
  int data_msg = 0;
  accepted = 0;
  for (size_t k = 0; k < sizeof flips; k++)
    for (size_t i = 0; i < len; i++) {
      raw[i] ^= flips[k];
      io_write_bytes(bad, raw, len);
      raw[i] ^= flips[k];
      clgan_st_file *f = NULL;
      io_log_start();
      clgan_status st = clgan_st_open(bad, &f);
      if (st != CLGAN_BAD_FORMAT && accepted++ < 5)
        fprintf(stderr, "  byte %zu ^ 0x%02x: %s\n", i, flips[k], clgan_status_name(st));
      if (i == len - 20) data_msg += strstr(io_log, "checksum mismatch") != NULL;
      clgan_st_close(f);
    }
  io_log_stop();
  CHECK(accepted == 0, "%d single-byte flips (of %zu) were accepted", accepted, 3 * len);
  CHECK(data_msg == 3, "a flip in the data is reported as a checksum mismatch (%d of 3)", data_msg);

  /* Random damage: 1 to 8 bytes set to random values, 400 times. */
  unsigned char *copy = malloc(len);
  unsigned long long seed = 12345;
  accepted = 0;
  for (int trial = 0; trial < 400 && copy; trial++) {
    memcpy(copy, raw, len);
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    int nbytes = 1 + (int)(seed >> 61);
    for (int k = 0; k < nbytes; k++) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      size_t at = (size_t)(seed >> 33) % len;
      unsigned char v = (unsigned char)(seed >> 13);
      copy[at] = v == copy[at] ? (unsigned char)(v + 1) : v;
    }
    io_write_bytes(bad, copy, len);
    clgan_st_file *f = NULL;
    io_log_start();
    accepted += clgan_st_open(bad, &f) != CLGAN_BAD_FORMAT;
    clgan_st_close(f);
  }
  io_log_stop();
  CHECK(accepted == 0, "%d of 400 randomly damaged files were accepted", accepted);
  free(copy);
  free(raw);
}

/* A file from a header text and data; n < 0 takes the header's length. */
static void write_raw(const char *path, const char *header, long long n, const void *data,
                      size_t data_len) {
  size_t hl = strlen(header);
  unsigned char *buf = malloc(8 + hl + data_len + 1);
  uint64_t v = n < 0 ? hl : (uint64_t)n;
  for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(v >> (8 * i));
  memcpy(buf + 8, header, hl);
  if (data_len) memcpy(buf + 8 + hl, data, data_len);
  io_write_bytes(path, buf, 8 + hl + data_len);
  free(buf);
}

static void test_hostile_headers(void) {
  const char *p = in_dir("hand.safetensors");
  static const unsigned char bytes[16] = {0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64};
  clgan_st_file *f = NULL;

  /* Controls: the helper builds files the reader takes, odd header lengths included. */
  write_raw(p, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", -1, bytes, 8);
  CHECK(clgan_st_open(p, &f) == CLGAN_OK, "minimal valid file (odd header length, no checksum)");
  const clgan_st_tensor *t = clgan_st_find(f, "a");
  CHECK(t && (uintptr_t)t->data % 4 == 0 && ((const float *)t->data)[1] == 2.0f,
        "data behind an odd-length header are read aligned");
  clgan_st_close(f);
  write_raw(p, "{ \"\\u00e9\\ud83d\\ude00\\n\" : { \"shape\" : [ 2 , 2 ] , \"data_offsets\" : "
               "[0, 16], \"dtype\" : \"F32\" } , \"__metadata__\" : { } }   ",
            -1, bytes, 16);
  CHECK(clgan_st_open(p, &f) == CLGAN_OK, "whitespace, key order, \\u escapes and pairs");
  CHECK(f && clgan_st_find(f, "\xc3\xa9\xf0\x9f\x98\x80\n") != NULL, "escapes decode to UTF-8");
  clgan_st_close(f);
  write_raw(p, "{}", -1, NULL, 0);
  CHECK(clgan_st_open(p, &f) == CLGAN_OK && clgan_st_count(f) == 0, "empty file is valid");
  clgan_st_close(f);

  static const struct {
    const char *what, *header;
    long long n; /* -1: the header's length */
    size_t data_len;
    const char *says;
  } cases[] = {
      {"header length past the end", "{}", 3, 0, "runs past the end"},
      {"header length 2^64-1", "{}", -2, 0, "runs past the end"},
      {"header length 0", "{}", 0, 2, "outside"},
      {"not an object", "[1,2]", -1, 0, "not a UTF-8 JSON object"},
      {"truncated JSON", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", -1, 8,
       "unexpected end"},
      {"unknown dtype", "{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", -1, 8,
       "unknown dtype 'F33'"},
      {"shape product", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", -1, 8,
       "needs 12 bytes"},
      {"offsets past the buffer", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
       -1, 8, "run past"},
      {"end before begin", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", -1, 8,
       "end before"},
      {"overlap",
       "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
       -1, 12, "overlaps"},
      {"gap",
       "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
       "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
       -1, 12, "gap"},
      {"buffer not covered", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", -1, 8,
       "cover 4 bytes"},
      {"duplicate names",
       "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
       "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
       -1, 8, "appears twice"},
      {"repeated key", "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
       -1, 4, "repeated key"},
      {"unknown key", "{\"a\":{\"dtype\":\"F32\",\"foo\":1,\"shape\":[1],\"data_offsets\":[0,4]}}", -1, 4,
       "'foo'"},
      {"missing offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", -1, 4, "lacks data_offsets"},
      {"three offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,4]}}", -1, 4,
       "longer than 2"},
      {"leading space", " {}", -1, 0, "not a UTF-8 JSON object"},
      {"negative size", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", -1, 4,
       "non-negative integer"},
      {"fraction", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", -1, 4,
       "expected an integer"},
      {"leading zero", "{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}", -1, 4,
       "leading zero"},
      {"huge integer",
       "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", -1, 4,
       "too large"},
      {"shape overflow",
       "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", -1, 4,
       "shape too large"},
      {"nine dims",
       "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", -1, 4,
       "longer than 8"},
      {"object as dtype", "{\"a\":{\"dtype\":{\"x\":\"y\"},\"shape\":[1],\"data_offsets\":[0,4]}}", -1, 4,
       "expected '\"'"},
      {"metadata number", "{\"__metadata__\":{\"k\":1}}", -1, 0, "must be strings"},
      {"metadata twice", "{\"__metadata__\":{},\"__metadata__\":{}}", -1, 0, "twice"},
      {"metadata key twice", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", -1, 0,
       "duplicate metadata key"},
      {"raw control character", "{\"__metadata__\":{\"k\":\"a\tb\"}}", -1, 0, "control character"},
      {"bad escape", "{\"__metadata__\":{\"k\":\"a\\xb\"}}", -1, 0, "bad escape"},
      {"lone surrogate", "{\"__metadata__\":{\"k\":\"\\ud800\"}}", -1, 0, "surrogate"},
      {"escaped NUL", "{\"__metadata__\":{\"k\":\"\\u0000\"}}", -1, 0, "\\u0000"},
      {"invalid UTF-8", "{\"__metadata__\":{\"k\":\"\xc3\x28\"}}", -1, 0, "UTF-8"},
      {"garbage after the object", "{} x", -1, 0, "after the header object"},
      {"unterminated string", "{\"abc", -1, 0, "unterminated"},
      {"missing colon", "{\"a\" {}}", -1, 0, "expected ':'"},
      {"checksum not hex", "{\"__metadata__\":{\"clgan.crc32\":\"zzzzzzzz\"}}", -1, 0,
       "not 8 lowercase hex digits"},
      {"checksum mismatch", "{\"__metadata__\":{\"clgan.crc32\":\"12345678\"}}", -1, 0,
       "checksum mismatch"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    long long n = cases[i].n == -2 ? -1 : cases[i].n;
    write_raw(p, cases[i].header, n, bytes, cases[i].data_len);
    if (cases[i].n == -2) { /* all-ones length: patch the prefix */
      size_t len;
      unsigned char *raw = io_read_bytes(p, &len);
      memset(raw, 0xFF, 8);
      io_write_bytes(p, raw, len);
      free(raw);
    }
    io_log_start();
    f = NULL;
    CHECK_REFUSED(cases[i].what, clgan_st_open(p, &f), CLGAN_BAD_FORMAT, p, cases[i].says);
    CHECK(f == NULL, "%s: no file handle on failure", cases[i].what);
  }
  io_write_bytes(p, "\x02\0\0", 3);
  io_log_start();
  CHECK_REFUSED("3-byte file", clgan_st_open(p, &f), CLGAN_BAD_FORMAT, p, "shorter than");
  write_raw(p, "{\"a#\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", -1, bytes, 8);
  size_t len = 0;
  unsigned char *raw = io_read_bytes(p, &len);
  if (raw) raw[8 + 3] = '\0'; /* the '#' */
  if (raw) io_write_bytes(p, raw, len);
  free(raw);
  io_log_start();
  CHECK_REFUSED("NUL byte in the header", clgan_st_open(p, &f), CLGAN_BAD_FORMAT, p, NULL);
  io_log_start();
  CHECK_REFUSED("missing file", clgan_st_open(in_dir("none.safetensors"), &f), CLGAN_IO_ERROR,
                "none.safetensors", NULL);
  io_log_stop();
}

/* The checksum covers content, not layout: the sample's tensors and metadata in another order,
 * with other spacing, as another tool would re-save them, still pass; a renamed tensor fails. */
static void test_resaved(void) {
  clgan_st_file *f = NULL;
  CHECK(clgan_st_open(in_dir("sample.safetensors"), &f) == CLGAN_OK, "open sample");
  if (!f) return;
  const char *crc = clgan_st_meta(f, "clgan.crc32");
  const char *version = clgan_st_meta(f, "clgan.version");
  char header[2048];
  for (int rename_it = 0; rename_it < 2; rename_it++) {
    snprintf(header, sizeof header,
             "{\"empty\": {\"dtype\": \"F32\", \"shape\": [0, 5], \"data_offsets\": [0, 0]}, "
             "\"moments\": {\"dtype\": \"I64\", \"shape\": [2], \"data_offsets\": [0, 16]}, "
             "\"step\": {\"dtype\": \"I64\", \"shape\": [], \"data_offsets\": [16, 24]}, "
             "\"%s\": {\"dtype\": \"F32\", \"shape\": [4, 3], \"data_offsets\": [24, 72]}, "
             "\"gen.0.bias\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [72, 88]}, "
             "\"odd\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [88, 100]}, "
             "\"__metadata__\": {\"note\": \"quote \\\" backslash \\\\ newline \\n tab \\t utf8 "
             "\xc3\xa9 \xe4\xb8\xad\", \"clgan.crc32\": \"%s\", \"clgan.spec\": \"mlp:784-256-1\", "
             "\"clgan.version\": \"%s\"}}",
             rename_it ? "gen.0.weihgt" : "gen.0.weight", crc ? crc : "", version ? version : "");
    unsigned char data[100];
    memcpy(data, moments, 16);
    memcpy(data + 16, &step, 8);
    memcpy(data + 24, weight, 48);
    memcpy(data + 72, bias, 16);
    memcpy(data + 88, odd, 12);
    const char *p = in_dir("resaved.safetensors");
    write_raw(p, header, -1, data, sizeof data);
    clgan_st_file *g = NULL;
    io_log_start();
    clgan_status st = clgan_st_open(p, &g);
    if (!rename_it)
      CHECK(st == CLGAN_OK, "re-saved file with the same content keeps its checksum: %s", io_log);
    else
      CHECK_REFUSED("renamed tensor", st, CLGAN_BAD_FORMAT, p, "checksum mismatch");
    clgan_st_close(g);
  }
  io_log_stop();
  clgan_st_close(f);
}

static void test_writer_refusals(void) {
  clgan_st_writer *w = NULL;
  float x[2] = {1, 2};
  CHECK(clgan_st_writer_new(&w) == CLGAN_OK, "new writer");
  io_log_start();
  CHECK(clgan_st_add(w, "x", CLGAN_ST_F32, (int64_t[]){2}, 1, x) == CLGAN_OK, "add x");
  CHECK(clgan_st_add(w, "x", CLGAN_ST_F32, (int64_t[]){2}, 1, x) == CLGAN_INVALID_ARGUMENT,
        "duplicate name refused");
  CHECK(strstr(io_log, "'x' added twice") != NULL, "duplicate reported: %s", io_log);
  CHECK(clgan_st_add(w, "__metadata__", CLGAN_ST_F32, (int64_t[]){2}, 1, x) ==
            CLGAN_INVALID_ARGUMENT, "reserved name refused");
  CHECK(clgan_st_add(w, "y", CLGAN_ST_F32, (int64_t[]){-2}, 1, x) == CLGAN_INVALID_ARGUMENT,
        "negative size refused");
  CHECK(clgan_st_add(w, "z", CLGAN_ST_F32, (int64_t[]){2}, 1, NULL) == CLGAN_INVALID_ARGUMENT,
        "missing data refused");
  CHECK(clgan_st_add_meta(w, "clgan.crc32", "0") == CLGAN_INVALID_ARGUMENT, "reserved key");
  CHECK(clgan_st_add_meta(w, "k", "\xff") == CLGAN_INVALID_ARGUMENT, "non-UTF-8 value refused");
  const char *p = in_dir("refused.safetensors");
  CHECK(clgan_st_write(w, p) == CLGAN_INVALID_ARGUMENT && !io_file_exists(p),
        "a writer with a refused entry writes nothing");
  io_log_stop();
  clgan_st_writer_free(w);
  clgan_st_writer_free(NULL);

  char unwritable[1200];
  io_unwritable_path(dir, "ckpt.safetensors", unwritable, sizeof unwritable);
  io_log_start();
  CHECK_REFUSED("a folder that cannot be made", write_sample(unwritable), CLGAN_WRITE_FAILED,
                "plain-file", NULL);
  io_log_stop();
  /* Issue 9, finding 3: a checkpoint that is a link to /dev/zero is refused at once. */
  const char *zero = in_dir("zero.safetensors");
  clgan_st_file *f = NULL;
  if (symlink("/dev/zero", zero) == 0) {
    io_log_start();
    CHECK_REFUSED("a link to /dev/zero", clgan_st_open(zero, &f), CLGAN_IO_ERROR, zero,
                  "not a regular file");
    io_log_stop();
  }
  io_log_start();
  CHECK_REFUSED("a folder", clgan_st_open(dir, &f), CLGAN_IO_ERROR, dir, "a folder");
  io_log_stop();
}

/* The checksum under clgan.crc32 (and the data-set fingerprints): zlib's CRC-32, whose check
 * value is that of "123456789", the same whether a buffer is fed whole or in pieces. */
static void test_crc32(void) {
  const char *digits = "123456789";
  CHECK(clgan_crc32_update(0, digits, 9) == 0xCBF43926UL, "CRC-32 of 123456789: %08lx",
        clgan_crc32_update(0, digits, 9));
  CHECK(clgan_crc32_update(clgan_crc32_update(0, digits, 4), digits + 4, 5) == 0xCBF43926UL,
        "CRC-32 fed in two pieces differs");
  CHECK(clgan_crc32_update(0x1234UL, digits, 0) == 0x1234UL, "no bytes changed the CRC");
}

int main(void) {
  snprintf(dir, sizeof dir, "%s", io_tmpdir("st"));
  test_crc32();
  test_round_trip();
  test_damage();
  test_hostile_headers();
  test_resaved();
  test_writer_refusals();
  if (getenv("CLGAN_KEEP_SAMPLE")) { /* for tests/tools/check_safetensors.py */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s/sample.safetensors", dir);
    printf("sample kept: %s\n", cmd);
  } else {
    io_rm_tree(dir);
  }
  return test_finish();
}
