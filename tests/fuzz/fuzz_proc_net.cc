// libFuzzer target: the /proc/net parsers (route, arp, if_inet6,
// ipv6_route) on arbitrary file contents. Rows that do not parse are
// skipped; nothing crashes.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "stack/net/proc_net.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dpdkudp::stack;
  static const int fd = memfd_create("fuzz_proc_net", 0);
  if (fd < 0) std::abort();
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) std::abort();
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  for (const char* dev : {"eth0", "veth1", ""}) {
    (void)read_proc_net_route(path, dev);
    (void)read_proc_net_arp(path, dev);
    (void)read_proc_net_if_inet6(path, dev);
    (void)read_proc_net_ipv6_route(path, dev);
  }
  return 0;
}
