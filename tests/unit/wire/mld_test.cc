// MLD (stack/wire/mld.h). Every vector below is written out by hand, its
// checksum worked in the comment, and each was cross-checked byte for byte
// against an independent encoder (scapy's ICMPv6ML* and
// IPv6ExtHdrHopByHop/RouterAlert layers). Tests that change a vector
// refit its checksum with checksum.h, so only the change under test can
// make the parser reject it.
//
// An ICMPv6 checksum covers the pseudo-header: the comments give its sum
// (the two addresses' non-zero words, the length and next header 3a), then
// the message's words with the checksum field 0.
#include "stack/wire/mld.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "stack/wire/checksum.h"
#include "stack/wire/icmpv6.h"
#include "stack/wire/ipv6.h"
#include "tests/unit/wire/vectors.h"

namespace dpdkudp::wire {
namespace {

using Bytes = std::vector<uint8_t>;
using vectors::first_bytes;

constexpr Ipv6Addr kRouter(0xfe80, 0, 0, 0, 0, 0, 0, 1);  // the querier
constexpr Ipv6Addr kHost(0xfe80, 0, 0, 0, 0, 0, 0, 2);
constexpr Ipv6Addr kGlobalRouter(0x2001, 2, 0, 0, 0, 0, 0, 1);  // not link-local
constexpr Ipv6Addr kGroup(0xff05, 0, 0, 0, 0, 0, 1, 3);
constexpr Ipv6Addr kSsmGroup(0xff3e, 0, 0, 0, 0, 0, 0x8000, 1);
constexpr Ipv6Addr kSource1(0x2001, 2, 0, 0, 0, 0, 0, 9);
constexpr Ipv6Addr kSource2(0x2001, 2, 0, 0, 0, 0, 0, 0xa);

// v1 report for ff05::1:3, fe80::2 -> ff05::1:3.
// Pseudo fe80 0002 ff05 0001 0003 18 3a = 1fddd; message 8300 ff05 0001
// 0003 = 18209; 1fddd + 18209 = 37fe6 -> 7fe9, checksum 8016.
constexpr uint8_t kV1Report[] = {
    0x83, 0x00, 0x80, 0x16,                          // report, code 0, checksum
    0x00, 0x00, 0x00, 0x00,                          // max resp delay 0, reserved
    0xff, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ff05::1:3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03,  //   (low half)
};

// v1 done for ff05::1:3, fe80::2 -> ff02::2, behind its IPv6 header and
// Hop-by-Hop Router Alert: 48 + 24 bytes.
// Pseudo fe80 0002 ff02 0002 18 3a = 1fdd8; message 8400 ff05 0001 0003 =
// 18309; sum 380e1 -> 80e4, checksum 7f1b.
constexpr uint8_t kV1DonePacket[] = {
    0x60, 0x00, 0x00, 0x00,                          // v6, traffic class 0, flow 0
    0x00, 0x20, 0x00, 0x01,                          // payload 32, next header Hop-by-Hop, hop limit 1
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // src fe80::2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,  //   (low half)
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // dst ff02::2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,  //   (low half)
    0x3a, 0x00, 0x05, 0x02,                          // next header ICMPv6, length 0; Router Alert
    0x00, 0x00, 0x01, 0x00,                          // value 0 (MLD); PadN of 2
    0x84, 0x00, 0x7f, 0x1b,                          // done, code 0, checksum
    0x00, 0x00, 0x00, 0x00,                          // max resp delay 0, reserved
    0xff, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ff05::1:3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03,  //   (low half)
};

// v2 report, fe80::2 -> ff02::16, two records: CHANGE_TO_EXCLUDE ff05::1:3
// with no sources (a join), ALLOW_NEW_SOURCES ff3e::8000:1 from 2001:2::9
// and 2001:2::a.
// Pseudo fe80 0002 ff02 0016 50 3a = 1fe24; message 8f00 0002 0400 ff05
// 0001 0003 0500 0002 ff3e 8000 0001 2001 0002 0009 2001 0002 000a =
// 35665; sum 55489 -> 548e, checksum ab71.
constexpr uint8_t kV2Report[] = {
    0x8f, 0x00, 0xab, 0x71,                          // v2 report, reserved, checksum
    0x00, 0x00, 0x00, 0x02,                          // reserved, 2 records
    0x04, 0x00, 0x00, 0x00,                          // CHANGE_TO_EXCLUDE, aux len 0, 0 sources
    0xff, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ff05::1:3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03,  //   (low half)
    0x05, 0x00, 0x00, 0x02,                          // ALLOW_NEW_SOURCES, aux len 0, 2 sources
    0xff, 0x3e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ff3e::8000:1
    0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x01,  //   (low half)
    0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,  // 2001:2::9
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,  //   (low half)
    0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,  // 2001:2::a
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a,  //   (low half)
};

// The IPv6 + Hop-by-Hop header in front of kV2Report: fe80::2 -> ff02::16,
// payload 8 + 80 = 88.
constexpr uint8_t kV2ReportHeader[] = {
    0x60, 0x00, 0x00, 0x00,                          // v6, traffic class 0, flow 0
    0x00, 0x58, 0x00, 0x01,                          // payload 88, next header Hop-by-Hop, hop limit 1
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // src fe80::2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,  //   (low half)
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // dst ff02::16
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16,  //   (low half)
    0x3a, 0x00, 0x05, 0x02,                          // next header ICMPv6, length 0; Router Alert
    0x00, 0x00, 0x01, 0x00,                          // value 0 (MLD); PadN of 2
};

// v1 general query, fe80::1 -> ff02::1, max resp delay 10000 ms.
// Pseudo fe80 0001 ff02 0001 18 3a = 1fdd6; message 8200 2710 = a910;
// sum 2a6e6 -> a6e8, checksum 5917.
constexpr uint8_t kV1Query[] = {
    0x82, 0x00, 0x59, 0x17,                          // query, code 0, checksum
    0x27, 0x10, 0x00, 0x00,                          // max resp delay 10000, reserved
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // :: (general)
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //   (low half)
};

// v1 address-specific query for ff05::1:3, fe80::1 -> ff05::1:3, max resp
// delay 1000 ms. Pseudo fe80 0001 ff05 0001 0003 18 3a = 1fddc; message
// 8200 03e8 ff05 0001 0003 = 184f1; sum 382cd -> 82d0, checksum 7d2f.
constexpr uint8_t kV1GroupQuery[] = {
    0x82, 0x00, 0x7d, 0x2f,                          // query, code 0, checksum
    0x03, 0xe8, 0x00, 0x00,                          // max resp delay 1000, reserved
    0xff, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ff05::1:3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03,  //   (low half)
};

// v2 general query, fe80::1 -> ff02::1: max resp code 10000, S set, QRV 2,
// QQIC 125, no sources. Pseudo fe80 0001 ff02 0001 1c 3a = 1fdda; message
// 8200 2710 0a7d = b38d; sum 2b167 -> b169, checksum 4e96.
constexpr uint8_t kV2GeneralQuery[] = {
    0x82, 0x00, 0x4e, 0x96,                          // query, code 0, checksum
    0x27, 0x10, 0x00, 0x00,                          // max resp code 10000, reserved
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // :: (general)
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //   (low half)
    0x0a, 0x7d, 0x00, 0x00,                          // S=1 QRV=2, QQIC 125, 0 sources
};

// v2 address-and-source-specific query for ff3e::8000:1 from 2001:2::9 and
// 2001:2::a, fe80::1 -> ff3e::8000:1: max resp code 1000, S clear, QRV 2,
// QQIC 125. Pseudo fe80 0001 ff3e 8000 0001 3c 3a = 27e36; message 8200
// 03e8 ff3e 8000 0001 027d 0002 2001 0002 0009 2001 0002 000a = 247bf;
// sum 4c5f5 -> c5f9, checksum 3a06.
constexpr uint8_t kV2SourceQuery[] = {
    0x82, 0x00, 0x3a, 0x06,                          // query, code 0, checksum
    0x03, 0xe8, 0x00, 0x00,                          // max resp code 1000, reserved
    0xff, 0x3e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ff3e::8000:1
    0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x01,  //   (low half)
    0x02, 0x7d, 0x00, 0x02,                          // S=0 QRV=2, QQIC 125, 2 sources
    0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,  // 2001:2::9
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,  //   (low half)
    0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,  // 2001:2::a
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a,  //   (low half)
};

// The checksum field, refitted after a test changed the message.
void refit_checksum(Bytes& msg, const Ipv6Addr& src, const Ipv6Addr& dst) {
  store_be16(&msg[2], 0);
  uint32_t pseudo = ipv6_pseudo_header_sum(src, dst, 58, static_cast<uint32_t>(msg.size()));
  store_be16(&msg[2], internet_checksum(msg.data(), msg.size(), pseudo));
}

TEST(MldEmit, V1Report) {
  Bytes out(24, 0xcc);
  EXPECT_EQ(emit_mld_v1(mld_type::kV1Report, kGroup, kHost, kGroup, out), 24u);
  EXPECT_EQ(out, Bytes(std::begin(kV1Report), std::end(kV1Report)));
}

TEST(MldEmit, V1DoneToAllRouters) {
  Bytes out(sizeof kV1DonePacket, 0xcc);
  std::span<uint8_t> s(out);
  EXPECT_EQ(emit_ipv6_mld_header(kHost, kAllRouters6, 24, s), kIpv6MldHeaderLen);
  EXPECT_EQ(emit_mld_v1(mld_type::kV1Done, kGroup, kHost, kAllRouters6, s.subspan(kIpv6MldHeaderLen)), 24u);
  EXPECT_EQ(out, Bytes(std::begin(kV1DonePacket), std::end(kV1DonePacket)));

  // The IPv6 parser and chain walk find the ICMPv6 message behind the
  // Router Alert, and its checksum verifies.
  auto packet = Ipv6Packet::parse(out);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->hop_limit(), kMldHopLimit);
  EXPECT_EQ(packet->next_header(), 0);
  auto chain = Ipv6HeaderChain::walk(*packet);
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->upper_protocol, 58);
  EXPECT_EQ(chain->upper_offset, kIpv6MldHeaderLen);
  auto msg = packet->bytes().subspan(chain->upper_offset);
  EXPECT_EQ(mld_message_type(msg, packet->src(), packet->dst()), mld_type::kV1Done);
}

