// libFuzzer target: every wire view and Repr parser on arbitrary bytes. The
// first byte picks the parser, the rest is its input. Crashes, reads out of
// bounds (ASan) and undefined behaviour (UBSan) are the findings; where a
// Repr parses, emitting it and parsing again must give the same Repr.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "stack/wire/arp.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/icmpv4.h"
#include "stack/wire/icmpv6.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/ndp.h"
#include "stack/wire/tunnel.h"
#include "stack/wire/udp.h"

namespace w = dpdkudp::wire;

namespace {

// Keeps a value alive so the accessor calls are not optimised away.
volatile uint64_t g_sink;
template <typename T>
void use(const T& v) {
  g_sink = g_sink + static_cast<uint64_t>(v);
}

void check(bool ok) {
  if (!ok) std::abort();
}

void fuzz_ipv6(std::span<const uint8_t> b) {
  for (auto parse : {&w::Ipv6Packet::parse, &w::Ipv6Packet::parse_quoted}) {
    auto ip = parse(b, nullptr);
    if (!ip) continue;
    use(ip->payload_len());
    use(ip->hop_limit());
    use(ip->traffic_class());
    if (auto chain = w::Ipv6HeaderChain::walk(*ip)) {
      use(chain->upper_offset);
      use(chain->upper_protocol);
    }
  }
}

void fuzz_icmp6(std::span<const uint8_t> b) {
  // 32 bytes of addresses, then the ICMPv6 message.
  if (b.size() < 32) return;
  w::NdpIpFields f;
  f.src = w::Ipv6Addr::load(b.data());
  f.dst = w::Ipv6Addr::load(b.data() + 16);
  f.hop_limit = 255;
  const auto icmp = b.subspan(32);
  if (auto m = w::Icmpv6Packet::parse(icmp)) {
    use(m->type());
    use(m->verify_checksum(f.src, f.dst));
    use(m->invoking_packet().size());
  }
  if (auto ns = w::NdpNeighborSolicit::parse(icmp, f)) {
    auto r = w::NdpNeighborSolicitRepr::parse(*ns);
    use(r.target.octets[0]);
  }
  if (auto na = w::NdpNeighborAdvert::parse(icmp, f)) {
    auto r = w::NdpNeighborAdvertRepr::parse(*na);
    use(r.target.octets[15]);
  }
  if (auto ra = w::NdpRouterAdvert::parse(icmp, f)) {
    use(ra->router_lifetime());
    if (auto mtu = ra->mtu()) use(*mtu);
    if (auto mac = ra->source_mac()) use((*mac)[0]);
    for (const w::NdpOption& o : ra->options()) {
      if (auto p = w::NdpPrefixInfo::parse(o)) use(p->prefix_len());
    }
  }
  if (auto opts = w::NdpOptions::parse(icmp)) {
    for (const w::NdpOption& o : *opts) {
      if (auto p = w::NdpPrefixInfo::parse(o)) use(p->prefix_len());
    }
  }
}

void fuzz_tunnel(std::span<const uint8_t> b) {
  if (auto v = w::VxlanHeader::parse(b)) use(v->vni());
  if (auto g = w::GeneveHeader::parse(b)) {
    use(g->vni());
    use(g->header_len());
    g->for_each_option([](const auto& o) {
      use(o.option_class);
      use(o.type);
      use(o.data.size());
    });
  }
  if (auto u = w::GueHeader::parse(b)) {
    use(u->header_len());
    use(u->protocol());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> b(data + 1, size - 1);
  switch (data[0] % 8) {
    case 0:
      if (auto e = w::EthernetRepr::parse(b)) {
        std::vector<uint8_t> out(e->header_len());
        e->emit(out);
        auto again = w::EthernetRepr::parse(out);
        check(again && again->dst == e->dst && again->src == e->src && again->ethertype == e->ethertype &&
              again->vlan_tci == e->vlan_tci);
      }
      break;
    case 1:
      if (auto a = w::ArpPacket::parse(b)) {
        if (auto r = w::ArpRepr::parse(*a)) {
          std::vector<uint8_t> out(w::ArpRepr::kBufferLen);
          r->emit(out);
          auto again = w::ArpPacket::parse(out);
          auto r2 = again ? w::ArpRepr::parse(*again) : std::nullopt;
          check(r2 && r2->op == r->op && r2->sender_mac == r->sender_mac && r2->sender_ip == r->sender_ip &&
                r2->target_mac == r->target_mac && r2->target_ip == r->target_ip);
        }
      }
      break;
    case 2:
      if (auto ip = w::Ipv4Packet::parse(b)) {
        use(ip->verify_checksum());
        use(ip->total_len());
        use(ip->is_fragment());
        use(w::Ipv4Repr::parse(*ip).payload_len);
      }
      break;
    case 3:
      if (auto m = w::Icmpv4Packet::parse(b)) {
        use(m->verify_checksum());
        use(m->type());
        use(m->bytes().size());
      }
      break;
    case 4:
      if (b.size() >= 8) {
        if (auto u = w::UdpDatagram::parse(b.subspan(8))) {
          use(u->verify_checksum(w::Ipv4Addr(w::load_be32(b.data())), w::Ipv4Addr(w::load_be32(b.data() + 4))));
          use(u->payload().size());
        }
      }
      break;
    case 5: fuzz_ipv6(b); break;
    case 6: fuzz_icmp6(b); break;
    case 7: fuzz_tunnel(b); break;
  }
  return 0;
}
