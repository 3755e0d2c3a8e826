#include "tests/support/packets.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "stack/wire/checksum.h"

namespace dpdkudp::test {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

Bytes to_bytes(std::string_view text) { return Bytes(text.begin(), text.end()); }

std::string hex_dump(std::span<const uint8_t> bytes) {
  std::string out;
  char buf[24];
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i % 16 == 0) {
      if (i > 0) out += '\n';
      std::snprintf(buf, sizeof buf, "%04zx ", i);
      out += buf;
    }
    std::snprintf(buf, sizeof buf, " %02x", bytes[i]);
    out += buf;
  }
  return out;
}

// ---- FrameBuilder ----

Bytes FrameBuilder::udp() const {
  Bytes datagram(wire::UdpRepr::kHeaderLen + payload_.size());
  std::ranges::copy(payload_, datagram.begin() + wire::UdpRepr::kHeaderLen);
  wire::UdpRepr{.src_port = src_port_, .dst_port = dst_port_}.emit(datagram, src_ip_, dst_ip_, udp_checksum_);
  return ipv4_frame(wire::ip_proto::kUdp, datagram);
}

Bytes FrameBuilder::icmp_echo_request() const {
  return icmp({.type = wire::icmp_type::kEchoRequest, .ident = echo_ident_, .seq = echo_seq_, .data = payload_});
}

Bytes FrameBuilder::icmp_echo_reply() const {
  return icmp({.type = wire::icmp_type::kEchoReply, .ident = echo_ident_, .seq = echo_seq_, .data = payload_});
}

Bytes FrameBuilder::icmp(const wire::Icmpv4Repr& message) const {
  Bytes l4(message.buffer_len());
  message.emit(l4);
  return ipv4_frame(wire::ip_proto::kIcmp, l4);
}

Bytes FrameBuilder::ipv4(uint8_t protocol) const { return ipv4_frame(protocol, payload_); }

Bytes FrameBuilder::arp(wire::ArpOp op) const {
  MacAddr target_mac = arp_target_mac_.value_or(op == wire::ArpOp::kReply ? dst_mac_ : wire::kZeroMac);
  wire::ArpRepr repr{
      .op = op, .sender_mac = src_mac_, .sender_ip = src_ip_, .target_mac = target_mac, .target_ip = dst_ip_};
  Bytes frame = ethernet_frame(wire::ethertype::kArp, wire::ArpRepr::kBufferLen);
  repr.emit(std::span(frame).last(wire::ArpRepr::kBufferLen));
  pad(frame);
  return frame;
}

Bytes FrameBuilder::ipv4_frame(uint8_t protocol, std::span<const uint8_t> l4) const {
  constexpr size_t kIpHeaderLen = wire::Ipv4Repr::kBufferLen;
  Bytes frame = ethernet_frame(wire::ethertype::kIpv4, kIpHeaderLen + l4.size());
  auto l3 = std::span(frame).last(kIpHeaderLen + l4.size());
  std::ranges::copy(l4, l3.begin() + kIpHeaderLen);
  wire::Ipv4Repr repr{.src = src_ip_,
                      .dst = dst_ip_,
                      .protocol = protocol,
                      .payload_len = static_cast<uint16_t>(l4.size()),
                      .ttl = ttl_,
                      .tos = tos_,
                      .ident = ident_,
                      .dont_fragment = dont_fragment_};
  repr.emit(l3, ipv4_checksum_);
  if (more_fragments_ || frag_offset_ != 0) {
    // Ipv4Repr cannot express fragments (the stack never sends them), so
    // patch the field and redo the checksum.
    uint16_t flags = static_cast<uint16_t>((dont_fragment_ ? wire::Ipv4Packet::kFlagDontFragment : 0) |
                                           (more_fragments_ ? wire::Ipv4Packet::kFlagMoreFragments : 0) |
                                           (frag_offset_ & wire::Ipv4Packet::kFragOffsetMask));
    uint8_t* header = l3.data();
    wire::store_be16(header + wire::Ipv4Packet::kFlagsFragOffset, flags);
    wire::store_be16(header + wire::Ipv4Packet::kChecksumOffset, 0);
    if (ipv4_checksum_) {
      wire::store_be16(header + wire::Ipv4Packet::kChecksumOffset, wire::internet_checksum(header, kIpHeaderLen));
    }
  }
  pad(frame);
  return frame;
}

