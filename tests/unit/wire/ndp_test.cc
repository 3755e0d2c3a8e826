// Neighbor Discovery (stack/wire/ndp.h).
#include "stack/wire/ndp.h"

#include <gtest/gtest.h>

#include <span>
#include <vector>

#include "tests/unit/wire/ipv6_vectors.h"
#include "tests/unit/wire/vectors.h"

namespace dpdkudp::wire {
namespace {

using Bytes = std::vector<uint8_t>;
using namespace vectors;

constexpr size_t kIp6Len = Ipv6Packet::kHeaderLen;
constexpr Ipv6Addr kTarget(0x2001, 2, 0, 0, 0, 0, 0, 2);
constexpr Ipv6Addr kLinkLocal1(0xfe80, 0, 0, 0, 0, 0, 0, 1);
constexpr Ipv6Addr kLinkLocal2(0xfe80, 0, 0, 0, 0, 0, 0, 2);
constexpr MacAddr kMac1{0x02, 0, 0, 0, 0, 0x01};
constexpr MacAddr kMac2{0x02, 0, 0, 0, 0, 0x02};

// A scapy ND packet split into what the stack hands the parsers: the
// ICMPv6 message and the IPv6 fields.
struct NdPacket {
  Bytes icmp;
  NdpIpFields ip;
};

NdPacket split(std::span<const uint8_t> packet) {
  auto ip = Ipv6Packet::parse(packet);
  EXPECT_TRUE(ip);
  if (!ip) return {};
  NdPacket nd{first_bytes(ip->payload(), ip->payload().size()), NdpIpFields::of(*ip)};
  // Every vector's checksum (scapy's) verifies, as the stack checks first.
  auto icmp = Icmpv6Packet::parse(nd.icmp);
  EXPECT_TRUE(icmp && icmp->verify_checksum(nd.ip.src, nd.ip.dst));
  return nd;
}

template <class Message>
std::optional<NdpError> parse_error(const NdPacket& nd) {
  NdpError error{};
  if (Message::parse(nd.icmp, nd.ip, &error)) return std::nullopt;
  return error;
}

Bytes icmp_part(std::span<const uint8_t> packet) {
  return first_bytes(packet.subspan(kIp6Len), packet.size() - kIp6Len);
}

TEST(NdpNeighborSolicit, Deconstruct) {
  NdPacket nd = split(kNsPacket);
  EXPECT_EQ(nd.ip.src, kLinkLocal1);
  EXPECT_EQ(nd.ip.dst, kTarget.solicited_node());  // ff02::1:ff00:2
  auto ns = NdpNeighborSolicit::parse(nd.icmp, nd.ip);
  ASSERT_TRUE(ns);
  EXPECT_EQ(ns->target(), kTarget);
  EXPECT_EQ(ns->source_mac(), kMac1);
  EXPECT_EQ(ns->options().bytes().size(), 8u);
  NdpNeighborSolicitRepr repr = NdpNeighborSolicitRepr::parse(*ns);
  EXPECT_EQ(repr.target, kTarget);
  EXPECT_EQ(repr.source_mac, kMac1);
}

TEST(NdpNeighborSolicitRepr, Construct) {
  NdpNeighborSolicitRepr repr{.target = kTarget, .source_mac = kMac1};
  EXPECT_EQ(repr.buffer_len(), 32u);
  Bytes out(repr.buffer_len(), 0xcc);
  repr.emit(out, kLinkLocal1, kTarget.solicited_node());
  EXPECT_EQ(out, icmp_part(kNsPacket));
}

TEST(NdpNeighborSolicit, DeconstructDad) {
  NdPacket nd = split(kDadNsPacket);
  EXPECT_TRUE(nd.ip.src.is_unspecified());
  auto ns = NdpNeighborSolicit::parse(nd.icmp, nd.ip);
  ASSERT_TRUE(ns);
  EXPECT_EQ(ns->target(), kTarget);
  EXPECT_EQ(ns->source_mac(), std::nullopt);
  EXPECT_TRUE(ns->options().empty());
}

TEST(NdpNeighborSolicitRepr, ConstructDad) {
  NdpNeighborSolicitRepr repr{.target = kTarget, .source_mac = std::nullopt};
  EXPECT_EQ(repr.buffer_len(), 24u);
  Bytes out(repr.buffer_len(), 0xcc);
  repr.emit(out, Ipv6Addr::unspecified(), kTarget.solicited_node());
  EXPECT_EQ(out, icmp_part(kDadNsPacket));
}

TEST(NdpNeighborAdvert, DeconstructSolicited) {
  NdPacket nd = split(kNaPacket);
  auto na = NdpNeighborAdvert::parse(nd.icmp, nd.ip);
  ASSERT_TRUE(na);
  EXPECT_FALSE(na->router());
  EXPECT_TRUE(na->solicited());
  EXPECT_TRUE(na->override_flag());
  EXPECT_EQ(na->target(), kTarget);
  EXPECT_EQ(na->target_mac(), kMac2);
}

TEST(NdpNeighborAdvertRepr, ConstructSolicited) {
  NdpNeighborAdvertRepr repr{
      .target = kTarget, .router = false, .solicited = true, .override_flag = true, .target_mac = kMac2};
  Bytes out(repr.buffer_len(), 0xcc);
  repr.emit(out, kLinkLocal2, kLinkLocal1);
  EXPECT_EQ(out, icmp_part(kNaPacket));
}

TEST(NdpNeighborAdvert, DeconstructUnsolicited) {
  NdPacket nd = split(kUnsolicitedNaPacket);
  EXPECT_EQ(nd.ip.dst, Ipv6Addr::all_nodes());
  auto na = NdpNeighborAdvert::parse(nd.icmp, nd.ip);
  ASSERT_TRUE(na);
  EXPECT_TRUE(na->router());
  EXPECT_FALSE(na->solicited());
  EXPECT_TRUE(na->override_flag());
  EXPECT_EQ(na->target_mac(), kMac2);
}

TEST(NdpNeighborAdvertRepr, ConstructUnsolicited) {
  NdpNeighborAdvertRepr repr{
      .target = kTarget, .router = true, .solicited = false, .override_flag = true, .target_mac = kMac2};
  Bytes out(repr.buffer_len(), 0xcc);
  repr.emit(out, kLinkLocal2, Ipv6Addr::all_nodes());
  EXPECT_EQ(out, icmp_part(kUnsolicitedNaPacket));
}

TEST(NdpNeighborAdvertRepr, EmitThenParseRoundTrips) {
  for (int flags = 0; flags < 8; ++flags) {
    NdpNeighborAdvertRepr repr{.target = kLinkLocal2,
                               .router = (flags & 1) != 0,
                               .solicited = (flags & 2) != 0,
                               .override_flag = (flags & 4) != 0,
                               .target_mac = kMac2};
    Bytes out(repr.buffer_len());
    repr.emit(out, kLinkLocal2, kLinkLocal1);
    NdpIpFields ip{kLinkLocal2, kLinkLocal1, kNdpHopLimit};
    auto icmp = Icmpv6Packet::parse(out);
    ASSERT_TRUE(icmp);
    EXPECT_TRUE(icmp->verify_checksum(ip.src, ip.dst));
    auto na = NdpNeighborAdvert::parse(out, ip);
    ASSERT_TRUE(na) << flags;
    NdpNeighborAdvertRepr parsed = NdpNeighborAdvertRepr::parse(*na);
    EXPECT_EQ(parsed.target, repr.target);
    EXPECT_EQ(parsed.router, repr.router);
    EXPECT_EQ(parsed.solicited, repr.solicited);
    EXPECT_EQ(parsed.override_flag, repr.override_flag);
    EXPECT_EQ(parsed.target_mac, repr.target_mac);
  }
  // Without the option (§4.4: it may be left out when answering a unicast NS).
  NdpNeighborAdvertRepr bare{.target = kTarget, .solicited = true, .target_mac = std::nullopt};
  Bytes out(bare.buffer_len());
  EXPECT_EQ(out.size(), 24u);
  bare.emit(out, kLinkLocal2, kLinkLocal1);
  auto na = NdpNeighborAdvert::parse(out, NdpIpFields{kLinkLocal2, kLinkLocal1, kNdpHopLimit});
  ASSERT_TRUE(na);
  EXPECT_EQ(na->target_mac(), std::nullopt);
}

TEST(NdpNeighborSolicitRepr, EmitThenParseRoundTrips) {
  NdpNeighborSolicitRepr repr{.target = kLinkLocal2, .source_mac = kMac1};
  Bytes out(repr.buffer_len());
  repr.emit(out, kLinkLocal1, kLinkLocal2);  // a unicast NS (reachability confirmation)
  auto ns = NdpNeighborSolicit::parse(out, NdpIpFields{kLinkLocal1, kLinkLocal2, kNdpHopLimit});
  ASSERT_TRUE(ns);
  EXPECT_EQ(ns->target(), kLinkLocal2);
  EXPECT_EQ(ns->source_mac(), kMac1);
}

TEST(NdpRouterAdvert, Deconstruct) {
  NdPacket nd = split(kRaPacket);
  auto ra = NdpRouterAdvert::parse(nd.icmp, nd.ip);
  ASSERT_TRUE(ra);
  EXPECT_EQ(ra->cur_hop_limit(), 64);
  EXPECT_FALSE(ra->managed());
  EXPECT_TRUE(ra->other_config());
  EXPECT_EQ(ra->router_lifetime(), 1800);
  EXPECT_EQ(ra->reachable_time(), 30000u);
  EXPECT_EQ(ra->retrans_timer(), 1000u);
  EXPECT_EQ(ra->source_mac(), kMac1);
  EXPECT_EQ(ra->mtu(), 1500u);

  std::vector<uint8_t> types;
  for (NdpOption option : ra->options()) types.push_back(option.type());
  EXPECT_EQ(types, (std::vector<uint8_t>{ndp_option::kSourceLinkLayerAddr, ndp_option::kMtu, ndp_option::kPrefixInfo}));

  auto option = ra->options().find(ndp_option::kPrefixInfo);
  ASSERT_TRUE(option);
  EXPECT_EQ(option->len(), 32u);
  auto prefix = NdpPrefixInfo::parse(*option);
  ASSERT_TRUE(prefix);
  EXPECT_EQ(prefix->prefix_len(), 48);
  EXPECT_TRUE(prefix->on_link());
  EXPECT_TRUE(prefix->autonomous());
  EXPECT_EQ(prefix->valid_lifetime(), 86400u);
  EXPECT_EQ(prefix->preferred_lifetime(), 14400u);
  EXPECT_EQ(prefix->prefix(), Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 0));
  EXPECT_EQ(prefix->cidr(), (Ipv6Cidr{Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 0), 48}));
}

