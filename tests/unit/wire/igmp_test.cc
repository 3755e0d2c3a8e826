// IGMP (stack/wire/igmp.h). Every vector below is written out by hand, its
// checksum worked in the comment, and each was checked against an
// independent encoder (scapy 2.5.0's IGMP/IGMPv3 layers).
#include "stack/wire/igmp.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <span>
#include <vector>

#include "stack/wire/checksum.h"
#include "stack/wire/ipv4.h"
#include "tests/unit/wire/vectors.h"

namespace dpdkudp::wire {
namespace {

using Bytes = std::vector<uint8_t>;
using vectors::first_bytes;

constexpr Ipv4Addr kHost(198, 18, 0, 2);
constexpr Ipv4Addr kGroup(239, 1, 2, 3);
constexpr Ipv4Addr kSsmGroup(232, 1, 1, 1);
constexpr Ipv4Addr kSource1(198, 18, 0, 9);
constexpr Ipv4Addr kSource2(198, 18, 0, 10);

// v2 report for 239.1.2.3. Words 1600 + ef01 + 0203 = 10704 -> 0705,
// checksum ~0705 = f8fa.
constexpr uint8_t kV2Report[] = {
    0x16, 0x00, 0xf8, 0xfa,  // type, max resp 0, checksum
    0xef, 0x01, 0x02, 0x03,  // group 239.1.2.3
};

// v2 leave for 239.1.2.3 sent to all routers (224.0.0.2) with Router
// Alert, TOS 0xc0, ident 0: 24-byte header + 8-byte leave.
// IP words 46c0 0020 0000 4000 0102 c612 0002 e000 0002 9404 sum to 2c1fc
// -> c1fe, checksum 3e01. Leave words 1700 + ef01 + 0203 -> 0805, ~ f7fa.
constexpr uint8_t kV2LeavePacket[] = {
    0x46, 0xc0, 0x00, 0x20,  // v4 IHL 6, TOS 0xc0, total length 32
    0x00, 0x00, 0x40, 0x00,  // ident 0, DF
    0x01, 0x02, 0x3e, 0x01,  // TTL 1, protocol 2 (IGMP), checksum
    0xc6, 0x12, 0x00, 0x02,  // src 198.18.0.2
    0xe0, 0x00, 0x00, 0x02,  // dst 224.0.0.2
    0x94, 0x04, 0x00, 0x00,  // Router Alert (RFC 2113)
    0x17, 0x00, 0xf7, 0xfa,  // leave, max resp 0, checksum
    0xef, 0x01, 0x02, 0x03,  // group 239.1.2.3
};

// v3 report, two records: CHANGE_TO_EXCLUDE 239.1.2.3 with no sources
// (a join), ALLOW_NEW_SOURCES 232.1.1.1 from 198.18.0.9 and 198.18.0.10.
// Words 2200 0002 0400 ef01 0203 0500 0002 e801 0101 c612 0009 c612 000a
// sum to 39141 -> 9144, checksum 6ebb.
constexpr uint8_t kV3Report[] = {
    0x22, 0x00, 0x6e, 0xbb,  // type, reserved, checksum
    0x00, 0x00, 0x00, 0x02,  // reserved, 2 records
    0x04, 0x00, 0x00, 0x00,  // CHANGE_TO_EXCLUDE, aux len 0, 0 sources
    0xef, 0x01, 0x02, 0x03,  // 239.1.2.3
    0x05, 0x00, 0x00, 0x02,  // ALLOW_NEW_SOURCES, aux len 0, 2 sources
    0xe8, 0x01, 0x01, 0x01,  // 232.1.1.1
    0xc6, 0x12, 0x00, 0x09,  // 198.18.0.9
    0xc6, 0x12, 0x00, 0x0a,  // 198.18.0.10
};

// Router Alert header, src 198.18.0.2, dst 224.0.0.22, TOS 0xc0, ident 0,
// 16 bytes of payload (total 40). Words 46c0 0028 0000 4000 0102 c612 0002
// e000 0016 9404 sum to 2c218 -> c21a, checksum 3de5.
constexpr uint8_t kRouterAlertHeader[] = {
    0x46, 0xc0, 0x00, 0x28,  // v4 IHL 6, TOS 0xc0, total length 40
    0x00, 0x00, 0x40, 0x00,  // ident 0, DF
    0x01, 0x02, 0x3d, 0xe5,  // TTL 1, protocol 2, checksum
    0xc6, 0x12, 0x00, 0x02,  // src 198.18.0.2
    0xe0, 0x00, 0x00, 0x16,  // dst 224.0.0.22
    0x94, 0x04, 0x00, 0x00,  // Router Alert
};

// v1 query: code 0, group 0. Checksum ~1100 = eeff.
constexpr uint8_t kV1Query[] = {0x11, 0x00, 0xee, 0xff, 0x00, 0x00, 0x00, 0x00};

// v2 general query, max resp 100 (10 s). Checksum ~1164 = ee9b.
constexpr uint8_t kV2GeneralQuery[] = {0x11, 0x64, 0xee, 0x9b, 0x00, 0x00, 0x00, 0x00};

// v2 group-specific query for 239.1.2.3, max resp 10 (1 s).
// Words 110a + ef01 + 0203 = 1020e -> 020f, checksum fdf0.
constexpr uint8_t kV2GroupQuery[] = {0x11, 0x0a, 0xfd, 0xf0, 0xef, 0x01, 0x02, 0x03};

// v3 general query: max resp 100, S set, QRV 2, QQIC 125, no sources.
// Words 1164 + 0a7d = 1be1, checksum e41e.
constexpr uint8_t kV3GeneralQuery[] = {
    0x11, 0x64, 0xe4, 0x1e,  // query, max resp code 100, checksum
    0x00, 0x00, 0x00, 0x00,  // group 0: general
    0x0a, 0x7d, 0x00, 0x00,  // S=1 QRV=2, QQIC 125, 0 sources
};

// v3 group-and-source query for 239.1.2.3 from 198.18.0.9 and 198.18.0.10:
// max resp 10, S clear, QRV 2, QQIC 125.
// Words 110a ef01 0203 027d 0002 c612 0009 c612 000a sum to 290c4 -> 90c6,
// checksum 6f39.
constexpr uint8_t kV3SourceQuery[] = {
    0x11, 0x0a, 0x6f, 0x39,  // query, max resp code 10, checksum
    0xef, 0x01, 0x02, 0x03,  // group 239.1.2.3
    0x02, 0x7d, 0x00, 0x02,  // S=0 QRV=2, QQIC 125, 2 sources
    0xc6, 0x12, 0x00, 0x09,  // 198.18.0.9
    0xc6, 0x12, 0x00, 0x0a,  // 198.18.0.10
};

TEST(IgmpEmit, V2Report) {
  Bytes out(8, 0xcc);
  EXPECT_EQ(emit_igmp_v2(igmp_type::kV2Report, kGroup, out), 8u);
  EXPECT_EQ(out, Bytes(std::begin(kV2Report), std::end(kV2Report)));
}

TEST(IgmpEmit, V2LeaveToAllRouters) {
  Bytes out(sizeof kV2LeavePacket, 0xcc);
  std::span<uint8_t> s(out);
  EXPECT_EQ(emit_ipv4_router_alert_header(kHost, kAllRouters, 0xc0, 0, 8, s), kIpv4RouterAlertHeaderLen);
  EXPECT_EQ(emit_igmp_v2(igmp_type::kV2Leave, kGroup, s.subspan(kIpv4RouterAlertHeaderLen)), 8u);
  EXPECT_EQ(out, Bytes(std::begin(kV2LeavePacket), std::end(kV2LeavePacket)));

  auto packet = Ipv4Packet::parse(out);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->verify_checksum());
  EXPECT_EQ(packet->dst(), kAllRouters);
  EXPECT_EQ(igmp_message_type(packet->payload()), igmp_type::kV2Leave);
}

TEST(IgmpEmit, V3ReportTwoRecords) {
  const IgmpGroupRecord records[] = {
      {IgmpRecordType::kChangeToExclude, kGroup, {}},
      {IgmpRecordType::kAllowNewSources, kSsmGroup, {kSource1, kSource2}},
  };
  EXPECT_EQ(igmp_v3_report_len(records), sizeof kV3Report);
  Bytes out(sizeof kV3Report, 0xcc);
  EXPECT_EQ(emit_igmp_v3_report(records, out), sizeof kV3Report);
  EXPECT_EQ(out, Bytes(std::begin(kV3Report), std::end(kV3Report)));
  EXPECT_EQ(checksum_fold(out.data(), out.size()), 0xffff);
}

TEST(IgmpEmit, V3ReportWithoutRecords) {
  // 22 00 cs 00 00 00 00: checksum ~2200 = ddff.
  EXPECT_EQ(igmp_v3_report_len({}), 8u);
  Bytes out(8, 0xcc);
  EXPECT_EQ(emit_igmp_v3_report({}, out), 8u);
  EXPECT_EQ(out, (Bytes{0x22, 0x00, 0xdd, 0xff, 0x00, 0x00, 0x00, 0x00}));
}

TEST(IgmpEmit, V3ReportIntoLargerBufferLeavesTheTail) {
  const IgmpGroupRecord records[] = {{IgmpRecordType::kChangeToExclude, kGroup, {}}};
  Bytes out(32, 0xcc);
  EXPECT_EQ(emit_igmp_v3_report(records, out), 16u);
  for (size_t i = 16; i < out.size(); ++i) EXPECT_EQ(out[i], 0xcc) << "byte " << i;
  EXPECT_EQ(checksum_fold(out.data(), 16), 0xffff);
}

TEST(IgmpEmit, RouterAlertHeader) {
  Bytes out(kIpv4RouterAlertHeaderLen, 0xcc);
  EXPECT_EQ(emit_ipv4_router_alert_header(kHost, kIgmpV3Routers, 0xc0, 0, 16, out), 24u);
  EXPECT_EQ(out, Bytes(std::begin(kRouterAlertHeader), std::end(kRouterAlertHeader)));
  EXPECT_EQ(checksum_fold(out.data(), out.size()), 0xffff);

  // With its 16 bytes of payload behind it the IPv4 parser takes it whole.
  out.resize(40, 0);
  auto packet = Ipv4Packet::parse(out);
  ASSERT_TRUE(packet);
  EXPECT_TRUE(packet->verify_checksum());
  EXPECT_EQ(packet->header_len(), 24u);
  EXPECT_EQ(packet->total_len(), 40);
  EXPECT_EQ(packet->ttl(), 1);
  EXPECT_EQ(packet->protocol(), 2);
  EXPECT_TRUE(packet->dont_fragment());
  EXPECT_EQ(packet->src(), kHost);
  EXPECT_EQ(packet->dst(), kIgmpV3Routers);
  EXPECT_EQ(Bytes(packet->options().begin(), packet->options().end()), (Bytes{0x94, 0x04, 0x00, 0x00}));
  EXPECT_EQ(packet->payload().size(), 16u);
}

TEST(IgmpEmit, RouterAlertHeaderTotalLengthPast65535) {
  Bytes out(kIpv4RouterAlertHeaderLen, 0xcc);
  EXPECT_EQ(emit_ipv4_router_alert_header(kHost, kIgmpV3Routers, 0xc0, 0, 65511, out), 24u);  // 65535
  EXPECT_EQ(load_be16(&out[Ipv4Packet::kTotalLenOffset]), 65535);
  Bytes untouched(kIpv4RouterAlertHeaderLen, 0xcc);
  EXPECT_EQ(emit_ipv4_router_alert_header(kHost, kIgmpV3Routers, 0xc0, 0, 65512, untouched), 0u);
  EXPECT_EQ(untouched, Bytes(kIpv4RouterAlertHeaderLen, 0xcc));
}

TEST(IgmpEmit, ShortBufferReturnsZeroAndWritesNothing) {
  const Bytes fill(64, 0xcc);
  Bytes out = fill;
  EXPECT_EQ(emit_igmp_v2(igmp_type::kV2Report, kGroup, std::span<uint8_t>(out).first(7)), 0u);
  EXPECT_EQ(out, fill);

  const IgmpGroupRecord records[] = {
      {IgmpRecordType::kChangeToExclude, kGroup, {}},
      {IgmpRecordType::kAllowNewSources, kSsmGroup, {kSource1, kSource2}},
  };
  EXPECT_EQ(emit_igmp_v3_report(records, std::span<uint8_t>(out).first(sizeof kV3Report - 1)), 0u);
  EXPECT_EQ(out, fill);
  EXPECT_EQ(emit_igmp_v3_report({}, std::span<uint8_t>(out).first(7)), 0u);
  EXPECT_EQ(out, fill);

  EXPECT_EQ(emit_ipv4_router_alert_header(kHost, kIgmpV3Routers, 0xc0, 0, 16,
                                          std::span<uint8_t>(out).first(kIpv4RouterAlertHeaderLen - 1)),
            0u);
  EXPECT_EQ(out, fill);
}

TEST(IgmpParse, V1Query) {
  auto q = parse_igmp_query(first_bytes(kV1Query, sizeof kV1Query));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->version, 1);
  EXPECT_EQ(q->group, Ipv4Addr::any());
  EXPECT_EQ(q->max_resp_ds, 100u);  // v1 has no field: 10 s
  EXPECT_TRUE(q->sources.empty());
}