TEST(MldEmit, V2ReportTwoRecords) {
  const MldGroupRecord records[] = {
      {MldRecordType::kChangeToExclude, kGroup, {}},
      {MldRecordType::kAllowNewSources, kSsmGroup, {kSource1, kSource2}},
  };
  EXPECT_EQ(mld_v2_report_len(records), sizeof kV2Report);
  Bytes out(sizeof kV2Report, 0xcc);
  EXPECT_EQ(emit_mld_v2_report(records, kHost, kMldV2Routers, out), sizeof kV2Report);
  EXPECT_EQ(out, Bytes(std::begin(kV2Report), std::end(kV2Report)));
  EXPECT_EQ(mld_message_type(out, kHost, kMldV2Routers), mld_type::kV2Report);
}

TEST(MldEmit, V2ReportWithoutRecords) {
  // fe80::2 -> ff02::16. Pseudo fe80 0002 ff02 0016 08 3a = 1fddc; message
  // 8f00; sum 28cdc -> 8cde, checksum 7321.
  EXPECT_EQ(mld_v2_report_len({}), 8u);
  Bytes out(8, 0xcc);
  EXPECT_EQ(emit_mld_v2_report({}, kHost, kMldV2Routers, out), 8u);
  EXPECT_EQ(out, (Bytes{0x8f, 0x00, 0x73, 0x21, 0x00, 0x00, 0x00, 0x00}));
  EXPECT_EQ(mld_message_type(out, kHost, kMldV2Routers), mld_type::kV2Report);
}

