#include "backends/af_xdp/af_xdp.h"

#include "backends/af_xdp/af_xdp_backend.h"

namespace dpdkudp {

AfXdpOpened open_af_xdp(const AfXdpConfig& config, std::string* error) {
  AfXdpOpened opened;
  std::unique_ptr<AfXdpBackend> backend = AfXdpBackend::open(config, error);
  if (!backend) {
    return opened;
  }
  opened.steering = backend.get();
  opened.mode_description = backend->mode_description();
  opened.backend = std::move(backend);
  return opened;
}

}  // namespace dpdkudp