TEST(NdpOption, TypedAccessorsRefuseOtherTypes) {
  NdPacket nd = split(kRaPacket);
  auto ra = NdpRouterAdvert::parse(nd.icmp, nd.ip);
  ASSERT_TRUE(ra);
  for (NdpOption option : ra->options()) {
    EXPECT_EQ(option.link_layer_addr().has_value(), option.type() == ndp_option::kSourceLinkLayerAddr);
    EXPECT_EQ(option.mtu().has_value(), option.type() == ndp_option::kMtu);
    EXPECT_EQ(NdpPrefixInfo::parse(option).has_value(), option.type() == ndp_option::kPrefixInfo);
  }
  EXPECT_EQ(ra->options().find(ndp_option::kTargetLinkLayerAddr), std::nullopt);
}

TEST(NdpPrefixInfo, WrongLengthOrPrefixLengthRefused) {
  NdPacket nd = split(kRaPacket);
  // The prefix option is last, at 16 + 8 + 8 = 32 in the message: give it
  // length 5 (and 8 octets more to hold it).
  Bytes longer = nd.icmp;
  longer.resize(longer.size() + 8, 0);
  ASSERT_GT(longer.size(), 32 + NdpOption::kLengthOffset);
  *(longer.data() + 32 + NdpOption::kLengthOffset) = 5;
  auto ra = NdpRouterAdvert::parse(longer, nd.ip);
  ASSERT_TRUE(ra);
  auto option = ra->options().find(ndp_option::kPrefixInfo);
  ASSERT_TRUE(option);
  EXPECT_EQ(NdpPrefixInfo::parse(*option), std::nullopt);

  Bytes too_long_prefix = nd.icmp;
  too_long_prefix[32 + NdpPrefixInfo::kPrefixLenOffset] = 129;
  ra = NdpRouterAdvert::parse(too_long_prefix, nd.ip);
  ASSERT_TRUE(ra);
  EXPECT_EQ(NdpPrefixInfo::parse(*ra->options().find(ndp_option::kPrefixInfo)), std::nullopt);
}