TEST(MldEmit, V2ReportIntoLargerBufferLeavesTheTail) {
  const MldGroupRecord records[] = {{MldRecordType::kChangeToExclude, kGroup, {}}};
  Bytes out(64, 0xcc);
  EXPECT_EQ(emit_mld_v2_report(records, kHost, kMldV2Routers, out), 28u);
  for (size_t i = 28; i < out.size(); ++i) EXPECT_EQ(out[i], 0xcc) << "byte " << i;
  EXPECT_EQ(mld_message_type(first_bytes(out, 28), kHost, kMldV2Routers), mld_type::kV2Report);
}

TEST(MldEmit, V2ReportCountsPast16BitsReturnZero) {
  // 65536 sources in one record: the count does not fit its field.
  MldGroupRecord many_sources{MldRecordType::kModeIsInclude, kSsmGroup, std::vector<Ipv6Addr>(65536, kSource1)};
  const MldGroupRecord one[] = {many_sources};
  EXPECT_EQ(mld_v2_report_len(one), 8u + 20u + 16u * 65536u);
  const Bytes fill(mld_v2_report_len(one), 0xcc);
  Bytes out = fill;
  EXPECT_EQ(emit_mld_v2_report(one, kHost, kMldV2Routers, out), 0u);
  EXPECT_EQ(out, fill);

  // 65535 sources fit.
  many_sources.sources.pop_back();
  const MldGroupRecord fits[] = {many_sources};
  EXPECT_EQ(emit_mld_v2_report(fits, kHost, kMldV2Routers, out), mld_v2_report_len(fits));
  EXPECT_EQ(load_be16(&out[8 + 2]), 65535);

  // 65536 records: the record count does not fit.
  const std::vector<MldGroupRecord> many_records(65536, MldGroupRecord{MldRecordType::kChangeToExclude, kGroup, {}});
  const Bytes fill2(mld_v2_report_len(many_records), 0xcc);
  Bytes out2 = fill2;
  EXPECT_EQ(emit_mld_v2_report(many_records, kHost, kMldV2Routers, out2), 0u);
  EXPECT_EQ(out2, fill2);
}

