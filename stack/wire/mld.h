// MLD, IPv6 multicast listener discovery: v1 (RFC 2710) and v2 (RFC 3810),
// the IPv6 counterpart of igmp.h. Parses queries, emits reports and dones,
// and the IPv6 header with the Hop-by-Hop Router Alert that carries them.
// MLD messages are ICMPv6 (icmpv6.h), so every function here takes the
// addresses of the IPv6 pseudo-header their checksum covers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "stack/wire/bytes.h"
#include "stack/wire/igmp.h"

namespace dpdkudp::wire {

// The MLD messages' ICMPv6 types.
namespace mld_type {
inline constexpr uint8_t kQuery = 130;     // multicast listener query, every version
inline constexpr uint8_t kV1Report = 131;  // RFC 2710 3
inline constexpr uint8_t kV1Done = 132;    // RFC 2710 3
inline constexpr uint8_t kV2Report = 143;  // RFC 3810 5.2
}  // namespace mld_type

// The record types of an MLDv2 report (RFC 3810 5.2.12) are IGMPv3's
// (RFC 3376 4.2.12), number for number: one enum, so the filter-mode logic
// serves both families without converting.
using MldRecordType = IgmpRecordType;

// One multicast address record of an MLDv2 report (no auxiliary data).
struct MldGroupRecord {
  MldRecordType type;
  Ipv6Addr group;
  std::vector<Ipv6Addr> sources;
};

// A multicast listener query of either version.
struct MldQuery {
  int version = 2;                // 1 or 2 (RFC 3810 8.1: by length)
  Ipv6Addr group;                 // unspecified (::): a general query
  uint32_t max_resp_ms = 0;       // maximum response delay, milliseconds (v2: decoded)
  bool suppress = false;          // v2 S flag
  uint8_t qrv = 0;                // v2 robustness variable
  uint32_t qqi_s = 0;             // v2 query interval, seconds (decoded)
  std::vector<Ipv6Addr> sources;  // v2 multicast-address-and-source-specific query
};

// ICMPv6 message (no IPv6 header) from src to dst -> the query it carries.
// RFC 3810 8.1: a 24-octet query is v1, one of 28 or more v2, any other
// length is ignored. nullopt then, and when the message is not a query, is
// malformed (v2 source count past the end), has a wrong checksum, or comes
// from a source that is not link-local (RFC 2710 5, RFC 3810 5.1.14: such a
// query, :: included, is silently discarded). Bytes past a v2 query's
// sources are summed but otherwise ignored (RFC 3810 5.1.12). The caller
// checks what only the IPv6 header shows: hop limit kMldHopLimit.
std::optional<MldQuery> parse_mld_query(std::span<const uint8_t> msg, const Ipv6Addr& src, const Ipv6Addr& dst);

// The type byte of an MLD message (one of mld_type) long enough for its
// type (24 octets; an MLDv2 report 8) whose checksum over the pseudo-header
// is right; nullopt for anything else, other ICMPv6 types included.
std::optional<uint8_t> mld_message_type(std::span<const uint8_t> msg, const Ipv6Addr& src, const Ipv6Addr& dst);

// RFC 3810 5.1.3: the 16-bit Maximum Response Code, in milliseconds. Below
// 32768 the code is the value; above, 1 exp:3 mant:12 and the value is
// (mant | 0x1000) << (exp + 3). (The 8-bit QQIC is IGMPv3's code:
// igmp_decode_code.)
uint32_t mld_decode_max_resp(uint16_t code);

// An MLDv1 report or done (RFC 2710 3: 24 octets: type, code 0, checksum,
// maximum response delay 0, reserved, group) into out, its checksum over
// the pseudo-header of src and dst set; returns 24 (0 if out is short, and
// then nothing is written).
size_t emit_mld_v1(uint8_t type, const Ipv6Addr& group, const Ipv6Addr& src, const Ipv6Addr& dst,
                   std::span<uint8_t> out);

// Bytes an MLDv2 report with these records takes (8 + per record 20 +
// 16 * sources).
size_t mld_v2_report_len(std::span<const MldGroupRecord> records);

// An MLDv2 report (RFC 3810 5.2) into out, its checksum over the
// pseudo-header of src and dst set; returns its length. 0 if out is too
// short, or a record or source count does not fit its 16-bit field; then
// nothing is written.
size_t emit_mld_v2_report(std::span<const MldGroupRecord> records, const Ipv6Addr& src, const Ipv6Addr& dst,
                          std::span<uint8_t> out);

// RFC 2710 3, RFC 3810 5: MLD is sent from a link-local source with hop
// limit 1, after a Hop-by-Hop Options header with the Router Alert option
// (RFC 2711, value 0: MLD): the 40-octet IPv6 header and 8 octets of
// Hop-by-Hop.
inline constexpr uint8_t kMldHopLimit = 1;
inline constexpr size_t kIpv6MldHeaderLen = 48;

// That header into out[0..48): version 6, traffic class 0, flow label 0,
// payload length 8 + mld_len, next header 0 (Hop-by-Hop), hop limit 1,
// src, dst; then next header 58 (ICMPv6), length 0, Router Alert 05 02
// 00 00, PadN 01 00. Returns 48 (0 if out is short or the payload length
// passes 65535; then nothing is written).
size_t emit_ipv6_mld_header(const Ipv6Addr& src, const Ipv6Addr& dst, uint16_t mld_len, std::span<uint8_t> out);

// Where MLD messages go: v1 reports to the address itself, dones to all
// routers (RFC 2710 3, 4), v2 reports to ff02::16 (RFC 3810 5.2.14);
// general queries arrive on all nodes. A group's Ethernet address is
// Ipv6Addr::multicast_mac() (RFC 2464 7).
inline constexpr Ipv6Addr kAllNodes = Ipv6Addr::all_nodes();       // ff02::1
inline constexpr Ipv6Addr kAllRouters6 = Ipv6Addr::all_routers();  // ff02::2
inline constexpr Ipv6Addr kMldV2Routers{0xff02, 0, 0, 0, 0, 0, 0, 0x16};

}  // namespace dpdkudp::wire
