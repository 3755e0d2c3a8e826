// The AF_XDP backend as a module: libdpdkudp-af_xdp.so's one exported
// symbol (backends/api/backend_module.h).
#include "backends/af_xdp/af_xdp.h"
#include "backends/api/backend_module.h"

namespace dpdkudp {
namespace {

BackendOpened open_module(const BackendOpenRequest& request, std::string* error) {
  AfXdpConfig c;
  c.iface = request.iface;
  c.mode = request.xdp_mode;
  c.queues = request.queues;
  if (request.rx_ring != 0) c.ring_size = request.rx_ring;
  c.dedicated = request.dedicated;
  c.ipv4 = request.ipv4;
  c.ipv6 = request.ipv6;
  AfXdpOpened opened = open_af_xdp(c, error);
  BackendOpened out;
  out.steering = opened.steering;
  out.description = std::move(opened.mode_description);
  out.backend = std::move(opened.backend);
  return out;
}

const BackendModule kModule{kBackendModuleAbi, DPDKUDP_VERSION, "af_xdp", open_module};

}  // namespace
}  // namespace dpdkudp

extern "C" __attribute__((visibility("default"))) const dpdkudp::BackendModule* dpdkudp_backend_module() {
  return &dpdkudp::kModule;
}
