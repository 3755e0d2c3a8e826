#include "stack/wire/ndp.h"

#include "stack/wire/checksum.h"
#include "stack/wire/ip_proto.h"

namespace dpdkudp::wire {
namespace {

template <class T>
std::optional<T> fail(NdpError* error, NdpError e) {
  if (error) *error = e;
  return std::nullopt;
}

// What every ND message shares: its fixed part is there, it is the ICMPv6
// type asked for, with code 0, it came with hop limit 255, and its options
// are well formed (§6.1.2, §7.1.1, §7.1.2).
std::optional<NdpOptions> check_message(std::span<const uint8_t> icmp, uint8_t type, size_t fixed_len,
                                        const NdpIpFields& ip, NdpError* error) {
  if (icmp.size() < fixed_len) return fail<NdpOptions>(error, NdpError::kTruncated);
  if (icmp[Icmpv6Packet::kTypeOffset] != type) return fail<NdpOptions>(error, NdpError::kWrongType);
  if (ip.hop_limit != kNdpHopLimit) return fail<NdpOptions>(error, NdpError::kBadHopLimit);
  if (icmp[Icmpv6Packet::kCodeOffset] != 0) return fail<NdpOptions>(error, NdpError::kBadCode);
  return NdpOptions::parse(icmp.subspan(fixed_len), error);
}

void store_link_layer_option(uint8_t* p, uint8_t type, const MacAddr& mac) {
  p[NdpOption::kTypeOffset] = type;
  p[NdpOption::kLengthOffset] = 1;  // RFC 2464 §8: 8 octets on Ethernet
  store_mac(p + NdpOption::kLinkLayerAddrOffset, mac);
}

// The ICMPv6 checksum over the message just written (RFC 4443 §2.3).
void store_checksum(uint8_t* p, size_t len, const Ipv6Addr& src, const Ipv6Addr& dst) {
  auto length = static_cast<uint32_t>(len);
  store_be16(p + Icmpv6Packet::kChecksumOffset,
             internet_checksum(p, len, ipv6_pseudo_header_sum(src, dst, ip_proto::kIcmpv6, length)));
}

std::optional<MacAddr> find_link_layer_addr(const NdpOptions& options, uint8_t type) {
  auto option = options.find(type);
  return option ? option->link_layer_addr() : std::nullopt;
}

}  // namespace

std::optional<MacAddr> NdpOption::link_layer_addr() const {
  if (type() != ndp_option::kSourceLinkLayerAddr && type() != ndp_option::kTargetLinkLayerAddr) {
    return std::nullopt;
  }
  return load_mac(bytes_.data() + kLinkLayerAddrOffset);  // >= 8 octets: in bounds
}

std::optional<uint32_t> NdpOption::mtu() const {
  if (type() != ndp_option::kMtu) return std::nullopt;
  return load_be32(bytes_.data() + kMtuOffset);
}

std::optional<NdpPrefixInfo> NdpPrefixInfo::parse(const NdpOption& option) {
  if (option.type() != ndp_option::kPrefixInfo || option.len() != kLen) return std::nullopt;
  if (option.bytes()[kPrefixLenOffset] > 128) return std::nullopt;
  return NdpPrefixInfo(option.bytes().data());
}

std::optional<NdpOptions> NdpOptions::parse(std::span<const uint8_t> bytes, NdpError* error) {
  size_t pos = 0;
  size_t count = 0;
  while (pos < bytes.size()) {  // every step advances >= 8 octets
    if (count == kMaxOptions) return fail<NdpOptions>(error, NdpError::kTooManyOptions);
    if (bytes.size() - pos < 2) return fail<NdpOptions>(error, NdpError::kOptionPastEnd);
    size_t len = size_t{bytes[pos + NdpOption::kLengthOffset]} * NdpOption::kLengthUnit;
    if (len == 0) return fail<NdpOptions>(error, NdpError::kZeroOptionLength);  // §4.6
    if (len > bytes.size() - pos) return fail<NdpOptions>(error, NdpError::kOptionPastEnd);
    pos += len;
    ++count;
  }
  return NdpOptions(bytes);
}

std::optional<NdpOption> NdpOptions::find(uint8_t type) const {
  for (NdpOption option : *this) {
    if (option.type() == type) return option;
  }
  return std::nullopt;
}

std::optional<NdpNeighborSolicit> NdpNeighborSolicit::parse(std::span<const uint8_t> icmp, const NdpIpFields& ip,
                                                            NdpError* error) {
  auto options = check_message(icmp, icmpv6_type::kNeighborSolicitation, kOptionsOffset, ip, error);
  if (!options) return std::nullopt;
  NdpNeighborSolicit ns(icmp.data(), *options);
  if (ns.target().is_multicast()) return fail<NdpNeighborSolicit>(error, NdpError::kMulticastTarget);
  if (ip.src.is_unspecified()) {  // duplicate address detection (§7.1.1)
    if (!ip.dst.is_solicited_node()) return fail<NdpNeighborSolicit>(error, NdpError::kBadDadDestination);
    if (options->find(ndp_option::kSourceLinkLayerAddr)) {
      return fail<NdpNeighborSolicit>(error, NdpError::kLinkLayerInDad);
    }
  }
  return ns;
}

std::optional<MacAddr> NdpNeighborSolicit::source_mac() const {
  return find_link_layer_addr(options_, ndp_option::kSourceLinkLayerAddr);
}

std::optional<NdpNeighborAdvert> NdpNeighborAdvert::parse(std::span<const uint8_t> icmp, const NdpIpFields& ip,
                                                          NdpError* error) {
  auto options = check_message(icmp, icmpv6_type::kNeighborAdvertisement, kOptionsOffset, ip, error);
  if (!options) return std::nullopt;
  NdpNeighborAdvert na(icmp.data(), *options);
  if (na.target().is_multicast()) return fail<NdpNeighborAdvert>(error, NdpError::kMulticastTarget);
  if (ip.dst.is_multicast() && na.solicited()) {
    return fail<NdpNeighborAdvert>(error, NdpError::kSolicitedToMulticast);
  }
  return na;
}

std::optional<MacAddr> NdpNeighborAdvert::target_mac() const {
  return find_link_layer_addr(options_, ndp_option::kTargetLinkLayerAddr);
}

std::optional<NdpRouterAdvert> NdpRouterAdvert::parse(std::span<const uint8_t> icmp, const NdpIpFields& ip,
                                                      NdpError* error) {
  auto options = check_message(icmp, icmpv6_type::kRouterAdvertisement, kOptionsOffset, ip, error);
  if (!options) return std::nullopt;
  if (!ip.src.is_link_local()) return fail<NdpRouterAdvert>(error, NdpError::kSourceNotLinkLocal);
  return NdpRouterAdvert(icmp.data(), *options);
}

std::optional<MacAddr> NdpRouterAdvert::source_mac() const {
  return find_link_layer_addr(options_, ndp_option::kSourceLinkLayerAddr);
}

std::optional<uint32_t> NdpRouterAdvert::mtu() const {
  auto option = options_.find(ndp_option::kMtu);
  return option ? option->mtu() : std::nullopt;
}

void NdpNeighborSolicitRepr::emit(std::span<uint8_t> out, const Ipv6Addr& src, const Ipv6Addr& dst) const {
  uint8_t* p = out.data();
  p[Icmpv6Packet::kTypeOffset] = icmpv6_type::kNeighborSolicitation;
  p[Icmpv6Packet::kCodeOffset] = 0;
  store_be16(p + Icmpv6Packet::kChecksumOffset, 0);
  store_be32(p + Icmpv6Packet::kRestOffset, 0);  // reserved
  target.store(p + NdpNeighborSolicit::kTargetOffset);
  if (source_mac) store_link_layer_option(p + kFixedLen, ndp_option::kSourceLinkLayerAddr, *source_mac);
  store_checksum(p, buffer_len(), src, dst);
}

void NdpNeighborAdvertRepr::emit(std::span<uint8_t> out, const Ipv6Addr& src, const Ipv6Addr& dst) const {
  uint8_t* p = out.data();
  p[Icmpv6Packet::kTypeOffset] = icmpv6_type::kNeighborAdvertisement;
  p[Icmpv6Packet::kCodeOffset] = 0;
  store_be16(p + Icmpv6Packet::kChecksumOffset, 0);
  store_be32(p + NdpNeighborAdvert::kFlagsOffset, 0);  // flags and reserved
  p[NdpNeighborAdvert::kFlagsOffset] = static_cast<uint8_t>((router ? NdpNeighborAdvert::kFlagRouter : 0) |
                                                            (solicited ? NdpNeighborAdvert::kFlagSolicited : 0) |
                                                            (override_flag ? NdpNeighborAdvert::kFlagOverride : 0));
  target.store(p + NdpNeighborAdvert::kTargetOffset);
  if (target_mac) store_link_layer_option(p + kFixedLen, ndp_option::kTargetLinkLayerAddr, *target_mac);
  store_checksum(p, buffer_len(), src, dst);
}

}  // namespace dpdkudp::wire
