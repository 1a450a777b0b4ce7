/*
 * rlimit-exec BYTES PROGRAM [ARGS...]: runs PROGRAM with its address space capped at BYTES, so a
 * memory bomb fails its allocation (and ffmpeg exits with an error) instead of the Lambda's whole
 * sandbox being OOM-killed. Node cannot set a child's rlimits and Lambda's image has no prlimit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: rlimit-exec BYTES PROGRAM [ARGS...]\n");
    return 2;
  }
  char *end;
  errno = 0;
  unsigned long long bytes = strtoull(argv[1], &end, 10);
  if (errno != 0 || *end != '\0' || bytes == 0) {
    fprintf(stderr, "rlimit-exec: bad byte count %s\n", argv[1]);
    return 2;
  }
  struct rlimit as = {bytes, bytes};
  struct rlimit core = {0, 0};
  if (setrlimit(RLIMIT_AS, &as) != 0 || setrlimit(RLIMIT_CORE, &core) != 0) {
    fprintf(stderr, "rlimit-exec: setrlimit: %s\n", strerror(errno));
    return 2;
  }
  execvp(argv[2], argv + 2);
  fprintf(stderr, "rlimit-exec: %s: %s\n", argv[2], strerror(errno));
  return 127;
}
