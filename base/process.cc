#include "base/process.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace dpdkudp::base {

namespace {

// /proc/<pid>/stat's state (field 3), starttime (field 22) and, when
// asked, ppid (field 4); false when the process is gone.
bool read_stat(uint32_t pid, char* state, uint64_t* start_time, uint32_t* ppid = nullptr) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%u/stat", pid);
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  if (n <= 0) {
    return false;
  }
  buf[n] = '\0';
  // The command name may hold spaces and parentheses: fields count from
  // the last ')'. The state is field 3, starttime field 22, the 20th after it.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr || p[1] != ' ' || p[2] == '\0') {
    return false;
  }
  *state = p[2];
  if (ppid != nullptr) {
    *ppid = static_cast<uint32_t>(std::strtoul(p + 4, nullptr, 10));  // after "S "
  }
  for (int field = 2; field < 22 && p != nullptr; ++field) {
    p = std::strchr(p + 1, ' ');
  }
  if (p == nullptr) {
    return false;
  }
  *start_time = std::strtoull(p + 1, nullptr, 10);
  return true;
}

}  // namespace

uint64_t process_start_time(uint32_t pid) {
  char state = 0;
  uint64_t start = 0;
  return read_stat(pid, &state, &start) ? start : 0;
}

bool process_running(uint32_t pid, uint64_t start_time) {
  char state = 0;
  uint64_t start = 0;
  return pid != 0 && read_stat(pid, &state, &start) && start == start_time && state != 'Z' && state != 'X';
}

bool is_ancestor(uint32_t pid) {
  if (pid == 0) {
    return false;
  }
  auto p = static_cast<uint32_t>(::getppid());
  // Bounded: a chain longer than this is not a pre-forking server's.
  for (int depth = 0; depth < 16 && p > 1; ++depth) {
    if (p == pid) {
      return true;
    }
    char state = 0;
    uint64_t start = 0;
    uint32_t up = 0;
    if (!read_stat(p, &state, &start, &up)) {
      return false;
    }
    p = up;
  }
  return p == pid;
}

int64_t process_fs_uid(uint32_t pid) {
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%u/status", pid);
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) {
    return -1;
  }
  char line[256];
  int64_t uid = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    unsigned long real = 0, effective = 0, saved = 0, fs = 0;
    if (std::sscanf(line, "Uid: %lu %lu %lu %lu", &real, &effective, &saved, &fs) == 4) {
      uid = static_cast<int64_t>(fs);
      break;
    }
  }
  std::fclose(f);
  return uid;
}

}  // namespace dpdkudp::base