TEST(MldEmit, Ipv6MldHeader) {
  Bytes out(kIpv6MldHeaderLen, 0xcc);
  EXPECT_EQ(emit_ipv6_mld_header(kHost, kMldV2Routers, sizeof kV2Report, out), 48u);
  EXPECT_EQ(out, Bytes(std::begin(kV2ReportHeader), std::end(kV2ReportHeader)));

  // With the report behind it the IPv6 parser takes it whole.
  // (Copied into a buffer of the full size: GCC 12 at -O3 misreads an
  // insert at the end of the 48-byte vector as out of bounds.)
  Bytes frame(out.size() + sizeof kV2Report);
  std::copy(out.begin(), out.end(), frame.begin());
  std::copy(std::begin(kV2Report), std::end(kV2Report), frame.begin() + static_cast<std::ptrdiff_t>(out.size()));
  out = frame;
  auto packet = Ipv6Packet::parse(out);
  ASSERT_TRUE(packet);
  EXPECT_EQ(packet->traffic_class(), 0);
  EXPECT_EQ(packet->flow_label(), 0u);
  EXPECT_EQ(packet->payload_len(), 88);
  EXPECT_EQ(packet->hop_limit(), 1);
  EXPECT_EQ(packet->src(), kHost);
  EXPECT_EQ(packet->dst(), kMldV2Routers);
  auto chain = Ipv6HeaderChain::walk(*packet);
  ASSERT_TRUE(chain);
  EXPECT_EQ(chain->extension_headers, 1);
  EXPECT_EQ(chain->upper_protocol, 58);
  EXPECT_EQ(chain->upper_offset, 48u);
}

TEST(MldEmit, Ipv6MldHeaderPayloadPast65535) {
  Bytes out(kIpv6MldHeaderLen, 0xcc);
  EXPECT_EQ(emit_ipv6_mld_header(kHost, kMldV2Routers, 65527, out), 48u);  // payload 65535
  EXPECT_EQ(load_be16(&out[Ipv6Packet::kPayloadLenOffset]), 65535);
  Bytes untouched(kIpv6MldHeaderLen, 0xcc);
  EXPECT_EQ(emit_ipv6_mld_header(kHost, kMldV2Routers, 65528, untouched), 0u);
  EXPECT_EQ(untouched, Bytes(kIpv6MldHeaderLen, 0xcc));
}

TEST(MldEmit, ShortBufferReturnsZeroAndWritesNothing) {
  const Bytes fill(128, 0xcc);
  Bytes out = fill;
  EXPECT_EQ(emit_mld_v1(mld_type::kV1Report, kGroup, kHost, kGroup, std::span<uint8_t>(out).first(23)), 0u);
  EXPECT_EQ(out, fill);

  const MldGroupRecord records[] = {
      {MldRecordType::kChangeToExclude, kGroup, {}},
      {MldRecordType::kAllowNewSources, kSsmGroup, {kSource1, kSource2}},
  };
  EXPECT_EQ(emit_mld_v2_report(records, kHost, kMldV2Routers, std::span<uint8_t>(out).first(sizeof kV2Report - 1)), 0u);
  EXPECT_EQ(out, fill);
  EXPECT_EQ(emit_mld_v2_report({}, kHost, kMldV2Routers, std::span<uint8_t>(out).first(7)), 0u);
  EXPECT_EQ(out, fill);

  EXPECT_EQ(emit_ipv6_mld_header(kHost, kMldV2Routers, 80, std::span<uint8_t>(out).first(kIpv6MldHeaderLen - 1)), 0u);
  EXPECT_EQ(out, fill);
}

