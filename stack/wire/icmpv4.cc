#include "stack/wire/icmpv4.h"

#include <cstring>

#include "stack/wire/checksum.h"

namespace dpdkudp::wire {

std::optional<Icmpv4Packet> Icmpv4Packet::parse(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderLen) return std::nullopt;
  return Icmpv4Packet(bytes);
}

bool Icmpv4Packet::verify_checksum() const { return checksum_fold(bytes_.data(), bytes_.size()) == 0xffff; }

void Icmpv4Repr::emit(std::span<uint8_t> out) const {
  uint8_t* p = out.data();
  // Data first: it may alias the tail of out (in-place echo reply).
  if (!data.empty() && data.data() != p + Icmpv4Packet::kHeaderLen) {
    std::memmove(p + Icmpv4Packet::kHeaderLen, data.data(), data.size());
  }
  p[Icmpv4Packet::kTypeOffset] = type;
  p[Icmpv4Packet::kCodeOffset] = code;
  store_be16(p + Icmpv4Packet::kChecksumOffset, 0);
  switch (type) {
    case icmp_type::kEchoReply:
    case icmp_type::kEchoRequest:
      store_be16(p + Icmpv4Packet::kRestOffset, ident);
      store_be16(p + Icmpv4Packet::kRestOffset + 2, seq);
      break;
    case icmp_type::kDestUnreachable:
      store_be16(p + Icmpv4Packet::kRestOffset, 0);
      store_be16(p + Icmpv4Packet::kRestOffset + 2, next_hop_mtu);
      break;
    default: store_be32(p + Icmpv4Packet::kRestOffset, 0); break;
  }
  store_be16(p + Icmpv4Packet::kChecksumOffset, internet_checksum(p, buffer_len()));
}

}  // namespace dpdkudp::wire
