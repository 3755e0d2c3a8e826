#include "backends/af_packet/af_packet.h"

#include "backends/af_packet/af_packet_backend.h"
#include "backends/af_packet/af_packet_mmap_backend.h"

namespace dpdkudp {

std::unique_ptr<Backend> open_af_packet(const AfPacketConfig& config, std::string* error) {
  if (config.mmap) {
    return AfPacketMmapBackend::open(config, error);
  }
  return AfPacketBackend::open(config, error);
}

}  // namespace dpdkudp
