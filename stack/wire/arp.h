// ARP for IPv4 over Ethernet (RFC 826).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/wire/bytes.h"

namespace dpdkudp::wire {

enum class ArpOp : uint16_t { kRequest = 1, kReply = 2 };

class ArpPacket {
 public:
  static constexpr size_t kLen = 28;
  static constexpr size_t kHtypeOffset = 0;
  static constexpr size_t kPtypeOffset = 2;
  static constexpr size_t kHlenOffset = 4;
  static constexpr size_t kPlenOffset = 5;
  static constexpr size_t kOperOffset = 6;
  static constexpr size_t kShaOffset = 8;
  static constexpr size_t kSpaOffset = 14;
  static constexpr size_t kThaOffset = 18;
  static constexpr size_t kTpaOffset = 24;
  static constexpr uint16_t kHtypeEthernet = 1;

  // Accepts only Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4).
  static std::optional<ArpPacket> parse(std::span<const uint8_t> bytes);

  uint16_t oper() const { return load_be16(p_ + kOperOffset); }
  MacAddr sender_mac() const { return load_mac(p_ + kShaOffset); }
  Ipv4Addr sender_ip() const { return Ipv4Addr::load(p_ + kSpaOffset); }
  MacAddr target_mac() const { return load_mac(p_ + kThaOffset); }
  Ipv4Addr target_ip() const { return Ipv4Addr::load(p_ + kTpaOffset); }

 private:
  explicit ArpPacket(const uint8_t* p) : p_(p) {}
  const uint8_t* p_;
};

struct ArpRepr {
  ArpOp op = ArpOp::kRequest;
  MacAddr sender_mac{};
  Ipv4Addr sender_ip;
  MacAddr target_mac{};
  Ipv4Addr target_ip;

  static constexpr size_t kBufferLen = ArpPacket::kLen;
  // Unknown opcodes yield nullopt.
  static std::optional<ArpRepr> parse(const ArpPacket& packet);
  void emit(std::span<uint8_t> out) const;  // out.size() >= kBufferLen
};

}  // namespace dpdkudp::wire
