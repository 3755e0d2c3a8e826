#include "backends/common/soft_offloads.h"

#include <cstring>

#include "backends/common/inet_checksum.h"

namespace dpdkudp::common {

namespace {

// Header field offsets used here.
constexpr size_t kEthTypeOffset = 12;     // after the two MACs
constexpr size_t kIpv4MinHeaderLen = 20;  // RFC 791
constexpr size_t kIpv4TotalLenOffset = 2;
constexpr size_t kIpv4FragOffset = 6;  // flags + fragment offset
constexpr size_t kIpv4ProtoOffset = 9;
constexpr size_t kIpv4CsumOffset = 10;
constexpr size_t kIpv4AddrsOffset = 12;  // src then dst, 8 bytes
constexpr size_t kIpv6HeaderLen = 40;    // RFC 8200
constexpr size_t kIpv6PayloadLenOffset = 4;
constexpr size_t kIpv6NextHeaderOffset = 6;
constexpr size_t kIpv6AddrsOffset = 8;  // src then dst, 32 bytes
constexpr size_t kUdpHeaderLen = 8;     // RFC 768
constexpr size_t kUdpLenOffset = 4;
constexpr size_t kUdpCsumOffset = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint16_t kIpv4FragMask = 0x3fff;  // MF flag + offset

uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t load_be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// Where the L3 header starts and which EtherType it has, looking through
// one 802.1Q tag; {0, 0} when the frame is too short.
struct L3Start {
  size_t offset = 0;
  uint16_t ether_type = 0;
};

L3Start find_l3(std::span<const uint8_t> frame) {
  if (frame.size() < kEthHeaderLen) {
    return {};
  }
  uint16_t type = load_be16(&frame[kEthTypeOffset]);
  if (type != kEtherTypeVlan) {
    return {kEthHeaderLen, type};
  }
  if (frame.size() < kEthHeaderLen + kVlanTagLen) {
    return {};
  }
  type = load_be16(&frame[kEthTypeOffset + kVlanTagLen]);
  return {kEthHeaderLen + kVlanTagLen, type};
}

uint32_t verdict(bool good, RxFlags if_good, RxFlags if_bad) { return good ? if_good : if_bad; }

uint32_t verify_ipv4(std::span<const uint8_t> frame, size_t l3, const PairOffloads& offloads) {
  if (frame.size() < l3 + kIpv4MinHeaderLen) {
    return 0;
  }
  const uint8_t* ip = &frame[l3];
  const size_t ihl = size_t{ip[0] & 0x0fu} * 4;
  if ((ip[0] >> 4) != 4 || ihl < kIpv4MinHeaderLen || l3 + ihl > frame.size()) {
    return 0;
  }
  uint32_t flags = 0;
  if (offloads.rx_ipv4_csum) {
    const bool good = csum_fold(csum_add({ip, ihl})) == 0xffff;
    flags |= verdict(good, kRxIpv4CsumGood, kRxIpv4CsumBad);
  }
  if (!offloads.rx_l4_csum || ip[kIpv4ProtoOffset] != kProtoUdp) {
    return flags;
  }
  const size_t total = load_be16(ip + kIpv4TotalLenOffset);
  const bool fragment = (load_be16(ip + kIpv4FragOffset) & kIpv4FragMask) != 0;
  if (fragment || total < ihl + kUdpHeaderLen || l3 + total > frame.size()) {
    return flags;
  }
  const uint8_t* udp = ip + ihl;
  const size_t udp_len = load_be16(udp + kUdpLenOffset);
  if (udp_len < kUdpHeaderLen || udp_len > total - ihl) {
    return flags;
  }
  if (load_be16(udp + kUdpCsumOffset) == 0) {
    return flags;  // RFC 768: zero means the sender computed none
  }
  // RFC 768 pseudo-header: src, dst, zero, protocol, UDP length.
  uint64_t sum = csum_add({ip + kIpv4AddrsOffset, 8}) + kProtoUdp + udp_len;
  sum = csum_add({udp, udp_len}, sum);
  return flags | verdict(csum_fold(sum) == 0xffff, kRxL4CsumGood, kRxL4CsumBad);
}

uint32_t verify_ipv6(std::span<const uint8_t> frame, size_t l3) {
  if (frame.size() < l3 + kIpv6HeaderLen) {
    return 0;
  }
  const uint8_t* ip = &frame[l3];
  if ((ip[0] >> 4) != 6 || ip[kIpv6NextHeaderOffset] != kProtoUdp) {
    return 0;
  }
  const size_t payload = load_be16(ip + kIpv6PayloadLenOffset);
  if (payload < kUdpHeaderLen || l3 + kIpv6HeaderLen + payload > frame.size()) {
    return 0;
  }
  const uint8_t* udp = ip + kIpv6HeaderLen;
  const size_t udp_len = load_be16(udp + kUdpLenOffset);
  if (udp_len < kUdpHeaderLen || udp_len > payload) {
    return 0;
  }
  if (load_be16(udp + kUdpCsumOffset) == 0) {
    return kRxL4CsumBad;  // RFC 8200 section 8.1: mandatory over IPv6
  }
  // RFC 8200 section 8.1 pseudo-header: src, dst, length, next header.
  uint64_t sum = csum_add({ip + kIpv6AddrsOffset, 32}) + kProtoUdp + udp_len;
  sum = csum_add({udp, udp_len}, sum);
  return verdict(csum_fold(sum) == 0xffff, kRxL4CsumGood, kRxL4CsumBad);
}

uint32_t verify_checksums(std::span<const uint8_t> frame, const PairOffloads& offloads) {
  const L3Start l3 = find_l3(frame);
  if (l3.ether_type == kEtherTypeIpv4) {
    return verify_ipv4(frame, l3.offset, offloads);
  }
  if (l3.ether_type == kEtherTypeIpv6 && offloads.rx_l4_csum) {
    return verify_ipv6(frame, l3.offset);
  }
  return 0;
}

uint32_t mix(uint64_t addrs, uint32_t ports) {
  uint64_t x = addrs ^ (uint64_t{ports} * 0x9e3779b97f4a7c15ull);
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return static_cast<uint32_t>(x);
}

}  // namespace

uint32_t effective_tx_flags(const Packet& pkt, const PairOffloads& offloads) {
  uint32_t mask = 0;
  mask |= offloads.tx_ipv4_csum ? kTxIpv4Csum : 0u;
  mask |= offloads.tx_udp_csum ? kTxUdpCsum : 0u;
  mask |= offloads.tx_vlan_insert ? kTxVlanInsert : 0u;
  return pkt.tx_flags & mask;
}

bool tx_offloads_feasible(const Packet& pkt, uint32_t flags, size_t headroom) {
  const size_t l2 = pkt.l2_len;
  const size_t l3 = pkt.l3_len;
  if ((flags & (kTxIpv4Csum | kTxUdpCsum)) != 0 && (l2 == 0 || l3 == 0 || l2 + l3 > pkt.len)) {
    return false;
  }
  if ((flags & kTxIpv4Csum) != 0 && l3 < kIpv4MinHeaderLen) {
    return false;
  }
  if ((flags & kTxUdpCsum) != 0) {
    const size_t l4 = l2 + l3;
    if (l4 + kUdpHeaderLen > pkt.len) {
      return false;
    }
    const size_t udp_len = load_be16(pkt.data + l4 + kUdpLenOffset);
    if (udp_len < kUdpHeaderLen || l4 + udp_len > pkt.len) {
      return false;
    }
  }
  if ((flags & kTxVlanInsert) != 0 && (headroom < kVlanTagLen || pkt.len < kEthHeaderLen)) {
    return false;
  }
  return true;
}

void apply_tx_offloads(Packet& pkt, uint32_t flags) {
  uint8_t* frame = pkt.data;
  if ((flags & kTxIpv4Csum) != 0) {
    uint8_t* ip = frame + pkt.l2_len;
    store_be16(ip + kIpv4CsumOffset, 0);
    store_be16(ip + kIpv4CsumOffset, csum_finish(csum_add({ip, pkt.l3_len})));
  }
  if ((flags & kTxUdpCsum) != 0) {
    // The field holds the pseudo-header sum, so summing the datagram as it
    // stands adds the pseudo-header in.
    uint8_t* udp = frame + pkt.l2_len + pkt.l3_len;
    const size_t udp_len = load_be16(udp + kUdpLenOffset);
    uint16_t csum = csum_finish(csum_add({udp, udp_len}));
    if (csum == 0) {
      csum = 0xffff;  // RFC 768: a computed zero is transmitted as all ones
    }
    store_be16(udp + kUdpCsumOffset, csum);
  }
  if ((flags & kTxVlanInsert) != 0) {
    uint8_t* tagged = frame - kVlanTagLen;
    std::memmove(tagged, frame, kEthTypeOffset);
    store_be16(tagged + kEthTypeOffset, kEtherTypeVlan);
    store_be16(tagged + kEthTypeOffset + 2, pkt.vlan_tci);
    pkt.data = tagged;
    pkt.len += kVlanTagLen;
    pkt.room += kVlanTagLen;
  }
}

void receive_frame(Packet& pkt, uint16_t queue, const PairOffloads& offloads, const uint8_t* buffer_end) {
  pkt.rx_flags = 0;
  pkt.tx_flags = 0;
  pkt.vlan_tci = 0;
  pkt.l2_len = 0;
  pkt.l3_len = 0;
  pkt.queue = queue;
  pkt.next = nullptr;
  pkt.meta = PacketRxMeta{};
  if (offloads.rx_vlan_strip && pkt.len >= kEthHeaderLen + kVlanTagLen &&
      load_be16(pkt.data + kEthTypeOffset) == kEtherTypeVlan) {
    pkt.vlan_tci = load_be16(pkt.data + kEthTypeOffset + 2);
    std::memmove(pkt.data + kVlanTagLen, pkt.data, kEthTypeOffset);
    pkt.data += kVlanTagLen;
    pkt.len -= kVlanTagLen;
    pkt.rx_flags |= kRxVlanStripped;
  }
  pkt.room = static_cast<uint32_t>(buffer_end - pkt.data);
  if (offloads.rx_ipv4_csum || offloads.rx_l4_csum) {
    pkt.rx_flags |= verify_checksums({pkt.data, pkt.len}, offloads);
  }
}

uint32_t flow_hash(std::span<const uint8_t> frame) {
  const L3Start l3 = find_l3(frame);
  uint64_t addrs = 0;
  size_t l4 = 0;  // 0: no ports to hash
  if (l3.ether_type == kEtherTypeIpv4 && frame.size() >= l3.offset + kIpv4MinHeaderLen) {
    const uint8_t* ip = &frame[l3.offset];
    const size_t ihl = size_t{ip[0] & 0x0fu} * 4;
    addrs = uint64_t{load_be32(ip + kIpv4AddrsOffset)} << 32 | load_be32(ip + kIpv4AddrsOffset + 4);
    const bool fragment = (load_be16(ip + kIpv4FragOffset) & kIpv4FragMask) != 0;
    if (ip[kIpv4ProtoOffset] == kProtoUdp && !fragment && ihl >= kIpv4MinHeaderLen) {
      l4 = l3.offset + ihl;
    }
  } else if (l3.ether_type == kEtherTypeIpv6 && frame.size() >= l3.offset + kIpv6HeaderLen) {
    const uint8_t* ip = &frame[l3.offset];
    uint32_t src = 0;
    uint32_t dst = 0;
    for (size_t i = 0; i < 16; i += 4) {
      src ^= load_be32(ip + kIpv6AddrsOffset + i);
      dst ^= load_be32(ip + kIpv6AddrsOffset + 16 + i);
    }
    addrs = uint64_t{src} << 32 | dst;
    if (ip[kIpv6NextHeaderOffset] == kProtoUdp) {
      l4 = l3.offset + kIpv6HeaderLen;
    }
  } else {
    return 0;
  }
  const uint32_t ports = (l4 != 0 && frame.size() >= l4 + 4) ? load_be32(&frame[l4]) : 0;
  return mix(addrs, ports);
}

}  // namespace dpdkudp::common
