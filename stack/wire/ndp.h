// Neighbor Discovery for IPv6 (RFC 4861) over Ethernet (RFC 2464 §8):
// Neighbor Solicitation and Advertisement (parse and emit), Router
// Advertisement (parse), and the options they carry. The messages are
// ICMPv6 (icmpv6.h): the caller verifies the ICMPv6 checksum, then hands the
// message's bytes and its IPv6 header's fields to parse(), which checks
// the rest of RFC 4861's validation (§6.1.2, §7.1.1, §7.1.2). Views borrow
// the caller's bytes; no parse allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/wire/bytes.h"
#include "stack/wire/icmpv6.h"
#include "stack/wire/ipv6.h"

namespace dpdkudp::wire {

// §6.1.2, §7.1.1, §7.1.2: ND messages are sent, and accepted, with hop
// limit 255 only, which proves they did not cross a router.
inline constexpr uint8_t kNdpHopLimit = 255;

namespace ndp_option {  // RFC 4861 §4.6
inline constexpr uint8_t kSourceLinkLayerAddr = 1;
inline constexpr uint8_t kTargetLinkLayerAddr = 2;
inline constexpr uint8_t kPrefixInfo = 3;
inline constexpr uint8_t kRedirectedHeader = 4;
inline constexpr uint8_t kMtu = 5;
}  // namespace ndp_option

enum class NdpError {
  kTruncated,             // shorter than the message's fixed part
  kWrongType,             // not the ICMPv6 type this view parses
  kBadCode,               // ICMP code is not 0
  kBadHopLimit,           // IP hop limit is not 255
  kSourceNotLinkLocal,    // an RA from a source that is not link-local (§6.1.2)
  kMulticastTarget,       // an NS or NA about a multicast address (§7.1.1, §7.1.2)
  kBadDadDestination,     // an NS from :: not to a solicited-node group (§7.1.1)
  kLinkLayerInDad,        // an NS from :: with a source link-layer option (§7.1.1)
  kSolicitedToMulticast,  // an NA with S set to a multicast destination (§7.1.2)
  kZeroOptionLength,      // an option of length 0 (§4.6: discard the packet)
  kOptionPastEnd,         // an option runs past the message
  kTooManyOptions,        // more than NdpOptions::kMaxOptions
};

// One option: type(1) length(1, in 8-octet units) and its data. An
// NdpOption only comes from a checked NdpOptions, so it is >= 8 octets.
class NdpOption {
 public:
  static constexpr size_t kTypeOffset = 0;
  static constexpr size_t kLengthOffset = 1;
  static constexpr size_t kLengthUnit = 8;
  static constexpr size_t kLinkLayerAddrOffset = 2;  // §4.6.1
  static constexpr size_t kMtuOffset = 4;            // §4.6.4, after 2 reserved octets

  uint8_t type() const { return bytes_[kTypeOffset]; }
  size_t len() const { return bytes_.size(); }  // in octets
  std::span<const uint8_t> bytes() const { return bytes_; }

  // The Source or Target Link-Layer Address option's MAC (RFC 2464 §8:
  // length 1, the address after type and length); nullopt for other types.
  std::optional<MacAddr> link_layer_addr() const;
  // The MTU option's value; nullopt for other types.
  std::optional<uint32_t> mtu() const;

 private:
  friend class NdpOptions;
  explicit NdpOption(std::span<const uint8_t> b) : bytes_(b) {}
  std::span<const uint8_t> bytes_;
};

// The Prefix Information option (§4.6.2).
class NdpPrefixInfo {
 public:
  static constexpr size_t kLen = 32;
  static constexpr size_t kPrefixLenOffset = 2;
  static constexpr size_t kFlagsOffset = 3;
  static constexpr uint8_t kFlagOnLink = 0x80;      // L
  static constexpr uint8_t kFlagAutonomous = 0x40;  // A
  static constexpr size_t kValidLifetimeOffset = 4;
  static constexpr size_t kPreferredLifetimeOffset = 8;
  static constexpr size_t kPrefixOffset = 16;

  // nullopt unless the option is a Prefix Information of length 4 (32
  // octets); a prefix length over 128 is refused too.
  static std::optional<NdpPrefixInfo> parse(const NdpOption& option);

