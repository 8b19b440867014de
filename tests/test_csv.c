/* CSV metrics: the exact text written (integers without a decimal point, 9 significant digits,
 * nan and inf), appending on resume without a second header, refusing a resume with other
 * columns, dropping a partial last line and the rows after the resume point, and reading a
 * log back. Needs no OpenCL device. */
#include <math.h>
#include <sys/wait.h>

#include "clgan/io.h"
#include "io_testutil.h"

static char dir[512];

static char *slurp(const char *path) {
  size_t len = 0;
  unsigned char *raw = io_read_bytes(path, &len);
  char *s = calloc(1, len + 1);
  if (raw) memcpy(s, raw, len);
  free(raw);
  return s;
}

static const char *const cols[] = {"step", "loss_d", "loss_g"};

static clgan_status open_log(clgan_csv **csv, const char *path, int append, int keep,
                             double until) {
  clgan_csv_cfg cfg = {path, cols, 3, append, keep, until};
  return clgan_csv_open(csv, &cfg);
}

static void add_rows(clgan_csv *csv, int from, int to) {
  for (int s = from; s <= to; s++) {
    double row[3] = {s, 1.0 / s, 0.5 * s};
    CHECK(clgan_csv_row(csv, row, 3) == CLGAN_OK, "row %d", s);
  }
}

