#include "stack/wire/arp.h"

#include "stack/wire/ethernet.h"

namespace dpdkudp::wire {

std::optional<ArpPacket> ArpPacket::parse(std::span<const uint8_t> bytes) {
  if (bytes.size() < kLen) return std::nullopt;
  const uint8_t* p = bytes.data();
  if (load_be16(p + kHtypeOffset) != kHtypeEthernet || load_be16(p + kPtypeOffset) != ethertype::kIpv4 ||
      p[kHlenOffset] != 6 || p[kPlenOffset] != 4) {
    return std::nullopt;
  }
  return ArpPacket(p);
}

std::optional<ArpRepr> ArpRepr::parse(const ArpPacket& packet) {
  uint16_t op = packet.oper();
  if (op != static_cast<uint16_t>(ArpOp::kRequest) && op != static_cast<uint16_t>(ArpOp::kReply)) {
    return std::nullopt;
  }
  return ArpRepr{static_cast<ArpOp>(op), packet.sender_mac(), packet.sender_ip(), packet.target_mac(),
                 packet.target_ip()};
}

void ArpRepr::emit(std::span<uint8_t> out) const {
  uint8_t* p = out.data();
  store_be16(p + ArpPacket::kHtypeOffset, ArpPacket::kHtypeEthernet);
  store_be16(p + ArpPacket::kPtypeOffset, ethertype::kIpv4);
  p[ArpPacket::kHlenOffset] = 6;
  p[ArpPacket::kPlenOffset] = 4;
  store_be16(p + ArpPacket::kOperOffset, static_cast<uint16_t>(op));
  store_mac(p + ArpPacket::kShaOffset, sender_mac);
  sender_ip.store(p + ArpPacket::kSpaOffset);
  store_mac(p + ArpPacket::kThaOffset, target_mac);
  target_ip.store(p + ArpPacket::kTpaOffset);
}

}  // namespace dpdkudp::wire
