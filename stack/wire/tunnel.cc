#include "stack/wire/tunnel.h"

#include <cstring>

namespace dpdkudp::wire {

void emit_vxlan(uint8_t* out, uint32_t vni) {
  store_be32(out, uint32_t{VxlanHeader::kFlagVni} << 24);
  store_be32(out + 4, (vni & 0xffffff) << 8);
}

void emit_geneve(uint8_t* out, uint32_t vni, uint16_t protocol, std::span<const uint8_t> options) {
  out[0] = static_cast<uint8_t>(options.size() / 4);
  out[1] = 0;
  store_be16(out + 2, protocol);
  store_be32(out + 4, (vni & 0xffffff) << 8);
  if (!options.empty()) std::memcpy(out + GeneveHeader::kFixedLen, options.data(), options.size());
}

void emit_gue(uint8_t* out, uint8_t protocol) {
  out[0] = 0;
  out[1] = protocol;
  out[2] = 0;
  out[3] = 0;
}

}  // namespace dpdkudp::wire
