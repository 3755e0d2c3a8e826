// Test support: build whole frames from the wire Reprs, and assert on
// frames with composable checkers (in the style of gVisor's checker pkg):
//
//   auto frame = FrameBuilder().dst_port(53).payload("query").udp();
//   EXPECT_TRUE(check_udp_frame(frame, {udp::DstPort(53), ipv4::Ttl(64),
//                                       Payload("query")}));
//
// check_*_frame() always verifies structure and checksums first, then runs
// every given check and reports all failures at once, with a hex dump.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "stack/wire/arp.h"
#include "stack/wire/bytes.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/icmpv4.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/udp.h"

namespace dpdkudp::test {

using Bytes = std::vector<uint8_t>;

// Defaults every builder starts from; locally administered MACs and the
// RFC 2544 benchmarking range, so they never collide with a real network.
inline constexpr MacAddr kSrcMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
inline constexpr MacAddr kDstMac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
inline constexpr wire::Ipv4Addr kSrcIp{198, 18, 0, 1};
inline constexpr wire::Ipv4Addr kDstIp{198, 18, 0, 2};
inline constexpr uint16_t kSrcPort = 49152;
inline constexpr uint16_t kDstPort = 7;

Bytes to_bytes(std::string_view text);
// "0000  02 00 ..." lines of 16 bytes, for failure messages.
std::string hex_dump(std::span<const uint8_t> bytes);

// Builds Ethernet(+802.1Q) frames carrying IPv4/UDP, IPv4/ICMP or ARP, by
// calling the same emit() functions the stack uses. Setters chain.
class FrameBuilder {
 public:
  FrameBuilder& src_mac(const MacAddr& v) {
    src_mac_ = v;
    return *this;
  }
  FrameBuilder& dst_mac(const MacAddr& v) {
    dst_mac_ = v;
    return *this;
  }
  FrameBuilder& vlan_tci(uint16_t v) {
    vlan_tci_ = v;
    return *this;
  }
  FrameBuilder& src_ip(wire::Ipv4Addr v) {
    src_ip_ = v;
    return *this;
  }
  FrameBuilder& dst_ip(wire::Ipv4Addr v) {
    dst_ip_ = v;
    return *this;
  }
  FrameBuilder& ttl(uint8_t v) {
    ttl_ = v;
    return *this;
  }
  FrameBuilder& tos(uint8_t v) {
    tos_ = v;
    return *this;
  }
  FrameBuilder& ident(uint16_t v) {
    ident_ = v;
    return *this;
  }
  FrameBuilder& dont_fragment(bool v) {
    dont_fragment_ = v;
    return *this;
  }
  // Marks the packet a fragment: MF flag and offset in 8-byte units.
  FrameBuilder& fragment(bool more_fragments, uint16_t offset_units) {
    more_fragments_ = more_fragments;
    frag_offset_ = offset_units;
    return *this;
  }
  FrameBuilder& src_port(uint16_t v) {
    src_port_ = v;
    return *this;
  }
  FrameBuilder& dst_port(uint16_t v) {
    dst_port_ = v;
    return *this;
  }
  FrameBuilder& payload(std::span<const uint8_t> v) {
    payload_.assign(v.begin(), v.end());
    return *this;
  }
  FrameBuilder& payload(std::string_view text) {
    payload_ = to_bytes(text);
    return *this;
  }
  // false leaves the IPv4 header checksum 0, as for kTxIpv4Csum offload.
  FrameBuilder& ipv4_checksum(bool fill) {
    ipv4_checksum_ = fill;
    return *this;
  }
  FrameBuilder& udp_checksum(wire::ChecksumMode v) {
    udp_checksum_ = v;
    return *this;
  }
  FrameBuilder& echo_ident(uint16_t v) {
    echo_ident_ = v;
    return *this;
  }
  FrameBuilder& echo_seq(uint16_t v) {
    echo_seq_ = v;
    return *this;
  }
  // ARP target hardware address; defaults to zero for a request and to
  // dst_mac for a reply.
  FrameBuilder& arp_target_mac(const MacAddr& v) {
    arp_target_mac_ = v;
    return *this;
  }
  // Zero-fills the frame up to frame_len, as a NIC pads short frames to 60.
  FrameBuilder& pad_to(size_t frame_len) {
    pad_to_ = frame_len;
    return *this;
  }

  Bytes udp() const;                // payload is the UDP payload
  Bytes icmp_echo_request() const;  // payload is the echo data
  Bytes icmp_echo_reply() const;
  Bytes icmp(const wire::Icmpv4Repr& message) const;  // data from message
  Bytes ipv4(uint8_t protocol) const;                 // payload is the whole IPv4 payload
  Bytes arp(wire::ArpOp op) const;                    // sender = src_mac/src_ip, target ip = dst_ip