TEST(IgmpParse, V2GeneralQuery) {
  auto q = parse_igmp_query(first_bytes(kV2GeneralQuery, sizeof kV2GeneralQuery));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->version, 2);
  EXPECT_EQ(q->group, Ipv4Addr::any());
  EXPECT_EQ(q->max_resp_ds, 100u);
  EXPECT_TRUE(q->sources.empty());
}

TEST(IgmpParse, V2GroupSpecificQuery) {
  auto q = parse_igmp_query(first_bytes(kV2GroupQuery, sizeof kV2GroupQuery));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->version, 2);
  EXPECT_EQ(q->group, kGroup);
  EXPECT_EQ(q->max_resp_ds, 10u);
}

TEST(IgmpParse, V3GeneralQuery) {
  auto q = parse_igmp_query(first_bytes(kV3GeneralQuery, sizeof kV3GeneralQuery));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->version, 3);
  EXPECT_EQ(q->group, Ipv4Addr::any());
  EXPECT_EQ(q->max_resp_ds, 100u);
  EXPECT_TRUE(q->suppress);
  EXPECT_EQ(q->qrv, 2);
  EXPECT_EQ(q->qqi_s, 125u);
  EXPECT_TRUE(q->sources.empty());
}

TEST(IgmpParse, V3GroupAndSourceQuery) {
  auto q = parse_igmp_query(first_bytes(kV3SourceQuery, sizeof kV3SourceQuery));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->version, 3);
  EXPECT_EQ(q->group, kGroup);
  EXPECT_EQ(q->max_resp_ds, 10u);
  EXPECT_FALSE(q->suppress);
  EXPECT_EQ(q->qrv, 2);
  EXPECT_EQ(q->qqi_s, 125u);
  EXPECT_EQ(q->sources, (std::vector<Ipv4Addr>{kSource1, kSource2}));
}

