#include "backends/af_packet/af_packet_module.h"

#include <algorithm>

#include "backends/af_packet/af_packet.h"

namespace dpdkudp {
namespace {

BackendOpened open_packet_socket(const BackendOpenRequest& request, bool mmap, std::string* error) {
  AfPacketConfig c;
  c.iface = request.iface;
  c.mmap = mmap;
  c.filter_ipv4 = {request.ipv4, request.ipv4_broadcast};
  c.filter_ipv6 = !request.ipv6.empty();
  // The RX ring setting counts frames; the TPACKET_V3 ring counts 128 KiB
  // blocks (about 16 veth-sized frames each).
  if (request.rx_ring != 0) c.rx_block_count = std::max<uint32_t>(8, request.rx_ring / 16);
  if (request.tx_ring != 0) c.tx_frame_count = request.tx_ring;
  BackendOpened out;
  out.backend = open_af_packet(c, error);
  return out;
}

BackendOpened open_plain(const BackendOpenRequest& request, std::string* error) {
  return open_packet_socket(request, false, error);
}

BackendOpened open_mmap(const BackendOpenRequest& request, std::string* error) {
  return open_packet_socket(request, true, error);
}

const BackendModule kPlain{kBackendModuleAbi, DPDKUDP_VERSION, "af_packet", open_plain};
const BackendModule kMmap{kBackendModuleAbi, DPDKUDP_VERSION, "af_packet_mmap", open_mmap};

}  // namespace

const BackendModule* af_packet_module() { return &kPlain; }
const BackendModule* af_packet_mmap_module() { return &kMmap; }

}  // namespace dpdkudp
