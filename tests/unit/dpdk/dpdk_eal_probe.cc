// A separate process for what can happen only once per process: EAL
// failing to start. dpdk_child_test.cc runs it and checks its output.
//
//   dpdk_eal_probe open "<eal args>" [port]   open_dpdk(), then open again
//   dpdk_eal_probe list "<eal args>"          list_dpdk_ports()
//
// Prints "error: <line>" for each failure (the second open after a failed
// EAL start too), "opened: <description>" or the port list, to stderr
// with the marker "probe: " so the parent tells it from anything else; and
// "probe-stdout-marker" on stdout, so the parent sees stdout survived.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "backends/dpdk/dpdk.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s open|list \"<eal args>\" [port]\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  std::printf("probe-stdout-marker\n");
  std::fflush(stdout);
  if (mode == "list") {
    std::string error;
    const auto ports = dpdkudp::list_dpdk_ports(argv[2], &error);
    if (!error.empty()) {
      std::fprintf(stderr, "probe: error: %s\n", error.c_str());
      return 1;
    }
    for (const auto& p : ports) {
      const std::string text = dpdkudp::to_string(p);
      size_t start = 0;
      for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::fprintf(stderr, "probe: %s\n", text.substr(start, nl - start).c_str());
      }
    }
    std::fprintf(stderr, "probe: %zu port(s)\n", ports.size());
    return 0;
  }
  dpdkudp::DpdkConfig config;
  config.eal_args = argv[2];
  config.port = static_cast<uint16_t>(argc > 3 ? std::atoi(argv[3]) : 0);
  config.rx_ring = 256;
  config.tx_ring = 256;
  config.socket_mbufs = 1024;
  int failures = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::string error;
    auto backend = dpdkudp::open_dpdk(config, &error);
    if (backend == nullptr) {
      std::fprintf(stderr, "probe: error: %s\n", error.c_str());
      ++failures;
    } else {
      std::fprintf(stderr, "probe: opened: %s\n", dpdkudp::describe_dpdk_backend(*backend).c_str());
    }
  }
  std::printf("probe-stdout-end\n");
  return failures == 0 ? 0 : 1;
}
