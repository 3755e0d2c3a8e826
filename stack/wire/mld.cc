#include "stack/wire/mld.h"

#include "stack/wire/checksum.h"
#include "stack/wire/icmpv6.h"
#include "stack/wire/ip_proto.h"
#include "stack/wire/ipv6.h"

namespace dpdkudp::wire {
namespace {

// The fixed part of MLDv1 messages and every query (RFC 2710 3, RFC 3810
// 5.1): type, code, checksum, maximum response delay/code, reserved, the
// multicast address.
constexpr size_t kTypeOffset = Icmpv6Packet::kTypeOffset;
constexpr size_t kCodeOffset = Icmpv6Packet::kCodeOffset;
constexpr size_t kChecksumOffset = Icmpv6Packet::kChecksumOffset;
constexpr size_t kMaxRespOffset = 4;
constexpr size_t kReservedOffset = 6;
constexpr size_t kGroupOffset = 8;
constexpr size_t kV1Len = 24;

// MLDv2 query (RFC 3810 5.1): after the address, resv/S/QRV, QQIC, the
// source count, then the sources.
constexpr size_t kV2QueryFlagsOffset = 24;
constexpr size_t kV2QueryQqicOffset = 25;
constexpr size_t kV2QueryCountOffset = 26;
constexpr size_t kV2QueryMinLen = 28;
constexpr uint8_t kV2SuppressFlag = 0x08;
constexpr uint8_t kV2QrvMask = 0x07;

// RFC 3810 5.1.3: a code with the top bit set is 1 exp:3 mant:12.
constexpr uint16_t kMaxRespFloatFlag = 0x8000;

// MLDv2 report (RFC 3810 5.2): type, reserved, checksum, reserved, the
// record count; each record is type, aux data len, source count, address,
// then the sources.
constexpr size_t kV2ReportCountOffset = 6;
constexpr size_t kV2ReportHeaderLen = 8;
constexpr size_t kV2RecordHeaderLen = 20;

// The Hop-by-Hop header after the fixed IPv6 header (RFC 8200 4.3): next
// header ICMPv6, length 0 (8 octets), Router Alert (RFC 2711 2.1: type 5,
// length 2, value 0 = MLD), then PadN of two octets to fill the eight.
constexpr uint8_t kOptionRouterAlert = 0x05;
constexpr uint8_t kHopByHop[8] = {
    ip_proto::kIcmpv6, 0, kOptionRouterAlert, 2, 0, 0, ipv6_ext::kOptionPadN, 0,
};
static_assert(Ipv6Packet::kHeaderLen + sizeof kHopByHop == kIpv6MldHeaderLen);

uint16_t mld_checksum(const uint8_t* msg, size_t len, const Ipv6Addr& src, const Ipv6Addr& dst) {
  uint32_t pseudo = ipv6_pseudo_header_sum(src, dst, ip_proto::kIcmpv6, static_cast<uint32_t>(len));
  return internet_checksum(msg, len, pseudo);
}

// The shortest message of each MLD type; 0 for a type that is not MLD.
size_t min_len(uint8_t type) {
  switch (type) {
    case mld_type::kQuery:
    case mld_type::kV1Report:
    case mld_type::kV1Done: return kV1Len;
    case mld_type::kV2Report: return kV2ReportHeaderLen;
    default: return 0;
  }
}

}  // namespace

std::optional<uint8_t> mld_message_type(std::span<const uint8_t> msg, const Ipv6Addr& src, const Ipv6Addr& dst) {
  auto icmp = Icmpv6Packet::parse(msg);
  if (!icmp) return std::nullopt;
  size_t needed = min_len(icmp->type());
  if (needed == 0 || msg.size() < needed || !icmp->verify_checksum(src, dst)) return std::nullopt;
  return icmp->type();
}

uint32_t mld_decode_max_resp(uint16_t code) {
  if ((code & kMaxRespFloatFlag) == 0) return code;
  uint32_t mant = code & 0x0fffu;
  uint32_t exponent = (code >> 12) & 0x07u;
  return (mant | 0x1000u) << (exponent + 3);
}

std::optional<MldQuery> parse_mld_query(std::span<const uint8_t> msg, const Ipv6Addr& src, const Ipv6Addr& dst) {
  auto type = mld_message_type(msg, src, dst);
  if (!type || *type != mld_type::kQuery || !src.is_link_local()) return std::nullopt;
  const uint8_t* p = msg.data();
  MldQuery query;
  query.group = Ipv6Addr::load(p + kGroupOffset);
  uint16_t code = load_be16(p + kMaxRespOffset);
  // RFC 3810 8.1: the length alone tells the versions apart; 25..27 octets
  // is neither.
  if (msg.size() == kV1Len) {
    query.version = 1;
    query.max_resp_ms = code;  // RFC 2710 3.4: plain milliseconds
    return query;
  }
  if (msg.size() < kV2QueryMinLen) return std::nullopt;
  query.version = 2;
  query.max_resp_ms = mld_decode_max_resp(code);
  uint8_t flags = p[kV2QueryFlagsOffset];
  query.suppress = (flags & kV2SuppressFlag) != 0;
  query.qrv = static_cast<uint8_t>(flags & kV2QrvMask);
  query.qqi_s = igmp_decode_code(p[kV2QueryQqicOffset]);  // RFC 3810 5.1.9: IGMPv3's code
  size_t count = load_be16(p + kV2QueryCountOffset);
  if (count > (msg.size() - kV2QueryMinLen) / Ipv6Addr::kLen) return std::nullopt;
  query.sources.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    query.sources.push_back(Ipv6Addr::load(p + kV2QueryMinLen + Ipv6Addr::kLen * i));
  }
  return query;
}