TEST(NdpOptions, UnknownTypesAreKeptToSkip) {
  // §4.6: "Receivers MUST silently ignore any options they do not
  // recognize". Turn the NS's option into an unknown type 200.
  NdPacket nd = split(kNsPacket);
  nd.icmp[24] = 200;
  auto ns = NdpNeighborSolicit::parse(nd.icmp, nd.ip);
  ASSERT_TRUE(ns);
  EXPECT_EQ(ns->source_mac(), std::nullopt);
  size_t count = 0;
  for (NdpOption option : ns->options()) {
    EXPECT_EQ(option.type(), 200);
    ++count;
  }
  EXPECT_EQ(count, 1u);
}

// Every error path of every message.

TEST(NdpNeighborSolicit, TruncatedRejected) {
  NdPacket nd = split(kNsPacket);
  for (size_t len = 0; len < NdpNeighborSolicit::kOptionsOffset; ++len) {
    EXPECT_EQ(parse_error<NdpNeighborSolicit>({first_bytes(nd.icmp, len), nd.ip}), NdpError::kTruncated) << len;
  }
}

TEST(NdpNeighborAdvert, TruncatedRejected) {
  NdPacket nd = split(kNaPacket);
  for (size_t len = 0; len < NdpNeighborAdvert::kOptionsOffset; ++len) {
    EXPECT_EQ(parse_error<NdpNeighborAdvert>({first_bytes(nd.icmp, len), nd.ip}), NdpError::kTruncated) << len;
  }
}