TEST(MldAddresses, WellKnownGroups) {
  EXPECT_EQ(kAllNodes.to_string(), "ff02::1");
  EXPECT_EQ(kAllRouters6.to_string(), "ff02::2");
  EXPECT_EQ(kMldV2Routers.to_string(), "ff02::16");
  EXPECT_TRUE(kMldV2Routers.is_multicast());
  EXPECT_EQ(kMldV2Routers.multicast_mac(), (MacAddr{0x33, 0x33, 0x00, 0x00, 0x00, 0x16}));
}

TEST(MldParse, V1GeneralQuery) {
  auto q = parse_mld_query(first_bytes(kV1Query, sizeof kV1Query), kRouter, kAllNodes);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->version, 1);
  EXPECT_EQ(q->group, Ipv6Addr::unspecified());
  EXPECT_EQ(q->max_resp_ms, 10000u);
  EXPECT_TRUE(q->sources.empty());
}

TEST(MldParse, V1AddressSpecificQuery) {
  auto q = parse_mld_query(first_bytes(kV1GroupQuery, sizeof kV1GroupQuery), kRouter, kGroup);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->version, 1);
  EXPECT_EQ(q->group, kGroup);
  EXPECT_EQ(q->max_resp_ms, 1000u);
}

TEST(MldParse, V2GeneralQuery) {
  auto q = parse_mld_query(first_bytes(kV2GeneralQuery, sizeof kV2GeneralQuery), kRouter, kAllNodes);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->version, 2);
  EXPECT_EQ(q->group, Ipv6Addr::unspecified());
  EXPECT_EQ(q->max_resp_ms, 10000u);
  EXPECT_TRUE(q->suppress);
  EXPECT_EQ(q->qrv, 2);
  EXPECT_EQ(q->qqi_s, 125u);
  EXPECT_TRUE(q->sources.empty());
}

TEST(MldParse, V2AddressAndSourceQuery) {
  auto q = parse_mld_query(first_bytes(kV2SourceQuery, sizeof kV2SourceQuery), kRouter, kSsmGroup);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->version, 2);
  EXPECT_EQ(q->group, kSsmGroup);
  EXPECT_EQ(q->max_resp_ms, 1000u);
  EXPECT_FALSE(q->suppress);
  EXPECT_EQ(q->qrv, 2);
  EXPECT_EQ(q->qqi_s, 125u);
  EXPECT_EQ(q->sources, (std::vector<Ipv6Addr>{kSource1, kSource2}));
}

TEST(MldParse, V2BytesPastTheSourcesIgnored) {
  // RFC 3810 5.1.12: summed, then ignored. Zero words leave the sum, but
  // the length is in the pseudo-header: refit.
  Bytes bytes(std::begin(kV2SourceQuery), std::end(kV2SourceQuery));
  bytes.resize(bytes.size() + 4, 0);
  refit_checksum(bytes, kRouter, kSsmGroup);
  auto q = parse_mld_query(bytes, kRouter, kSsmGroup);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->sources.size(), 2u);
}

TEST(MldParse, V2CodesFromTheExponentForm) {
  // Max resp code 0x9234: exp 1, mant 0x234 -> 0x1234 << 4 = 74560 ms.
  // QQIC 0x8f: exp 0, mant f -> 0x1f << 3 = 248 s.
  // fe80::1 -> ff02::1. Pseudo 1fdda; message 8200 9234 028f = 116c3;
  // sum 3149d -> 14a0, checksum eb5f.
  const uint8_t query[] = {
      0x82, 0x00, 0xeb, 0x5f,                          // query, code 0, checksum
      0x92, 0x34, 0x00, 0x00,                          // max resp code 0x9234, reserved
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // :: (general)
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //   (low half)
      0x02, 0x8f, 0x00, 0x00,                          // S=0 QRV=2, QQIC 0x8f, 0 sources
  };
  auto q = parse_mld_query(first_bytes(query, sizeof query), kRouter, kAllNodes);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->version, 2);
  EXPECT_EQ(q->max_resp_ms, 74560u);
  EXPECT_EQ(q->qqi_s, 248u);
  EXPECT_FALSE(q->suppress);
  EXPECT_EQ(q->qrv, 2);
}

