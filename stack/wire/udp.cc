#include "stack/wire/udp.h"

#include "stack/wire/ipv4.h"

namespace dpdkudp::wire {

bool UdpDatagram::verify_checksum(Ipv4Addr src, Ipv4Addr dst) const {
  if (checksum() == 0) return true;  // RFC 768: no checksum was computed
  uint32_t pseudo = ipv4_pseudo_header_sum(src, dst, ip_proto::kUdp, length());
  return checksum_fold(p_, length(), pseudo) == 0xffff;
}

void UdpRepr::emit(std::span<uint8_t> datagram, Ipv4Addr src, Ipv4Addr dst, ChecksumMode mode) const {
  uint8_t* p = datagram.data();
  auto length = static_cast<uint16_t>(datagram.size());
  store_be16(p + UdpDatagram::kSrcPortOffset, src_port);
  store_be16(p + UdpDatagram::kDstPortOffset, dst_port);
  store_be16(p + UdpDatagram::kLengthOffset, length);
  store_be16(p + UdpDatagram::kChecksumOffset, 0);
  uint32_t pseudo = ipv4_pseudo_header_sum(src, dst, ip_proto::kUdp, length);
  switch (mode) {
    case ChecksumMode::kFull: {
      uint16_t sum = internet_checksum(p, length, pseudo);
      // RFC 768: a computed checksum of zero is transmitted as all ones.
      store_be16(p + UdpDatagram::kChecksumOffset, sum == 0 ? 0xffff : sum);
      break;
    }
    case ChecksumMode::kPseudoHeader:
      store_be16(p + UdpDatagram::kChecksumOffset, fold32(pseudo));
      break;
    case ChecksumMode::kNone:
      break;
  }
}

void UdpRepr::emit_with_payload_sum(std::span<uint8_t> datagram, Ipv4Addr src, Ipv4Addr dst,
                                    uint16_t payload_sum) const {
  uint8_t* p = datagram.data();
  auto length = static_cast<uint16_t>(datagram.size());
  store_be16(p + UdpDatagram::kSrcPortOffset, src_port);
  store_be16(p + UdpDatagram::kDstPortOffset, dst_port);
  store_be16(p + UdpDatagram::kLengthOffset, length);
  // The header's words: ports, length, and a zero checksum field.
  uint32_t sum = ipv4_pseudo_header_sum(src, dst, ip_proto::kUdp, length) + src_port + dst_port + length +
                 payload_sum;
  auto checksum = static_cast<uint16_t>(~fold32(sum));
  // RFC 768: a computed checksum of zero is transmitted as all ones.
  store_be16(p + UdpDatagram::kChecksumOffset, checksum == 0 ? 0xffff : checksum);
}

}  // namespace dpdkudp::wire