Bytes FrameBuilder::ethernet_frame(uint16_t ethertype, size_t l3_len) const {
  wire::EthernetRepr eth{.dst = dst_mac_, .src = src_mac_, .ethertype = ethertype, .vlan_tci = vlan_tci_};
  Bytes frame(eth.header_len() + l3_len);
  eth.emit(std::span(frame).first(eth.header_len()));
  return frame;
}

void FrameBuilder::pad(Bytes& frame) const {
  if (frame.size() < pad_to_) frame.resize(pad_to_, 0);
}

// ---- Parsing ----

ParsedFrame parse_frame(std::span<const uint8_t> frame) {
  ParsedFrame f;
  f.bytes = frame;
  f.eth = wire::EthernetRepr::parse(frame);
  if (!f.eth) return f;
  auto l3 = frame.subspan(f.eth->header_len());
  if (f.eth->ethertype == wire::ethertype::kIpv4) {
    f.ipv4 = wire::Ipv4Packet::parse(l3);
    if (!f.ipv4 || f.ipv4->is_fragment()) return f;
    if (f.ipv4->protocol() == wire::ip_proto::kUdp) {
      f.udp = wire::UdpDatagram::parse(f.ipv4->payload());
    } else if (f.ipv4->protocol() == wire::ip_proto::kIcmp) {
      f.icmp = wire::Icmpv4Packet::parse(f.ipv4->payload());
    }
  } else if (f.eth->ethertype == wire::ethertype::kArp) {
    if (auto packet = wire::ArpPacket::parse(l3)) f.arp = wire::ArpRepr::parse(*packet);
  }
  return f;
}

// ---- Checking ----

namespace {

std::string describe(uint8_t v) { return std::to_string(v); }
std::string describe(uint16_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%u (0x%04x)", v, v);
  return buf;
}
std::string describe(bool v) { return v ? "true" : "false"; }
std::string describe(std::optional<uint16_t> vlan_tci) { return vlan_tci ? describe(*vlan_tci) : "untagged"; }
std::string describe(const MacAddr& v) { return wire::mac_to_string(v); }
std::string describe(wire::Ipv4Addr v) { return v.to_string(); }
std::string describe(wire::ArpOp v) {
  switch (v) {
    case wire::ArpOp::kRequest: return "request";
    case wire::ArpOp::kReply: return "reply";
  }
  return std::to_string(static_cast<uint16_t>(v));
}
std::string describe(wire::Ipv4Packet::Error v) {
  switch (v) {
    case wire::Ipv4Packet::Error::kTruncated: return "truncated";
    case wire::Ipv4Packet::Error::kBadVersion: return "version is not 4";
    case wire::Ipv4Packet::Error::kBadHeaderLen: return "IHL below 5";
    case wire::Ipv4Packet::Error::kBadTotalLen: return "total length below header length";
  }
  return "unknown error";
}
std::string describe(std::span<const uint8_t> v) { return std::to_string(v.size()) + " bytes\n" + hex_dump(v); }

// A check that `member` (one parsed layer) is present and get(layer) == want.
template <typename T, typename Layer, typename Get>
FrameCheck layer_field(std::optional<Layer> ParsedFrame::*member, std::string name, T want, Get get) {
  return {[member, name = std::move(name), want, get](const ParsedFrame& f) -> AssertionResult {
    const std::optional<Layer>& layer = f.*member;
    if (!layer) return AssertionFailure() << name << ": the frame has no such layer";
    T got = get(*layer);
    if (got == want) return AssertionSuccess();
    return AssertionFailure() << name << ": want " << describe(want) << ", got " << describe(got);
  }};
}

template <typename T, typename Get>
FrameCheck eth_field(const char* name, T want, Get get) {
  return layer_field(&ParsedFrame::eth, std::string("eth.") + name, want, get);
}
template <typename T, typename Get>
FrameCheck ipv4_field(const char* name, T want, Get get) {
  return layer_field(&ParsedFrame::ipv4, std::string("ipv4.") + name, want, get);
}
template <typename T, typename Get>
FrameCheck udp_field(const char* name, T want, Get get) {
  return layer_field(&ParsedFrame::udp, std::string("udp.") + name, want, get);
}
template <typename T, typename Get>
FrameCheck icmp_field(const char* name, T want, Get get) {
  return layer_field(&ParsedFrame::icmp, std::string("icmp.") + name, want, get);
}
template <typename T, typename Get>
FrameCheck arp_field(const char* name, T want, Get get) {
  return layer_field(&ParsedFrame::arp, std::string("arp.") + name, want, get);
}

// Collects every failure so one run reports all of them.
class Report {
 public:
  explicit Report(std::span<const uint8_t> frame) : frame_(frame) {}
  void fail(const std::string& message) { failures_ += message + "\n"; }
  void run(const FrameChecks& checks, const ParsedFrame& f) {
    for (const FrameCheck& check : checks) {
      AssertionResult result = check.run(f);
      if (!result) fail(result.message());
    }
  }
  AssertionResult finish() const {
    if (failures_.empty()) return AssertionSuccess();
    return AssertionFailure() << "\n" << failures_ << "frame (" << frame_.size() << " bytes):\n" << hex_dump(frame_);
  }

