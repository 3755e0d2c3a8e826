#include "stack/wire/igmp.h"

#include "stack/wire/checksum.h"
#include "stack/wire/ipv4.h"

namespace dpdkudp::wire {
namespace {

// The fixed part every IGMP message starts with.
constexpr size_t kTypeOffset = 0;
constexpr size_t kCodeOffset = 1;  // max resp code (queries), 0 or reserved otherwise
constexpr size_t kChecksumOffset = 2;
constexpr size_t kGroupOffset = 4;
constexpr size_t kV2Len = 8;

// IGMPv3 query (RFC 3376 4.1): after the group, resv/S/QRV, QQIC, the
// source count, then the sources.
constexpr size_t kV3QueryFlagsOffset = 8;
constexpr size_t kV3QueryQqicOffset = 9;
constexpr size_t kV3QueryCountOffset = 10;
constexpr size_t kV3QueryMinLen = 12;
constexpr uint8_t kV3SuppressFlag = 0x08;
constexpr uint8_t kV3QrvMask = 0x07;

// IGMPv3 report (RFC 3376 4.2): type, reserved, checksum, reserved, the
// record count; each record is type, aux data len, source count, group,
// then the sources.
constexpr size_t kV3ReportCountOffset = 6;
constexpr size_t kV3ReportHeaderLen = 8;
constexpr size_t kV3RecordHeaderLen = 8;

// RFC 1112 with RFC 2236 and 3376: a v1 query leaves the code 0 and means
// 10 seconds.
constexpr uint32_t kV1MaxRespDs = 100;

constexpr uint8_t kIpProtoIgmp = 2;
constexpr uint8_t kIgmpTtl = 1;
// RFC 2113 2.1: type 148 (copied, option 20), length 4, value 0 (every
// router examines the packet).
constexpr uint8_t kRouterAlertOption[4] = {0x94, 0x04, 0x00, 0x00};

bool checksum_ok(std::span<const uint8_t> msg) { return checksum_fold(msg.data(), msg.size()) == 0xffff; }

}  // namespace

std::optional<uint8_t> igmp_message_type(std::span<const uint8_t> msg) {
  if (msg.size() < kV2Len || !checksum_ok(msg)) return std::nullopt;
  return msg[kTypeOffset];
}

uint32_t igmp_decode_code(uint8_t code) {
  if (code < 0x80) return code;
  uint32_t mant = code & 0x0fu;
  uint32_t exponent = (code >> 4) & 0x07u;
  return (mant | 0x10u) << (exponent + 3);
}

std::optional<IgmpQuery> parse_igmp_query(std::span<const uint8_t> msg) {
  auto type = igmp_message_type(msg);
  if (!type || *type != igmp_type::kQuery) return std::nullopt;
  const uint8_t* p = msg.data();
  IgmpQuery query;
  query.group = Ipv4Addr::load(p + kGroupOffset);
  uint8_t code = p[kCodeOffset];
  // RFC 3376 7.1: the length tells v3 from older; code 0 tells v1 from v2.
  if (msg.size() == kV2Len) {
    query.version = code == 0 ? 1 : 2;
    query.max_resp_ds = code == 0 ? kV1MaxRespDs : code;
    return query;
  }
  if (msg.size() < kV3QueryMinLen) return std::nullopt;
  query.version = 3;
  query.max_resp_ds = igmp_decode_code(code);
  uint8_t flags = p[kV3QueryFlagsOffset];
  query.suppress = (flags & kV3SuppressFlag) != 0;
  query.qrv = static_cast<uint8_t>(flags & kV3QrvMask);
  query.qqi_s = igmp_decode_code(p[kV3QueryQqicOffset]);
  size_t count = load_be16(p + kV3QueryCountOffset);
  if (count > (msg.size() - kV3QueryMinLen) / 4) return std::nullopt;
  query.sources.reserve(count);
  for (size_t i = 0; i < count; ++i) query.sources.push_back(Ipv4Addr::load(p + kV3QueryMinLen + 4 * i));
  return query;
}

size_t emit_igmp_v2(uint8_t type, Ipv4Addr group, std::span<uint8_t> out) {
  if (out.size() < kV2Len) return 0;
  uint8_t* p = out.data();
  p[kTypeOffset] = type;
  p[kCodeOffset] = 0;
  store_be16(p + kChecksumOffset, 0);
  group.store(p + kGroupOffset);
  store_be16(p + kChecksumOffset, internet_checksum(p, kV2Len));
  return kV2Len;
}

size_t igmp_v3_report_len(std::span<const IgmpGroupRecord> records) {
  size_t len = kV3ReportHeaderLen;
  for (const IgmpGroupRecord& r : records) len += kV3RecordHeaderLen + 4 * r.sources.size();
  return len;
}

size_t emit_igmp_v3_report(std::span<const IgmpGroupRecord> records, std::span<uint8_t> out) {
  size_t len = igmp_v3_report_len(records);
  if (out.size() < len || records.size() > 0xffff) return 0;
  for (const IgmpGroupRecord& r : records) {
    if (r.sources.size() > 0xffff) return 0;
  }
  uint8_t* p = out.data();
  p[kTypeOffset] = igmp_type::kV3Report;
  p[kCodeOffset] = 0;
  store_be16(p + kChecksumOffset, 0);
  store_be16(p + kGroupOffset, 0);  // reserved
  store_be16(p + kV3ReportCountOffset, static_cast<uint16_t>(records.size()));
  uint8_t* q = p + kV3ReportHeaderLen;
  for (const IgmpGroupRecord& r : records) {
    q[0] = static_cast<uint8_t>(r.type);
    q[1] = 0;  // aux data len: none
    store_be16(q + 2, static_cast<uint16_t>(r.sources.size()));
    r.group.store(q + 4);
    q += kV3RecordHeaderLen;
    for (Ipv4Addr s : r.sources) {
      s.store(q);
      q += 4;
    }
  }
  store_be16(p + kChecksumOffset, internet_checksum(p, len));
  return len;
}

size_t emit_ipv4_router_alert_header(Ipv4Addr src, Ipv4Addr dst, uint8_t tos, uint16_t ident, uint16_t payload_len,
                                     std::span<uint8_t> out) {
  size_t total_len = kIpv4RouterAlertHeaderLen + payload_len;
  if (out.size() < kIpv4RouterAlertHeaderLen || total_len > 0xffff) return 0;
  uint8_t* p = out.data();
  p[Ipv4Packet::kVerIhlOffset] = static_cast<uint8_t>(0x40 | (kIpv4RouterAlertHeaderLen / 4));  // IHL 6
  p[Ipv4Packet::kTosOffset] = tos;
  store_be16(p + Ipv4Packet::kTotalLenOffset, static_cast<uint16_t>(total_len));
  store_be16(p + Ipv4Packet::kIdentOffset, ident);
  store_be16(p + Ipv4Packet::kFlagsFragOffset, Ipv4Packet::kFlagDontFragment);
  p[Ipv4Packet::kTtlOffset] = kIgmpTtl;
  p[Ipv4Packet::kProtocolOffset] = kIpProtoIgmp;
  store_be16(p + Ipv4Packet::kChecksumOffset, 0);
  src.store(p + Ipv4Packet::kSrcOffset);
  dst.store(p + Ipv4Packet::kDstOffset);
  for (size_t i = 0; i < sizeof kRouterAlertOption; ++i) p[Ipv4Packet::kMinHeaderLen + i] = kRouterAlertOption[i];
  store_be16(p + Ipv4Packet::kChecksumOffset, internet_checksum(p, kIpv4RouterAlertHeaderLen));
  return kIpv4RouterAlertHeaderLen;
}

}  // namespace dpdkudp::wire
