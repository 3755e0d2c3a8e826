// The shim in secure-execution mode (secure.sh): loads libdpdkudp.so by its
// path (the dynamic loader ignores LD_PRELOAD paths for a setuid program, so
// the probe loads it itself), opens a UDP socket through the shim's
// socket(), and reports AT_SECURE and the result.
//   secure_probe /path/to/libdpdkudp.so
#include <dlfcn.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: secure_probe LIBDPDKUDP_SO\n");
    return 2;
  }
  void* shim = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (shim == nullptr) {
    std::fprintf(stderr, "secure_probe: dlopen: %s\n", dlerror());
    return 2;
  }
  using SocketFn = int (*)(int, int, int);
  auto shim_socket = reinterpret_cast<SocketFn>(dlsym(shim, "socket"));
  if (shim_socket == nullptr) {
    std::fprintf(stderr, "secure_probe: no socket() in the shim\n");
    return 2;
  }
  const int fd = shim_socket(AF_INET, SOCK_DGRAM, 0);
  std::printf("at_secure=%lu euid=%d fd=%s\n", getauxval(AT_SECURE), static_cast<int>(geteuid()),
              fd >= 0 ? "ok" : "failed");
  return fd >= 0 ? 0 : 1;
}