 private:
  Bytes ipv4_frame(uint8_t protocol, std::span<const uint8_t> l4) const;
  Bytes ethernet_frame(uint16_t ethertype, size_t l3_len) const;
  void pad(Bytes& frame) const;

  MacAddr src_mac_ = kSrcMac;
  MacAddr dst_mac_ = kDstMac;
  std::optional<uint16_t> vlan_tci_;
  wire::Ipv4Addr src_ip_ = kSrcIp;
  wire::Ipv4Addr dst_ip_ = kDstIp;
  uint8_t ttl_ = 64;
  uint8_t tos_ = 0;
  uint16_t ident_ = 0;
  bool dont_fragment_ = true;
  bool more_fragments_ = false;
  uint16_t frag_offset_ = 0;
  uint16_t src_port_ = kSrcPort;
  uint16_t dst_port_ = kDstPort;
  Bytes payload_;
  bool ipv4_checksum_ = true;
  wire::ChecksumMode udp_checksum_ = wire::ChecksumMode::kFull;
  uint16_t echo_ident_ = 0;
  uint16_t echo_seq_ = 0;
  std::optional<MacAddr> arp_target_mac_;
  size_t pad_to_ = 0;
};

// A frame parsed as far as it goes. Views point into the frame, which must
// outlive this. L4 is parsed only for unfragmented IPv4.
struct ParsedFrame {
  std::span<const uint8_t> bytes;
  std::optional<wire::EthernetRepr> eth;
  std::optional<wire::Ipv4Packet> ipv4;
  std::optional<wire::UdpDatagram> udp;
  std::optional<wire::Icmpv4Packet> icmp;
  std::optional<wire::ArpRepr> arp;
};
ParsedFrame parse_frame(std::span<const uint8_t> frame);

// One assertion about a parsed frame. A check may waive one of the
// checksum verifications check_*_frame() does by default, when it asserts
// instead that the field was left for the device to fill.
struct FrameCheck {
  enum class Waiver { kNone, kIpv4Checksum, kL4Checksum };
  std::function<::testing::AssertionResult(const ParsedFrame&)> run;
  Waiver waives = Waiver::kNone;
};
using FrameChecks = std::vector<FrameCheck>;

// Each requires the frame to parse to that protocol with valid checksums,
// then applies every check.
::testing::AssertionResult check_udp_frame(std::span<const uint8_t> frame, const FrameChecks& checks = {});
::testing::AssertionResult check_icmp_frame(std::span<const uint8_t> frame, const FrameChecks& checks = {});
::testing::AssertionResult check_arp_frame(std::span<const uint8_t> frame, const FrameChecks& checks = {});

namespace eth {
FrameCheck Src(const MacAddr& mac);
FrameCheck Dst(const MacAddr& mac);
FrameCheck EtherType(uint16_t type);  // the inner type when tagged
FrameCheck VlanTci(uint16_t tci);
FrameCheck Untagged();
}  // namespace eth

namespace ipv4 {
FrameCheck Src(wire::Ipv4Addr addr);
FrameCheck Dst(wire::Ipv4Addr addr);
FrameCheck Protocol(uint8_t protocol);
FrameCheck Ttl(uint8_t ttl);
FrameCheck Tos(uint8_t tos);
FrameCheck Ident(uint16_t ident);
FrameCheck DontFragment(bool set);
FrameCheck TotalLen(uint16_t len);
// The checksum field is 0, for the device to fill (kTxIpv4Csum).
FrameCheck ChecksumLeftToDevice();
}  // namespace ipv4

namespace udp {
FrameCheck SrcPort(uint16_t port);
FrameCheck DstPort(uint16_t port);
FrameCheck Length(uint16_t len);
// RFC 768: a zero checksum field means none was computed.
FrameCheck NoChecksum();
// The field holds the pseudo-header sum for the device to finish
// (kTxUdpCsum), so the full checksum is not verified.
FrameCheck PseudoHeaderChecksum();
}  // namespace udp

namespace icmp {
FrameCheck Type(uint8_t type);
FrameCheck Code(uint8_t code);
FrameCheck EchoIdent(uint16_t ident);
FrameCheck EchoSeq(uint16_t seq);
FrameCheck NextHopMtu(uint16_t mtu);
}  // namespace icmp

namespace arp {
FrameCheck Op(wire::ArpOp op);
FrameCheck SenderMac(const MacAddr& mac);
FrameCheck SenderIp(wire::Ipv4Addr addr);
FrameCheck TargetMac(const MacAddr& mac);
FrameCheck TargetIp(wire::Ipv4Addr addr);
}  // namespace arp

// The UDP payload or the ICMP data, byte for byte.
FrameCheck Payload(std::span<const uint8_t> bytes);
FrameCheck Payload(std::string_view text);

}  // namespace dpdkudp::test