TEST(NdpRouterAdvert, TruncatedRejected) {
  NdPacket nd = split(kRaPacket);
  for (size_t len = 0; len < NdpRouterAdvert::kOptionsOffset; ++len) {
    EXPECT_EQ(parse_error<NdpRouterAdvert>({first_bytes(nd.icmp, len), nd.ip}), NdpError::kTruncated) << len;
  }
}

TEST(NdpMessages, WrongTypeRejected) {
  NdPacket ns = split(kNsPacket);
  NdPacket na = split(kNaPacket);
  EXPECT_EQ(parse_error<NdpNeighborAdvert>(ns), NdpError::kWrongType);
  EXPECT_EQ(parse_error<NdpNeighborSolicit>(na), NdpError::kWrongType);
  NdPacket ra_as_ns = split(kNsPacket);
  ra_as_ns.ip.src = kLinkLocal1;
  EXPECT_EQ(parse_error<NdpRouterAdvert>(ra_as_ns), NdpError::kWrongType);
}

TEST(NdpMessages, HopLimitOtherThan255Rejected) {
  // §7.1.1, §7.1.2, §6.1.2: a message that crossed a router is a forgery.
  for (uint8_t hop_limit : {uint8_t{0}, uint8_t{64}, uint8_t{254}}) {
    NdPacket ns = split(kNsPacket), na = split(kNaPacket), ra = split(kRaPacket);
    ns.ip.hop_limit = na.ip.hop_limit = ra.ip.hop_limit = hop_limit;
    EXPECT_EQ(parse_error<NdpNeighborSolicit>(ns), NdpError::kBadHopLimit);
    EXPECT_EQ(parse_error<NdpNeighborAdvert>(na), NdpError::kBadHopLimit);
    EXPECT_EQ(parse_error<NdpRouterAdvert>(ra), NdpError::kBadHopLimit);
  }
}

TEST(NdpMessages, NonZeroCodeRejected) {
  NdPacket ns = split(kNsPacket), na = split(kNaPacket), ra = split(kRaPacket);
  ns.icmp[Icmpv6Packet::kCodeOffset] = 1;
  na.icmp[Icmpv6Packet::kCodeOffset] = 1;
  ra.icmp[Icmpv6Packet::kCodeOffset] = 0x80;
  EXPECT_EQ(parse_error<NdpNeighborSolicit>(ns), NdpError::kBadCode);
  EXPECT_EQ(parse_error<NdpNeighborAdvert>(na), NdpError::kBadCode);
  EXPECT_EQ(parse_error<NdpRouterAdvert>(ra), NdpError::kBadCode);
}

TEST(NdpMessages, MulticastTargetRejected) {
  NdPacket ns = split(kNsPacket), na = split(kNaPacket);
  Ipv6Addr::all_nodes().store(&ns.icmp[NdpNeighborSolicit::kTargetOffset]);
  Ipv6Addr::all_nodes().store(&na.icmp[NdpNeighborAdvert::kTargetOffset]);
  EXPECT_EQ(parse_error<NdpNeighborSolicit>(ns), NdpError::kMulticastTarget);
  EXPECT_EQ(parse_error<NdpNeighborAdvert>(na), NdpError::kMulticastTarget);
}

TEST(NdpNeighborSolicit, DadToOtherThanSolicitedNodeRejected) {
  NdPacket nd = split(kDadNsPacket);
  nd.ip.dst = Ipv6Addr::all_nodes();
  EXPECT_EQ(parse_error<NdpNeighborSolicit>(nd), NdpError::kBadDadDestination);
  nd.ip.dst = kTarget;  // unicast
  EXPECT_EQ(parse_error<NdpNeighborSolicit>(nd), NdpError::kBadDadDestination);
}