TEST(IgmpParse, V3BytesPastTheSourcesIgnored) {
  // RFC 3376 4.1.10: summed, then ignored. Zero words leave the checksum.
  Bytes bytes(std::begin(kV3SourceQuery), std::end(kV3SourceQuery));
  bytes.resize(bytes.size() + 4, 0);
  auto q = parse_igmp_query(bytes);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->sources.size(), 2u);
}

TEST(IgmpParse, V3CodesFromTheExponentForm) {
  // Max resp code 0x8f and QQIC 0x8f: mant f, exp 0 -> (0x0f | 0x10) << 3 = 248.
  // Words 118f + 028f = 141e, checksum ebe1.
  const uint8_t query[] = {
      0x11, 0x8f, 0xeb, 0xe1,  // query, max resp code 0x8f, checksum
      0x00, 0x00, 0x00, 0x00,  // general
      0x02, 0x8f, 0x00, 0x00,  // S=0 QRV=2, QQIC 0x8f, 0 sources
  };
  auto q = parse_igmp_query(first_bytes(query, sizeof query));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->version, 3);
  EXPECT_EQ(q->max_resp_ds, 248u);
  EXPECT_EQ(q->qqi_s, 248u);
  EXPECT_FALSE(q->suppress);
  EXPECT_EQ(q->qrv, 2);
}

