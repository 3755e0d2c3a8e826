// Ethernet II and the 802.1Q VLAN tag (IEEE 802.1Q-2018 §9.6).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/wire/bytes.h"

namespace dpdkudp::wire {

namespace ethertype {
inline constexpr uint16_t kIpv4 = 0x0800;
inline constexpr uint16_t kArp = 0x0806;
inline constexpr uint16_t kVlan = 0x8100;  // C-tag
inline constexpr uint16_t kQinQ = 0x88a8;  // S-tag
inline constexpr uint16_t kIpv6 = 0x86dd;
}  // namespace ethertype

// Ethernet II header: dst(6) src(6) ethertype(2).
class EthernetFrame {
 public:
  static constexpr size_t kHeaderLen = 14;
  static constexpr size_t kDstOffset = 0;
  static constexpr size_t kSrcOffset = 6;
  static constexpr size_t kEtherTypeOffset = 12;

  static std::optional<EthernetFrame> parse(std::span<const uint8_t> bytes) {
    if (bytes.size() < kHeaderLen) return std::nullopt;
    return EthernetFrame(bytes);
  }

  MacAddr dst() const { return load_mac(bytes_.data() + kDstOffset); }
  MacAddr src() const { return load_mac(bytes_.data() + kSrcOffset); }
  uint16_t ethertype() const { return load_be16(bytes_.data() + kEtherTypeOffset); }
  std::span<const uint8_t> payload() const { return bytes_.subspan(kHeaderLen); }

 private:
  explicit EthernetFrame(std::span<const uint8_t> b) : bytes_(b) {}
  std::span<const uint8_t> bytes_;
};

// The 4 bytes that follow an ethertype of 0x8100: TCI(2) + inner type(2).
class VlanTag {
 public:
  static constexpr size_t kLen = 4;
  static constexpr size_t kTciOffset = 0;
  static constexpr size_t kInnerTypeOffset = 2;

  static std::optional<VlanTag> parse(std::span<const uint8_t> bytes) {
    if (bytes.size() < kLen) return std::nullopt;
    return VlanTag(bytes);
  }
  uint16_t tci() const { return load_be16(bytes_.data() + kTciOffset); }
  uint16_t vid() const { return tci() & 0x0fff; }
  uint8_t pcp() const { return static_cast<uint8_t>(tci() >> 13); }
  uint16_t inner_ethertype() const { return load_be16(bytes_.data() + kInnerTypeOffset); }
  std::span<const uint8_t> payload() const { return bytes_.subspan(kLen); }

 private:
  explicit VlanTag(std::span<const uint8_t> b) : bytes_(b) {}
  std::span<const uint8_t> bytes_;
};

// A parsed link-layer header, with at most one 802.1Q tag resolved.
struct EthernetRepr {
  MacAddr dst{};
  MacAddr src{};
  uint16_t ethertype = 0;            // the inner type when tagged
  std::optional<uint16_t> vlan_tci;  // present when the frame carries a tag

  size_t header_len() const { return EthernetFrame::kHeaderLen + (vlan_tci ? VlanTag::kLen : 0); }

  // Parses the header and one C-tag. A second tag (QinQ) or a truncated tag
  // yields nullopt: the stack does not terminate stacked VLANs.
  static std::optional<EthernetRepr> parse(std::span<const uint8_t> frame);

  // Writes header_len() bytes at out (which must be that long).
  void emit(std::span<uint8_t> out) const;
};

}  // namespace dpdkudp::wire