TEST(MldDecodeMaxResp, LinearBelow32768ExponentAbove) {
  EXPECT_EQ(mld_decode_max_resp(0), 0u);
  EXPECT_EQ(mld_decode_max_resp(1), 1u);
  EXPECT_EQ(mld_decode_max_resp(10000), 10000u);
  EXPECT_EQ(mld_decode_max_resp(0x7fff), 32767u);
  EXPECT_EQ(mld_decode_max_resp(0x8000), 32768u);    // 0x1000 << 3
  EXPECT_EQ(mld_decode_max_resp(0x8001), 32776u);    // 0x1001 << 3
  EXPECT_EQ(mld_decode_max_resp(0x8fff), 65528u);    // 0x1fff << 3
  EXPECT_EQ(mld_decode_max_resp(0x9000), 65536u);    // 0x1000 << 4
  EXPECT_EQ(mld_decode_max_resp(0x9234), 74560u);    // 0x1234 << 4
  EXPECT_EQ(mld_decode_max_resp(0xffff), 8387584u);  // 0x1fff << 10
}

TEST(MldParse, V1OnlyTakesTheCodeAsIs) {
  // A v1 query's field is a plain delay (RFC 2710 3.4): 0x9234 is 37428 ms,
  // not the v2 exponent form (74560). kV1Query with that code, checksum
  // refitted.
  Bytes bytes = first_bytes(kV1Query, sizeof kV1Query);
  store_be16(&bytes[4], 0x9234);
  refit_checksum(bytes, kRouter, kAllNodes);
  auto q = parse_mld_query(bytes, kRouter, kAllNodes);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->version, 1);
  EXPECT_EQ(q->max_resp_ms, 0x9234u);
}

TEST(MldParse, BadChecksumRejected) {
  struct Case {
    std::span<const uint8_t> bytes;
    Ipv6Addr dst;
  };
  const Case cases[] = {{kV1Query, kAllNodes}, {kV1GroupQuery, kGroup}, {kV2SourceQuery, kSsmGroup}};
  for (const Case& c : cases) {
    ASSERT_TRUE(parse_mld_query(c.bytes, kRouter, c.dst));
    for (size_t i = 0; i < c.bytes.size(); ++i) {
      Bytes bytes = first_bytes(c.bytes, c.bytes.size());
      bytes[i] ^= 0x01;
      EXPECT_FALSE(parse_mld_query(bytes, kRouter, c.dst)) << "length " << c.bytes.size() << " byte " << i;
      EXPECT_FALSE(mld_message_type(bytes, kRouter, c.dst)) << "length " << c.bytes.size() << " byte " << i;
    }
    // The pseudo-header is summed too: the same bytes to another address fail.
    EXPECT_FALSE(parse_mld_query(c.bytes, kRouter, kAllRouters6));
    EXPECT_FALSE(parse_mld_query(c.bytes, kHost, c.dst));
  }
}

TEST(MldParse, NonLinkLocalSourceRejected) {
  // RFC 3810 5.1.14: a query from a global source, or from ::, is dropped.
  // The checksum is refitted for that source, so only the source rejects.
  for (const Ipv6Addr& src : {kGlobalRouter, Ipv6Addr::unspecified(), Ipv6Addr::loopback()}) {
    Bytes bytes = first_bytes(kV2GeneralQuery, sizeof kV2GeneralQuery);
    refit_checksum(bytes, src, kAllNodes);
    EXPECT_EQ(mld_message_type(bytes, src, kAllNodes), mld_type::kQuery) << src.to_string();
    EXPECT_FALSE(parse_mld_query(bytes, src, kAllNodes)) << src.to_string();

    Bytes v1 = first_bytes(kV1Query, sizeof kV1Query);
    refit_checksum(v1, src, kAllNodes);
    EXPECT_FALSE(parse_mld_query(v1, src, kAllNodes)) << src.to_string();
  }
  // fe80::/10 reaches to febf::.
  const Ipv6Addr edge(0xfebf, 0, 0, 0, 0, 0, 0, 1);
  Bytes bytes = first_bytes(kV2GeneralQuery, sizeof kV2GeneralQuery);
  refit_checksum(bytes, edge, kAllNodes);
  EXPECT_TRUE(parse_mld_query(bytes, edge, kAllNodes));
}