TEST(NdpNeighborSolicit, DadWithSourceLinkLayerRejected) {
  NdPacket nd = split(kNsPacket);
  nd.ip.src = Ipv6Addr::unspecified();
  EXPECT_EQ(parse_error<NdpNeighborSolicit>(nd), NdpError::kLinkLayerInDad);
}

TEST(NdpNeighborAdvert, SolicitedToMulticastRejected) {
  NdPacket nd = split(kNaPacket);
  nd.ip.dst = Ipv6Addr::all_nodes();
  EXPECT_EQ(parse_error<NdpNeighborAdvert>(nd), NdpError::kSolicitedToMulticast);
}

TEST(NdpRouterAdvert, SourceNotLinkLocalRejected) {
  NdPacket nd = split(kRaPacket);
  nd.ip.src = Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 1);
  EXPECT_EQ(parse_error<NdpRouterAdvert>(nd), NdpError::kSourceNotLinkLocal);
  nd.ip.src = Ipv6Addr::unspecified();
  EXPECT_EQ(parse_error<NdpRouterAdvert>(nd), NdpError::kSourceNotLinkLocal);
}

TEST(NdpMessages, OptionLengthZeroRejected) {
  // §4.6: "Nodes MUST silently discard an ND packet that contains an
  // option with length zero." Each option of each vector in turn.
  NdPacket ns = split(kNsPacket), na = split(kNaPacket);
  ns.icmp[24 + NdpOption::kLengthOffset] = 0;
  na.icmp[24 + NdpOption::kLengthOffset] = 0;
  EXPECT_EQ(parse_error<NdpNeighborSolicit>(ns), NdpError::kZeroOptionLength);
  EXPECT_EQ(parse_error<NdpNeighborAdvert>(na), NdpError::kZeroOptionLength);
  for (size_t at : {16u, 24u, 32u}) {  // source link-layer, MTU, prefix
    NdPacket ra = split(kRaPacket);
    ra.icmp[at + NdpOption::kLengthOffset] = 0;
    EXPECT_EQ(parse_error<NdpRouterAdvert>(ra), NdpError::kZeroOptionLength) << at;
  }
}

TEST(NdpMessages, OptionPastTheEndRejected) {
  NdPacket ns = split(kNsPacket);
  ns.icmp[24 + NdpOption::kLengthOffset] = 2;  // 16 octets; 8 are there
  EXPECT_EQ(parse_error<NdpNeighborSolicit>(ns), NdpError::kOptionPastEnd);
  NdPacket ra = split(kRaPacket);
  ra.icmp[32 + NdpOption::kLengthOffset] = 5;  // the last option, 40 of 32 octets
  EXPECT_EQ(parse_error<NdpRouterAdvert>(ra), NdpError::kOptionPastEnd);
  // Every cut of the last option, down to a lone type octet.
  NdPacket whole = split(kRaPacket);
  for (size_t len = 33; len < whole.icmp.size(); ++len) {
    EXPECT_EQ(parse_error<NdpRouterAdvert>({first_bytes(whole.icmp, len), whole.ip}), NdpError::kOptionPastEnd) << len;
  }
}

TEST(NdpOptions, WalkIsBounded) {
  // Not from scapy: the NS vector followed by n unknown options (type 200,
  // length 1, six zero octets).
  NdPacket nd = split(kDadNsPacket);
  nd.ip.src = kLinkLocal1;  // so options may appear
  auto with_options = [&nd](size_t n) {
    NdPacket out = nd;
    for (size_t i = 0; i < n; ++i) out.icmp.insert(out.icmp.end(), {200, 1, 0, 0, 0, 0, 0, 0});
    return out;
  };
  NdPacket most = with_options(NdpOptions::kMaxOptions);
  auto ns = NdpNeighborSolicit::parse(most.icmp, most.ip);
  ASSERT_TRUE(ns);
  size_t count = 0;
  for (NdpOption option : ns->options()) {
    EXPECT_EQ(option.len(), 8u);
    ++count;
  }
  EXPECT_EQ(count, NdpOptions::kMaxOptions);
  EXPECT_EQ(parse_error<NdpNeighborSolicit>(with_options(NdpOptions::kMaxOptions + 1)), NdpError::kTooManyOptions);
}

TEST(NdpOptions, ErrorOutParameterIsOptional) {
  NdPacket nd = split(kNsPacket);
  nd.icmp[25] = 0;
  EXPECT_FALSE(NdpNeighborSolicit::parse(nd.icmp, nd.ip));
  EXPECT_FALSE(NdpOptions::parse(std::span(nd.icmp).subspan(24)));
  EXPECT_TRUE(NdpOptions::parse({}));
}

}  // namespace
}  // namespace dpdkudp::wire