  uint8_t prefix_len() const { return p_[kPrefixLenOffset]; }
  bool on_link() const { return (p_[kFlagsOffset] & kFlagOnLink) != 0; }
  bool autonomous() const { return (p_[kFlagsOffset] & kFlagAutonomous) != 0; }
  uint32_t valid_lifetime() const { return load_be32(p_ + kValidLifetimeOffset); }  // seconds, ~0 = forever
  uint32_t preferred_lifetime() const { return load_be32(p_ + kPreferredLifetimeOffset); }
  Ipv6Addr prefix() const { return Ipv6Addr::load(p_ + kPrefixOffset); }
  Ipv6Cidr cidr() const { return Ipv6Cidr{prefix(), prefix_len()}; }

 private:
  explicit NdpPrefixInfo(const uint8_t* p) : p_(p) {}
  const uint8_t* p_;
};

// The options that end an ND message, all checked by parse(): none of
// length 0 (§4.6), none past the end, at most kMaxOptions. Iterate with a
// range-for; unknown types are there too, to be skipped (§4.6).
class NdpOptions {
 public:
  // Each option is >= 8 octets, so a 1500-byte message holds < 190: a
  // count above this is not a real router's.
  static constexpr size_t kMaxOptions = 256;

  static std::optional<NdpOptions> parse(std::span<const uint8_t> bytes, NdpError* error = nullptr);

  class Iterator {
   public:
    NdpOption operator*() const { return NdpOption(rest_.first(option_len())); }
    Iterator& operator++() {
      rest_ = rest_.subspan(option_len());
      return *this;
    }
    bool operator==(const Iterator& other) const { return rest_.data() == other.rest_.data(); }

   private:
    friend class NdpOptions;
    explicit Iterator(std::span<const uint8_t> rest) : rest_(rest) {}
    size_t option_len() const { return size_t{rest_[NdpOption::kLengthOffset]} * NdpOption::kLengthUnit; }
    std::span<const uint8_t> rest_;
  };

  Iterator begin() const { return Iterator(bytes_); }
  Iterator end() const { return Iterator(bytes_.subspan(bytes_.size())); }
  bool empty() const { return bytes_.empty(); }
  std::span<const uint8_t> bytes() const { return bytes_; }
  // The first option of a type.
  std::optional<NdpOption> find(uint8_t type) const;

 private:
  explicit NdpOptions(std::span<const uint8_t> b) : bytes_(b) {}
  std::span<const uint8_t> bytes_;
};

// The IPv6 header fields ND validation needs, from the packet that
// carried the message.
struct NdpIpFields {
  Ipv6Addr src;
  Ipv6Addr dst;
  uint8_t hop_limit = 0;

  static NdpIpFields of(const Ipv6Packet& packet) { return {packet.src(), packet.dst(), packet.hop_limit()}; }
};

// Neighbor Solicitation (§4.3): reserved(4) target(16) options.
class NdpNeighborSolicit {
 public:
  static constexpr size_t kTargetOffset = 8;
  static constexpr size_t kOptionsOffset = 24;

  // `icmp` is the ICMPv6 message (checksum already verified). Checks §7.1.1.
  static std::optional<NdpNeighborSolicit> parse(std::span<const uint8_t> icmp, const NdpIpFields& ip,
                                                 NdpError* error = nullptr);

  Ipv6Addr target() const { return Ipv6Addr::load(p_ + kTargetOffset); }
  const NdpOptions& options() const { return options_; }
  std::optional<MacAddr> source_mac() const;

 private:
  NdpNeighborSolicit(const uint8_t* p, NdpOptions options) : p_(p), options_(options) {}
  const uint8_t* p_;
  NdpOptions options_;
};

// Neighbor Advertisement (§4.4): R S O flags(3 bits of 32) target(16) options.
class NdpNeighborAdvert {
 public:
  static constexpr size_t kFlagsOffset = 4;
  static constexpr uint8_t kFlagRouter = 0x80;
  static constexpr uint8_t kFlagSolicited = 0x40;
  static constexpr uint8_t kFlagOverride = 0x20;
  static constexpr size_t kTargetOffset = 8;
  static constexpr size_t kOptionsOffset = 24;

  // Checks §7.1.2.
  static std::optional<NdpNeighborAdvert> parse(std::span<const uint8_t> icmp, const NdpIpFields& ip,
                                                NdpError* error = nullptr);

