// Preloaded (LD_PRELOAD) by a CLI test to play a file system without locks, as Lustre mounted without
// -o flock: every flock(2) fails with ENOSYS.
#include <cerrno>

extern "C" int flock(int, int) {
  errno = ENOSYS;
  return -1;
}