TEST(IgmpDecodeCode, LinearBelow128ExponentAbove) {
  EXPECT_EQ(igmp_decode_code(0), 0u);
  EXPECT_EQ(igmp_decode_code(1), 1u);
  EXPECT_EQ(igmp_decode_code(100), 100u);
  EXPECT_EQ(igmp_decode_code(127), 127u);
  EXPECT_EQ(igmp_decode_code(0x80), 128u);    // 0x10 << 3
  EXPECT_EQ(igmp_decode_code(0x81), 136u);    // 0x11 << 3
  EXPECT_EQ(igmp_decode_code(0x8f), 248u);    // 0x1f << 3
  EXPECT_EQ(igmp_decode_code(0x90), 256u);    // 0x10 << 4
  EXPECT_EQ(igmp_decode_code(0xa5), 672u);    // 0x15 << 5
  EXPECT_EQ(igmp_decode_code(0xff), 31744u);  // 0x1f << 10
}

TEST(IgmpParse, BadChecksumRejected) {
  for (std::span<const uint8_t> v : {std::span<const uint8_t>(kV1Query), std::span<const uint8_t>(kV2GroupQuery),
                                     std::span<const uint8_t>(kV3SourceQuery)}) {
    for (size_t i = 0; i < v.size(); ++i) {
      Bytes bytes = first_bytes(v, v.size());
      bytes[i] ^= 0x01;
      EXPECT_FALSE(parse_igmp_query(bytes)) << "length " << v.size() << " byte " << i;
      EXPECT_FALSE(igmp_message_type(bytes)) << "length " << v.size() << " byte " << i;
    }
  }
}