TEST(MldParse, LengthsTwentyFiveToTwentySevenRejected) {
  // RFC 3810 8.1: neither 24 (v1) nor at least 28 (v2): ignored.
  for (size_t len = 25; len <= 27; ++len) {
    Bytes bytes = first_bytes(kV2GeneralQuery, len);
    refit_checksum(bytes, kRouter, kAllNodes);
    ASSERT_EQ(mld_message_type(bytes, kRouter, kAllNodes), mld_type::kQuery) << "len " << len;
    EXPECT_FALSE(parse_mld_query(bytes, kRouter, kAllNodes)) << "len " << len;
  }
}

TEST(MldParse, TruncatedRejected) {
  // 23 bytes: shorter than any query, checksum refitted.
  Bytes short_query = first_bytes(kV1Query, 23);
  refit_checksum(short_query, kRouter, kAllNodes);
  EXPECT_FALSE(mld_message_type(short_query, kRouter, kAllNodes));
  EXPECT_FALSE(parse_mld_query(short_query, kRouter, kAllNodes));
  EXPECT_FALSE(parse_mld_query(first_bytes(kV1Query, 7), kRouter, kAllNodes));
  EXPECT_FALSE(parse_mld_query({}, kRouter, kAllNodes));

  // v2 claiming 3 sources with 2 present: kV2SourceQuery with the count one
  // higher, checksum 3a06 - 1 = 3a05.
  Bytes past_end = first_bytes(kV2SourceQuery, sizeof kV2SourceQuery);
  past_end[27] = 0x03;
  past_end[3] = 0x05;
  EXPECT_EQ(mld_message_type(past_end, kRouter, kSsmGroup), mld_type::kQuery);
  EXPECT_FALSE(parse_mld_query(past_end, kRouter, kSsmGroup));
}

TEST(MldParse, SourcesCutShortRejected) {
  // Every cut of the address-and-source query inside its sources, checksum
  // refitted, so only the count can reject it.
  for (size_t len = 28; len < sizeof kV2SourceQuery; ++len) {
    Bytes bytes = first_bytes(kV2SourceQuery, len);
    refit_checksum(bytes, kRouter, kSsmGroup);
    EXPECT_FALSE(parse_mld_query(bytes, kRouter, kSsmGroup)) << "len " << len;
  }
}

TEST(MldParse, ReportsAndDonesAreNotQueries) {
  Bytes report = first_bytes(kV1Report, sizeof kV1Report);
  EXPECT_EQ(mld_message_type(report, kHost, kGroup), mld_type::kV1Report);
  EXPECT_FALSE(parse_mld_query(report, kHost, kGroup));

  Bytes v2 = first_bytes(kV2Report, sizeof kV2Report);
  EXPECT_EQ(mld_message_type(v2, kHost, kMldV2Routers), mld_type::kV2Report);
  EXPECT_FALSE(parse_mld_query(v2, kHost, kMldV2Routers));

  Bytes done = first_bytes(std::span<const uint8_t>(kV1DonePacket).subspan(kIpv6MldHeaderLen), 24);
  EXPECT_EQ(mld_message_type(done, kHost, kAllRouters6), mld_type::kV1Done);
  EXPECT_FALSE(parse_mld_query(done, kHost, kAllRouters6));
}

TEST(MldParse, OtherIcmpv6TypesAreNotMld) {
  // An echo request with a right checksum is ICMPv6, not MLD.
  Bytes echo(24, 0);
  Icmpv6Repr repr;
  repr.type = icmpv6_type::kEchoRequest;
  repr.ident = 1;
  repr.seq = 2;
  repr.data = std::span<const uint8_t>(echo).subspan(Icmpv6Packet::kHeaderLen);
  repr.emit(echo, kRouter, kAllNodes);
  EXPECT_FALSE(mld_message_type(echo, kRouter, kAllNodes));
  EXPECT_FALSE(parse_mld_query(echo, kRouter, kAllNodes));

  // A v1 report cut to 8 bytes is no report (24 is its length).
  Bytes short_report = first_bytes(kV1Report, 8);
  refit_checksum(short_report, kHost, kGroup);
  EXPECT_FALSE(mld_message_type(short_report, kHost, kGroup));
}

}  // namespace
}  // namespace dpdkudp::wire
