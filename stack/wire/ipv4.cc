#include "stack/wire/ipv4.h"

#include "stack/wire/checksum.h"

namespace dpdkudp::wire {

bool Ipv4Packet::verify_checksum() const { return checksum_fold(p_, header_len()) == 0xffff; }

Ipv4Repr Ipv4Repr::parse(const Ipv4Packet& packet) {
  return Ipv4Repr{
      packet.src(), packet.dst(), packet.protocol(), static_cast<uint16_t>(packet.total_len() - packet.header_len()),
      packet.ttl(), packet.tos(), packet.ident(),    packet.dont_fragment()};
}

void Ipv4Repr::emit(std::span<uint8_t> out, bool fill_checksum) const {
  uint8_t* p = out.data();
  p[Ipv4Packet::kVerIhlOffset] = 0x45;
  p[Ipv4Packet::kTosOffset] = tos;
  store_be16(p + Ipv4Packet::kTotalLenOffset, static_cast<uint16_t>(kBufferLen + payload_len));
  store_be16(p + Ipv4Packet::kIdentOffset, ident);
  store_be16(p + Ipv4Packet::kFlagsFragOffset, dont_fragment ? Ipv4Packet::kFlagDontFragment : 0);
  p[Ipv4Packet::kTtlOffset] = ttl;
  p[Ipv4Packet::kProtocolOffset] = protocol;
  store_be16(p + Ipv4Packet::kChecksumOffset, 0);
  src.store(p + Ipv4Packet::kSrcOffset);
  dst.store(p + Ipv4Packet::kDstOffset);
  if (fill_checksum) {
    // Summed from the fields, not read back from the header just written.
    uint16_t flags = dont_fragment ? Ipv4Packet::kFlagDontFragment : 0;
    uint32_t sum = 0x4500u + tos + static_cast<uint32_t>(kBufferLen + payload_len) + ident + flags +
                   (uint32_t{ttl} << 8) + protocol + (src.value >> 16) + (src.value & 0xffff) + (dst.value >> 16) +
                   (dst.value & 0xffff);
    store_be16(p + Ipv4Packet::kChecksumOffset, static_cast<uint16_t>(~fold32(sum)));
  }
}

}  // namespace dpdkudp::wire