  bool router() const { return (p_[kFlagsOffset] & kFlagRouter) != 0; }
  bool solicited() const { return (p_[kFlagsOffset] & kFlagSolicited) != 0; }
  bool override_flag() const { return (p_[kFlagsOffset] & kFlagOverride) != 0; }
  Ipv6Addr target() const { return Ipv6Addr::load(p_ + kTargetOffset); }
  const NdpOptions& options() const { return options_; }
  std::optional<MacAddr> target_mac() const;

 private:
  NdpNeighborAdvert(const uint8_t* p, NdpOptions options) : p_(p), options_(options) {}
  const uint8_t* p_;
  NdpOptions options_;
};

// Router Advertisement (§4.2): cur hop limit(1) M O flags(1) router
// lifetime(2) reachable time(4) retrans timer(4) options.
class NdpRouterAdvert {
 public:
  static constexpr size_t kCurHopLimitOffset = 4;
  static constexpr size_t kFlagsOffset = 5;
  static constexpr uint8_t kFlagManaged = 0x80;
  static constexpr uint8_t kFlagOther = 0x40;
  static constexpr size_t kRouterLifetimeOffset = 6;
  static constexpr size_t kReachableTimeOffset = 8;
  static constexpr size_t kRetransTimerOffset = 12;
  static constexpr size_t kOptionsOffset = 16;

  // Checks §6.1.2.
  static std::optional<NdpRouterAdvert> parse(std::span<const uint8_t> icmp, const NdpIpFields& ip,
                                              NdpError* error = nullptr);

  uint8_t cur_hop_limit() const { return p_[kCurHopLimitOffset]; }  // 0 = unspecified
  bool managed() const { return (p_[kFlagsOffset] & kFlagManaged) != 0; }
  bool other_config() const { return (p_[kFlagsOffset] & kFlagOther) != 0; }
  uint16_t router_lifetime() const { return load_be16(p_ + kRouterLifetimeOffset); }  // seconds
  uint32_t reachable_time() const { return load_be32(p_ + kReachableTimeOffset); }    // ms, 0 = unspecified
  uint32_t retrans_timer() const { return load_be32(p_ + kRetransTimerOffset); }      // ms, 0 = unspecified
  const NdpOptions& options() const { return options_; }
  std::optional<MacAddr> source_mac() const;
  std::optional<uint32_t> mtu() const;

 private:
  NdpRouterAdvert(const uint8_t* p, NdpOptions options) : p_(p), options_(options) {}
  const uint8_t* p_;
  NdpOptions options_;
};

// A Neighbor Solicitation the stack sends: to the target's solicited-node
// group to resolve it, or to its unicast address to confirm it (§7.2.2).
struct NdpNeighborSolicitRepr {
  static constexpr size_t kFixedLen = NdpNeighborSolicit::kOptionsOffset;
  static constexpr size_t kLinkLayerOptionLen = 8;

  Ipv6Addr target;
  // The Source Link-Layer Address option; leave it empty from :: (duplicate
  // address detection), where §7.2.2 forbids it.
  std::optional<MacAddr> source_mac;

  static NdpNeighborSolicitRepr parse(const NdpNeighborSolicit& ns) { return {ns.target(), ns.source_mac()}; }
  size_t buffer_len() const { return kFixedLen + (source_mac ? kLinkLayerOptionLen : 0); }
  // Writes the ICMPv6 message with its checksum; out.size() >= buffer_len().
  void emit(std::span<uint8_t> out, const Ipv6Addr& src, const Ipv6Addr& dst) const;
};

// A Neighbor Advertisement the stack sends (§7.2.4, §7.2.6).
struct NdpNeighborAdvertRepr {
  static constexpr size_t kFixedLen = NdpNeighborAdvert::kOptionsOffset;
  static constexpr size_t kLinkLayerOptionLen = 8;

  Ipv6Addr target;
  bool router = false;
  bool solicited = false;
  bool override_flag = false;
  std::optional<MacAddr> target_mac;  // the Target Link-Layer Address option

  static NdpNeighborAdvertRepr parse(const NdpNeighborAdvert& na) {
    return {na.target(), na.router(), na.solicited(), na.override_flag(), na.target_mac()};
  }
  size_t buffer_len() const { return kFixedLen + (target_mac ? kLinkLayerOptionLen : 0); }
  void emit(std::span<uint8_t> out, const Ipv6Addr& src, const Ipv6Addr& dst) const;
};

}  // namespace dpdkudp::wire