 private:
  std::span<const uint8_t> frame_;
  std::string failures_;
};

bool waived(const FrameChecks& checks, FrameCheck::Waiver waiver) {
  return std::ranges::any_of(checks, [waiver](const FrameCheck& c) { return c.waives == waiver; });
}

// The Ethernet/IPv4 part every IPv4 check_* shares; false when the frame
// does not get as far as an unfragmented IPv4 packet of `protocol`.
bool require_ipv4(const ParsedFrame& f, uint8_t protocol, const FrameChecks& checks, Report& report) {
  if (!f.eth) {
    report.fail("eth: does not parse (short header, truncated or stacked VLAN tag)");
    return false;
  }
  if (f.eth->ethertype != wire::ethertype::kIpv4) {
    report.fail("eth.ethertype: want IPv4, got " + describe(f.eth->ethertype));
    return false;
  }
  if (!f.ipv4) {
    wire::Ipv4Packet::Error error{};
    wire::Ipv4Packet::parse(f.bytes.subspan(f.eth->header_len()), &error);
    report.fail("ipv4: does not parse: " + describe(error));
    return false;
  }
  if (!waived(checks, FrameCheck::Waiver::kIpv4Checksum) && !f.ipv4->verify_checksum()) {
    report.fail("ipv4: header checksum " + describe(f.ipv4->checksum()) + " does not verify");
  }
  if (f.ipv4->is_fragment()) {
    report.fail("ipv4: is a fragment, flags/offset " + describe(f.ipv4->flags_frag()));
    return false;
  }
  if (f.ipv4->protocol() != protocol) {
    report.fail("ipv4.protocol: want " + describe(protocol) + ", got " + describe(f.ipv4->protocol()));
    return false;
  }
  return true;
}

}  // namespace

AssertionResult check_udp_frame(std::span<const uint8_t> frame, const FrameChecks& checks) {
  ParsedFrame f = parse_frame(frame);
  Report report(frame);
  if (!require_ipv4(f, wire::ip_proto::kUdp, checks, report)) return report.finish();
  if (!f.udp) {
    report.fail("udp: does not parse (length field < 8 or past the IPv4 payload)");
    return report.finish();
  }
  if (f.udp->length() != f.ipv4->payload().size()) {
    report.fail("udp.length: " + describe(f.udp->length()) + " differs from the IPv4 payload length " +
                std::to_string(f.ipv4->payload().size()));
  }
  if (!waived(checks, FrameCheck::Waiver::kL4Checksum) && !f.udp->verify_checksum(f.ipv4->src(), f.ipv4->dst())) {
    report.fail("udp: checksum " + describe(f.udp->checksum()) + " does not verify");
  }
  report.run(checks, f);
  return report.finish();
}

