// IGMP, IPv4 multicast group management: v1 (RFC 1112 appendix I), v2
// (RFC 2236) and v3 (RFC 3376). Parses queries, emits reports and leaves,
// and the IPv4 header with Router Alert that carries them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "stack/wire/bytes.h"

namespace dpdkudp::wire {

namespace igmp_type {
inline constexpr uint8_t kQuery = 0x11;     // membership query, every version
inline constexpr uint8_t kV1Report = 0x12;  // RFC 1112
inline constexpr uint8_t kV2Report = 0x16;  // RFC 2236 2.1
inline constexpr uint8_t kV2Leave = 0x17;   // RFC 2236 2.1
inline constexpr uint8_t kV3Report = 0x22;  // RFC 3376 4.2
}  // namespace igmp_type

// The record types of an IGMPv3 report (RFC 3376 4.2.12).
enum class IgmpRecordType : uint8_t {
  kModeIsInclude = 1,
  kModeIsExclude = 2,
  kChangeToInclude = 3,
  kChangeToExclude = 4,
  kAllowNewSources = 5,
  kBlockOldSources = 6
};

// One group record of an IGMPv3 report (no auxiliary data).
struct IgmpGroupRecord {
  IgmpRecordType type;
  Ipv4Addr group;
  std::vector<Ipv4Addr> sources;
};

// A membership query of any version.
struct IgmpQuery {
  int version = 3;                // 1, 2 or 3 (RFC 3376 7.1: by length and max resp code)
  Ipv4Addr group;                 // 0.0.0.0: a general query
  uint32_t max_resp_ds = 100;     // maximum response time, tenths of a second (v1: 100)
  bool suppress = false;          // v3 S flag
  uint8_t qrv = 0;                // v3 robustness variable
  uint32_t qqi_s = 0;             // v3 query interval, seconds (decoded)
  std::vector<Ipv4Addr> sources;  // v3 group-and-source-specific query
};

// IGMP message (no IP header) -> the query it carries; nullopt when not a
// query, malformed (short, v3 source count past the end), or the checksum
// is wrong. Bytes past a v3 query's sources are summed but otherwise
// ignored (RFC 3376 4.1.10).
std::optional<IgmpQuery> parse_igmp_query(std::span<const uint8_t> msg);

// The type byte of an IGMP message with a valid checksum; nullopt if short
// (< 8) or the checksum is wrong.
std::optional<uint8_t> igmp_message_type(std::span<const uint8_t> msg);

// RFC 3376 4.1.1 / 4.1.7: the 8-bit "floating point" codes (max resp code,
// QQIC). Below 128 the code is the value; above, 1exp:3 mant:4.
uint32_t igmp_decode_code(uint8_t code);

// An IGMPv1/v2 message (8 bytes: type, max resp 0, checksum, group) into
// out; returns 8 (0 if out is short, and then nothing is written).
size_t emit_igmp_v2(uint8_t type, Ipv4Addr group, std::span<uint8_t> out);

// Bytes an IGMPv3 report with these records takes (8 + per record 8 +
// 4 * sources).
size_t igmp_v3_report_len(std::span<const IgmpGroupRecord> records);

// An IGMPv3 membership report (RFC 3376 4.2) into out, checksum set;
// returns its length. 0 if out is too short, or a record or source count
// does not fit its 16-bit field; then nothing is written.
size_t emit_igmp_v3_report(std::span<const IgmpGroupRecord> records, std::span<uint8_t> out);

// IGMP goes in an IPv4 header with the Router Alert option (RFC 2113;
// RFC 3376 4; RFC 2236 2): 24 bytes.
inline constexpr size_t kIpv4RouterAlertHeaderLen = 24;

// That header into out[0..24): version 4, IHL 6, the given TOS, total
// length 24 + payload_len, the ident, DF set, TTL 1, protocol 2, src, dst,
// option 0x94 0x04 0x00 0x00, header checksum set. Returns 24 (0 if out is
// short or the total length passes 65535; then nothing is written).
size_t emit_ipv4_router_alert_header(Ipv4Addr src, Ipv4Addr dst, uint8_t tos, uint16_t ident, uint16_t payload_len,
                                     std::span<uint8_t> out);

// Where IGMP reports and leaves go: v1/v2 reports to the group itself,
// v2 leaves to all routers (RFC 2236 3), v3 reports to 224.0.0.22
// (RFC 3376 4.2.14). Queries arrive on all systems.
inline constexpr Ipv4Addr kAllSystems{224, 0, 0, 1};
inline constexpr Ipv4Addr kAllRouters{224, 0, 0, 2};
inline constexpr Ipv4Addr kIgmpV3Routers{224, 0, 0, 22};

}  // namespace dpdkudp::wire