size_t emit_mld_v1(uint8_t type, const Ipv6Addr& group, const Ipv6Addr& src, const Ipv6Addr& dst,
                   std::span<uint8_t> out) {
  if (out.size() < kV1Len) return 0;
  uint8_t* p = out.data();
  p[kTypeOffset] = type;
  p[kCodeOffset] = 0;
  store_be16(p + kChecksumOffset, 0);
  store_be16(p + kMaxRespOffset, 0);
  store_be16(p + kReservedOffset, 0);
  group.store(p + kGroupOffset);
  store_be16(p + kChecksumOffset, mld_checksum(p, kV1Len, src, dst));
  return kV1Len;
}

size_t mld_v2_report_len(std::span<const MldGroupRecord> records) {
  size_t len = kV2ReportHeaderLen;
  for (const MldGroupRecord& r : records) len += kV2RecordHeaderLen + Ipv6Addr::kLen * r.sources.size();
  return len;
}

size_t emit_mld_v2_report(std::span<const MldGroupRecord> records, const Ipv6Addr& src, const Ipv6Addr& dst,
                          std::span<uint8_t> out) {
  size_t len = mld_v2_report_len(records);
  if (out.size() < len || records.size() > 0xffff) return 0;
  for (const MldGroupRecord& r : records) {
    if (r.sources.size() > 0xffff) return 0;
  }
  uint8_t* p = out.data();
  p[kTypeOffset] = mld_type::kV2Report;
  p[kCodeOffset] = 0;  // reserved
  store_be16(p + kChecksumOffset, 0);
  store_be16(p + kMaxRespOffset, 0);  // reserved
  store_be16(p + kV2ReportCountOffset, static_cast<uint16_t>(records.size()));
  uint8_t* q = p + kV2ReportHeaderLen;
  for (const MldGroupRecord& r : records) {
    q[0] = static_cast<uint8_t>(r.type);
    q[1] = 0;  // aux data len: none
    store_be16(q + 2, static_cast<uint16_t>(r.sources.size()));
    r.group.store(q + 4);
    q += kV2RecordHeaderLen;
    for (const Ipv6Addr& s : r.sources) {
      s.store(q);
      q += Ipv6Addr::kLen;
    }
  }
  store_be16(p + kChecksumOffset, mld_checksum(p, len, src, dst));
  return len;
}

size_t emit_ipv6_mld_header(const Ipv6Addr& src, const Ipv6Addr& dst, uint16_t mld_len, std::span<uint8_t> out) {
  size_t payload_len = sizeof kHopByHop + mld_len;
  if (out.size() < kIpv6MldHeaderLen || payload_len > 0xffff) return 0;
  Ipv6Repr ip;
  ip.src = src;
  ip.dst = dst;
  ip.next_header = ip_proto::kHopByHop;
  ip.payload_len = static_cast<uint16_t>(payload_len);
  ip.hop_limit = kMldHopLimit;
  ip.emit(out);
  for (size_t i = 0; i < sizeof kHopByHop; ++i) out[Ipv6Packet::kHeaderLen + i] = kHopByHop[i];
  return kIpv6MldHeaderLen;
}

}  // namespace dpdkudp::wire