TEST(IgmpParse, TruncatedRejected) {
  // 7 bytes: shorter than any IGMP message.
  EXPECT_FALSE(parse_igmp_query(first_bytes(kV2GeneralQuery, 7)));
  EXPECT_FALSE(igmp_message_type(first_bytes(kV2GeneralQuery, 7)));

  // 10 bytes with a checksum that verifies: too long for v2, too short
  // for v3. Words 1164 + 0a7d = 1be1, checksum e41e.
  const uint8_t ten[] = {0x11, 0x64, 0xe4, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x7d};
  EXPECT_EQ(igmp_message_type(first_bytes(ten, sizeof ten)), igmp_type::kQuery);
  EXPECT_FALSE(parse_igmp_query(first_bytes(ten, sizeof ten)));

  // v3 claiming 3 sources with 2 present. As kV3SourceQuery with the
  // count one higher: checksum 6f39 - 1 = 6f38.
  const uint8_t past_end[] = {
      0x11, 0x0a, 0x6f, 0x38,  // query, max resp code 10, checksum
      0xef, 0x01, 0x02, 0x03,  // group 239.1.2.3
      0x02, 0x7d, 0x00, 0x03,  // S=0 QRV=2, QQIC 125, 3 sources
      0xc6, 0x12, 0x00, 0x09,  // 198.18.0.9
      0xc6, 0x12, 0x00, 0x0a,  // 198.18.0.10
  };
  EXPECT_EQ(igmp_message_type(first_bytes(past_end, sizeof past_end)), igmp_type::kQuery);
  EXPECT_FALSE(parse_igmp_query(first_bytes(past_end, sizeof past_end)));
}

TEST(IgmpParse, LengthsNineToElevenRejected) {
  for (size_t len = 9; len <= 11; ++len) {
    Bytes bytes = first_bytes(kV3GeneralQuery, len);
    store_be16(&bytes[2], 0);
    store_be16(&bytes[2], internet_checksum(bytes.data(), bytes.size()));
    ASSERT_EQ(igmp_message_type(bytes), igmp_type::kQuery) << "len " << len;
    EXPECT_FALSE(parse_igmp_query(bytes)) << "len " << len;
  }
}

TEST(IgmpParse, SourcesCutShortRejected) {
  // Every cut of the group-and-source query inside its sources, checksum
  // refitted, so only the count can reject it.
  for (size_t len = 12; len < sizeof kV3SourceQuery; ++len) {
    Bytes bytes = first_bytes(kV3SourceQuery, len);
    store_be16(&bytes[2], 0);
    store_be16(&bytes[2], internet_checksum(bytes.data(), bytes.size()));
    EXPECT_FALSE(parse_igmp_query(bytes)) << "len " << len;
  }
}

TEST(IgmpParse, ReportsAndLeavesAreNotQueries) {
  Bytes report = first_bytes(kV2Report, sizeof kV2Report);
  EXPECT_EQ(igmp_message_type(report), igmp_type::kV2Report);
  EXPECT_FALSE(parse_igmp_query(report));

  Bytes v3 = first_bytes(kV3Report, sizeof kV3Report);
  EXPECT_EQ(igmp_message_type(v3), igmp_type::kV3Report);
  EXPECT_FALSE(parse_igmp_query(v3));

  Bytes leave = first_bytes(std::span<const uint8_t>(kV2LeavePacket).subspan(kIpv4RouterAlertHeaderLen), 8);
  EXPECT_EQ(igmp_message_type(leave), igmp_type::kV2Leave);
  EXPECT_FALSE(parse_igmp_query(leave));
}

}  // namespace
}  // namespace dpdkudp::wire
