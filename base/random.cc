#include "base/random.h"

#include <sys/random.h>
#include <sys/types.h>
#include <unistd.h>

#include <ctime>

namespace dpdkudp::base {

uint64_t random_key() {
  uint64_t k = 0;
  for (int i = 0; i < 8; ++i) {
    if (getrandom(&k, sizeof k, 0) == static_cast<ssize_t>(sizeof k)) return k;
  }
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  k = (static_cast<uint64_t>(ts.tv_nsec) << 32) ^ static_cast<uint64_t>(ts.tv_sec) ^ static_cast<uint64_t>(getpid());
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  return k ^ (k >> 33);
}

}  // namespace dpdkudp::base
