// The DPDK backend as a module: libdpdkudp-dpdk.so's one exported symbol
// (backends/api/backend_module.h).
#include "backends/api/backend_module.h"
#include "backends/dpdk/dpdk.h"

namespace dpdkudp {
namespace {

BackendOpened open_module(const BackendOpenRequest& request, std::string* error) {
  DpdkConfig c;
  c.eal_args = request.eal_args;
  c.port = request.dpdk_port;
  c.queues = request.queues;
  if (request.rx_ring != 0) c.rx_ring = request.rx_ring;
  if (request.tx_ring != 0) c.tx_ring = request.tx_ring;
  c.mtu = request.mtu;
  c.vlan_strip = request.vlan_offload;
  c.vlan_insert = request.vlan_offload;
  c.eal_thread_init = request.thread_init;
  if (request.log) {
    auto log = request.log;
    c.log = [log](DpdkLogLevel level, const std::string& line) {
      log(level == DpdkLogLevel::kError  ? BackendLogLevel::kError
          : level == DpdkLogLevel::kWarn ? BackendLogLevel::kWarn
                                         : BackendLogLevel::kInfo,
          line);
    };
  }
  BackendOpened out;
  out.backend = open_dpdk(c, error);
  if (out.backend) {
    out.description = describe_dpdk_backend(*out.backend) + " offloads: " + describe_dpdk_offloads(*out.backend);
  }
  return out;
}

const BackendModule kModule{kBackendModuleAbi, DPDKUDP_VERSION, "dpdk", open_module};

}  // namespace
}  // namespace dpdkudp

extern "C" __attribute__((visibility("default"))) const dpdkudp::BackendModule* dpdkudp_backend_module() {
  return &dpdkudp::kModule;
}