AssertionResult check_icmp_frame(std::span<const uint8_t> frame, const FrameChecks& checks) {
  ParsedFrame f = parse_frame(frame);
  Report report(frame);
  if (!require_ipv4(f, wire::ip_proto::kIcmp, checks, report)) return report.finish();
  if (!f.icmp) {
    report.fail("icmp: shorter than its 8-byte header");
    return report.finish();
  }
  if (!waived(checks, FrameCheck::Waiver::kL4Checksum) && !f.icmp->verify_checksum()) {
    report.fail("icmp: checksum " + describe(f.icmp->checksum()) + " does not verify");
  }
  report.run(checks, f);
  return report.finish();
}

AssertionResult check_arp_frame(std::span<const uint8_t> frame, const FrameChecks& checks) {
  ParsedFrame f = parse_frame(frame);
  Report report(frame);
  if (!f.eth || f.eth->ethertype != wire::ethertype::kArp) {
    report.fail("eth: not an ARP frame");
    return report.finish();
  }
  if (!f.arp) {
    report.fail("arp: does not parse (short, not Ethernet/IPv4, or unknown opcode)");
    return report.finish();
  }
  report.run(checks, f);
  return report.finish();
}

namespace eth {
FrameCheck Src(const MacAddr& mac) {
  return eth_field("src", mac, [](const wire::EthernetRepr& e) { return e.src; });
}
FrameCheck Dst(const MacAddr& mac) {
  return eth_field("dst", mac, [](const wire::EthernetRepr& e) { return e.dst; });
}
FrameCheck EtherType(uint16_t type) {
  return eth_field("ethertype", type, [](const wire::EthernetRepr& e) { return e.ethertype; });
}
FrameCheck VlanTci(uint16_t tci) {
  return eth_field("vlan_tci", std::optional<uint16_t>(tci), [](const wire::EthernetRepr& e) { return e.vlan_tci; });
}
FrameCheck Untagged() {
  return eth_field("vlan_tci", std::optional<uint16_t>(), [](const wire::EthernetRepr& e) { return e.vlan_tci; });
}
}  // namespace eth

namespace ipv4 {
FrameCheck Src(wire::Ipv4Addr addr) {
  return ipv4_field("src", addr, [](const wire::Ipv4Packet& p) { return p.src(); });
}
FrameCheck Dst(wire::Ipv4Addr addr) {
  return ipv4_field("dst", addr, [](const wire::Ipv4Packet& p) { return p.dst(); });
}
FrameCheck Protocol(uint8_t protocol) {
  return ipv4_field("protocol", protocol, [](const wire::Ipv4Packet& p) { return p.protocol(); });
}
FrameCheck Ttl(uint8_t ttl) {
  return ipv4_field("ttl", ttl, [](const wire::Ipv4Packet& p) { return p.ttl(); });
}
FrameCheck Tos(uint8_t tos) {
  return ipv4_field("tos", tos, [](const wire::Ipv4Packet& p) { return p.tos(); });
}
FrameCheck Ident(uint16_t ident) {
  return ipv4_field("ident", ident, [](const wire::Ipv4Packet& p) { return p.ident(); });
}
FrameCheck DontFragment(bool set) {
  return ipv4_field("dont_fragment", set, [](const wire::Ipv4Packet& p) { return p.dont_fragment(); });
}
FrameCheck TotalLen(uint16_t len) {
  return ipv4_field("total_len", len, [](const wire::Ipv4Packet& p) { return p.total_len(); });
}
FrameCheck ChecksumLeftToDevice() {
  FrameCheck check = ipv4_field("checksum", uint16_t{0}, [](const wire::Ipv4Packet& p) { return p.checksum(); });
  check.waives = FrameCheck::Waiver::kIpv4Checksum;
  return check;
}
}  // namespace ipv4