int main(void) {
  snprintf(dir, sizeof dir, "%s", io_tmpdir("csv"));
  char path[700];
  snprintf(path, sizeof path, "%s/run/metrics.csv", dir);
  clgan_csv *csv = NULL;

  CHECK(open_log(&csv, path, 0, 0, 0) == CLGAN_OK, "new log in a new folder");
  double r1[3] = {1, 0.693147182, -2.5}, r2[3] = {1000000, 1.0 / 3.0, NAN},
         r3[3] = {2e15, INFINITY, -INFINITY};
  CHECK(clgan_csv_row(csv, r1, 3) == CLGAN_OK && clgan_csv_row(csv, r2, 3) == CLGAN_OK &&
            clgan_csv_row(csv, r3, 3) == CLGAN_OK,
        "three rows");
  char *text = slurp(path);
  const char *want = "step,loss_d,loss_g\n1,0.693147182,-2.5\n1000000,0.333333333,nan\n"
                     "2e+15,inf,-inf\n";
  CHECK(!strcmp(text, want), "rows are on disk before close, exactly:\n%s\nwant:\n%s", text, want);
  free(text);
  io_log_start();
  CHECK(clgan_csv_row(csv, r1, 2) == CLGAN_INVALID_ARGUMENT, "a short row is refused");
  CHECK(strstr(io_log, "2 values for 3 columns") != NULL, "and reported: %s", io_log);
  io_log_stop();
  CHECK(clgan_csv_close(csv) == CLGAN_OK, "close");
  CHECK(clgan_csv_close(NULL) == CLGAN_OK, "close(NULL)");

  /* A fresh run replaces the log; a resume appends without a second header. */
  CHECK(open_log(&csv, path, 0, 0, 0) == CLGAN_OK, "replace");
  add_rows(csv, 1, 3);
  clgan_csv_close(csv);
  CHECK(open_log(&csv, path, 1, 0, 0) == CLGAN_OK, "append");
  add_rows(csv, 4, 5);
  clgan_csv_close(csv);
  clgan_csv_table t;
  CHECK(clgan_csv_read(path, &t) == CLGAN_OK, "read back");
  CHECK(t.ncols == 3 && t.rows == 5, "one header, 5 rows: %d x %d", t.rows, t.ncols);
  CHECK(clgan_csv_column(&t, "loss_g") == 2 && clgan_csv_column(&t, "nope") == -1, "columns");
  int bad = 0;
  for (int i = 0; i < t.rows && t.ncols == 3; i++)
    bad += t.values[i * 3] != i + 1 || fabs(t.values[i * 3 + 1] - 1.0 / (i + 1)) > 1e-9 ||
           t.values[i * 3 + 2] != 0.5 * (i + 1);
  CHECK(t.rows == 5 && bad == 0, "%d rows read back wrong", bad);
  clgan_csv_table_free(&t);
  clgan_csv_table_free(&t);

  /* A crash mid-row leaves a partial line; a resume from step 3 drops rows 4 and 5 too. */
  FILE *f = fopen(path, "ab");
  fputs("6,0.16", f);
  fclose(f);
  io_log_start();
  CHECK(open_log(&csv, path, 1, 1, 3) == CLGAN_OK, "resume from step 3");
  CHECK(strstr(io_log, "partial last line") && strstr(io_log, "dropped 2 rows"),
        "both drops are reported: %s", io_log);
  io_log_stop();
  add_rows(csv, 4, 4);
  clgan_csv_close(csv);
  text = slurp(path);
  want = "step,loss_d,loss_g\n1,1,0.5\n2,0.5,1\n3,0.333333333,1.5\n4,0.25,2\n";
  CHECK(!strcmp(text, want), "resumed log:\n%s\nwant:\n%s", text, want);
  free(text);
  char run[600];
  snprintf(run, sizeof run, "%s/run", dir);
  CHECK(io_count_tmp(run) == 0, "no temporary file left behind");

  /* Resuming with other columns is refused; an empty or missing file gets the header. */
  const char *other[] = {"step", "loss"};
  clgan_csv_cfg cfg = {path, other, 2, 1, 0, 0};
  io_log_start();
  CHECK_REFUSED("other columns", clgan_csv_open(&csv, &cfg), CLGAN_BAD_FORMAT, path,
                "'step,loss_d,loss_g' differ from this run's 'step,loss'");
  CHECK(csv == NULL, "no handle after a refusal");
  const char *names_bad[] = {"a,b"};
  cfg = (clgan_csv_cfg){path, names_bad, 1, 0, 0, 0};
  CHECK(clgan_csv_open(&csv, &cfg) == CLGAN_INVALID_ARGUMENT, "a comma in a column name");
  io_log_stop();
  char empty[700];
  snprintf(empty, sizeof empty, "%s/empty.csv", dir);
  io_write_bytes(empty, "", 0);
  CHECK(open_log(&csv, empty, 1, 0, 0) == CLGAN_OK, "append to an empty file");
  clgan_csv_close(csv);
  text = slurp(empty);
  CHECK(!strcmp(text, "step,loss_d,loss_g\n"), "empty file gets the header: '%s'", text);

  /* What a run killed during a rewrite leaves (metrics.csv.tmp.<pid of a dead process>) goes
   * when the log is opened again, even for appending. */
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, NULL, 0);
  char stale[800];
  snprintf(stale, sizeof stale, "%s.tmp.%ld", empty, (long)child);
  io_write_bytes(stale, "partial", 7);
  CHECK(open_log(&csv, empty, 1, 0, 0) == CLGAN_OK, "append again");
  clgan_csv_close(csv);
  CHECK(!io_file_exists(stale), "a dead run's temporary is removed on open");

  /* A log that cannot be written is a runtime failure (CLGAN_WRITE_FAILED, exit 1). */
  char unwritable[1200];
  io_unwritable_path(dir, "metrics.csv", unwritable, sizeof unwritable);
  io_log_start();
  CHECK_REFUSED("a log in a folder that cannot be made", open_log(&csv, unwritable, 0, 0, 0),
                CLGAN_WRITE_FAILED, "plain-file", NULL);
  io_log_stop();
  free(text);
  snprintf(empty, sizeof empty, "%s/fresh.csv", dir);
  CHECK(open_log(&csv, empty, 1, 0, 0) == CLGAN_OK, "append to a missing file");
  clgan_csv_close(csv);
  text = slurp(empty);
  CHECK(!strcmp(text, "step,loss_d,loss_g\n"), "missing file gets the header: '%s'", text);
  free(text);

  /* The reader: CRLF, empty cells, blank lines; refusals name the file and line. */
  io_write_bytes(empty, "a,b\r\n1,\r\n\r\n,2.5\r\n", 17);
  CHECK(clgan_csv_read(empty, &t) == CLGAN_OK && t.rows == 2 && t.ncols == 2, "CRLF file");
  CHECK(t.values && t.values[0] == 1 && isnan(t.values[1]) && isnan(t.values[2]) &&
            t.values[3] == 2.5,
        "empty cells read as NaN");
  clgan_csv_table_free(&t);
  io_write_bytes(empty, "a,b\n1,2\n3,x\n", 12);
  io_log_start();
  CHECK_REFUSED("text cell", clgan_csv_read(empty, &t), CLGAN_BAD_FORMAT, empty,
                "line 3, column b: 'x' is not a number");
  io_write_bytes(empty, "a,b\n1,2,3\n", 10);
  io_log_start();
  CHECK_REFUSED("extra cell", clgan_csv_read(empty, &t), CLGAN_BAD_FORMAT, empty,
                "line 2 has more than 2 cells");
  io_write_bytes(empty, "a,b\n1\n", 6);
  io_log_start();
  CHECK_REFUSED("missing cell", clgan_csv_read(empty, &t), CLGAN_BAD_FORMAT, empty,
                "line 2 has only 1 of 2 cells (no column b)");
  CHECK(t.values == NULL && t.columns == NULL, "table zeroed after a refusal");
  io_log_stop();
  io_rm_tree(dir);
  return test_finish();
}
