#include "base/process.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace dpdkudp::base {

uint64_t process_start_time(uint32_t pid) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%u/stat", pid);
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return 0;
  }
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  if (n <= 0) {
    return 0;
  }
  buf[n] = '\0';
  // The command name may hold spaces and parentheses: fields count from
  // the last ')'. starttime is field 22, the 20th after it.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) {
    return 0;
  }
  for (int field = 2; field < 22 && p != nullptr; ++field) {
    p = std::strchr(p + 1, ' ');
  }
  return p == nullptr ? 0 : std::strtoull(p + 1, nullptr, 10);
}

}  // namespace dpdkudp::base