namespace udp {
FrameCheck SrcPort(uint16_t port) {
  return udp_field("src_port", port, [](const wire::UdpDatagram& d) { return d.src_port(); });
}
FrameCheck DstPort(uint16_t port) {
  return udp_field("dst_port", port, [](const wire::UdpDatagram& d) { return d.dst_port(); });
}
FrameCheck Length(uint16_t len) {
  return udp_field("length", len, [](const wire::UdpDatagram& d) { return d.length(); });
}
FrameCheck NoChecksum() {
  return udp_field("checksum", uint16_t{0}, [](const wire::UdpDatagram& d) { return d.checksum(); });
}
FrameCheck PseudoHeaderChecksum() {
  FrameCheck check{[](const ParsedFrame& f) -> AssertionResult {
    if (!f.ipv4 || !f.udp) return AssertionFailure() << "udp.checksum: the frame has no such layer";
    uint16_t want =
        wire::fold32(wire::ipv4_pseudo_header_sum(f.ipv4->src(), f.ipv4->dst(), wire::ip_proto::kUdp, f.udp->length()));
    if (f.udp->checksum() == want) return AssertionSuccess();
    return AssertionFailure() << "udp.checksum: want the pseudo-header sum " << describe(want) << ", got "
                              << describe(f.udp->checksum());
  }};
  check.waives = FrameCheck::Waiver::kL4Checksum;
  return check;
}
}  // namespace udp

namespace icmp {
FrameCheck Type(uint8_t type) {
  return icmp_field("type", type, [](const wire::Icmpv4Packet& p) { return p.type(); });
}
FrameCheck Code(uint8_t code) {
  return icmp_field("code", code, [](const wire::Icmpv4Packet& p) { return p.code(); });
}
FrameCheck EchoIdent(uint16_t ident) {
  return icmp_field("echo_ident", ident, [](const wire::Icmpv4Packet& p) { return p.echo_ident(); });
}
FrameCheck EchoSeq(uint16_t seq) {
  return icmp_field("echo_seq", seq, [](const wire::Icmpv4Packet& p) { return p.echo_seq(); });
}
FrameCheck NextHopMtu(uint16_t mtu) {
  return icmp_field("next_hop_mtu", mtu, [](const wire::Icmpv4Packet& p) { return p.next_hop_mtu(); });
}
}  // namespace icmp

namespace arp {
FrameCheck Op(wire::ArpOp op) {
  return arp_field("op", op, [](const wire::ArpRepr& a) { return a.op; });
}
FrameCheck SenderMac(const MacAddr& mac) {
  return arp_field("sender_mac", mac, [](const wire::ArpRepr& a) { return a.sender_mac; });
}
FrameCheck SenderIp(wire::Ipv4Addr addr) {
  return arp_field("sender_ip", addr, [](const wire::ArpRepr& a) { return a.sender_ip; });
}
FrameCheck TargetMac(const MacAddr& mac) {
  return arp_field("target_mac", mac, [](const wire::ArpRepr& a) { return a.target_mac; });
}
FrameCheck TargetIp(wire::Ipv4Addr addr) {
  return arp_field("target_ip", addr, [](const wire::ArpRepr& a) { return a.target_ip; });
}
}  // namespace arp

FrameCheck Payload(std::span<const uint8_t> bytes) {
  return {[want = Bytes(bytes.begin(), bytes.end())](const ParsedFrame& f) -> AssertionResult {
    std::span<const uint8_t> got;
    if (f.udp) {
      got = f.udp->payload();
    } else if (f.icmp) {
      got = f.icmp->data();
    } else {
      return AssertionFailure() << "payload: the frame has no UDP or ICMP layer";
    }
    if (std::ranges::equal(got, want)) return AssertionSuccess();
    return AssertionFailure() << "payload: want " << describe(want) << "\ngot " << describe(got);
  }};
}

FrameCheck Payload(std::string_view text) { return Payload(to_bytes(text)); }

}  // namespace dpdkudp::test
