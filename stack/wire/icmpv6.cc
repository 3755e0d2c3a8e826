#include "stack/wire/icmpv6.h"

#include <cstring>

#include "stack/wire/checksum.h"
#include "stack/wire/ip_proto.h"

namespace dpdkudp::wire {

bool Icmpv6Packet::verify_checksum(const Ipv6Addr& src, const Ipv6Addr& dst) const {
  uint32_t pseudo = ipv6_pseudo_header_sum(src, dst, ip_proto::kIcmpv6, static_cast<uint32_t>(bytes_.size()));
  return checksum_fold(bytes_.data(), bytes_.size(), pseudo) == 0xffff;
}

void Icmpv6Repr::emit(std::span<uint8_t> out, const Ipv6Addr& src, const Ipv6Addr& dst) const {
  uint8_t* p = out.data();
  // Data first: it may alias the tail of out (in-place echo reply).
  if (!data.empty() && data.data() != p + Icmpv6Packet::kHeaderLen) {
    std::memmove(p + Icmpv6Packet::kHeaderLen, data.data(), data.size());
  }
  p[Icmpv6Packet::kTypeOffset] = type;
  p[Icmpv6Packet::kCodeOffset] = code;
  store_be16(p + Icmpv6Packet::kChecksumOffset, 0);
  switch (type) {
    case icmpv6_type::kEchoRequest:
    case icmpv6_type::kEchoReply:
      store_be16(p + Icmpv6Packet::kRestOffset, ident);
      store_be16(p + Icmpv6Packet::kRestOffset + 2, seq);
      break;
    case icmpv6_type::kPacketTooBig: store_be32(p + Icmpv6Packet::kRestOffset, mtu); break;
    case icmpv6_type::kParameterProblem: store_be32(p + Icmpv6Packet::kRestOffset, pointer); break;
    default:  // unused: zero (§3.1, §3.3)
      store_be32(p + Icmpv6Packet::kRestOffset, 0);
      break;
  }
  auto len = static_cast<uint32_t>(buffer_len());
  uint32_t pseudo = ipv6_pseudo_header_sum(src, dst, ip_proto::kIcmpv6, len);
  store_be16(p + Icmpv6Packet::kChecksumOffset, internet_checksum(p, len, pseudo));
}

}  // namespace dpdkudp::wire
