// VXLAN, GENEVE and GUE headers (stack/wire/tunnel.h). The VXLAN and
// GENEVE vectors are the bytes python3-scapy's VXLAN and GENEVE layers
// build for the same fields; GUE's are Linux fou's variant-0 header.
#include "stack/wire/tunnel.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "stack/wire/ip_proto.h"

namespace dpdkudp::wire {
namespace {

using Bytes = std::vector<uint8_t>;

// scapy: bytes(VXLAN(vni=0xabcdef))
const Bytes kVxlan = {0x08, 0x00, 0x00, 0x00, 0xab, 0xcd, 0xef, 0x00};
// scapy: bytes(GENEVE(vni=0x123456, proto=0x6558,
//   options=[GeneveOptions(classid=0x0102, type=3, data=b'\xaa\xbb\xcc\xdd')]))
const Bytes kGeneve = {0x02, 0x00, 0x65, 0x58, 0x12, 0x34, 0x56, 0x00, 0x01, 0x02, 0x03, 0x01, 0xaa, 0xbb, 0xcc, 0xdd};
// scapy: bytes(GENEVE(vni=7, proto=0x6558, critical=1, oam=1))
const Bytes kGeneveOamCritical = {0x00, 0xc0, 0x65, 0x58, 0x00, 0x00, 0x07, 0x00};

TEST(Vxlan, ParsesTheVniAndEmitsTheSameBytes) {
  auto h = VxlanHeader::parse(kVxlan);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->vni(), 0xabcdefu);
  Bytes out(8, 0xee);
  emit_vxlan(out.data(), 0xabcdef);
  EXPECT_EQ(out, kVxlan);
}

TEST(Vxlan, RejectsTruncatedAndMissingIFlag) {
  VxlanHeader::Error e{};
  EXPECT_FALSE(VxlanHeader::parse({kVxlan.data(), 7}, &e));
  EXPECT_EQ(e, VxlanHeader::Error::kTruncated);
  Bytes no_i = kVxlan;
  no_i.at(0) = 0;
  EXPECT_FALSE(VxlanHeader::parse(no_i, &e));
  EXPECT_EQ(e, VxlanHeader::Error::kNoVni);
  // Reserved bits set elsewhere are ignored on receive (RFC 7348 §5).
  Bytes reserved = kVxlan;
  reserved.at(1) = 0xff;
  reserved.at(7) = 0xff;
  ASSERT_TRUE(VxlanHeader::parse(reserved));
  EXPECT_EQ(VxlanHeader::parse(reserved)->vni(), 0xabcdefu);
}

TEST(Geneve, ParsesFieldsAndOptions) {
  auto h = GeneveHeader::parse(kGeneve);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->vni(), 0x123456u);
  EXPECT_EQ(h->protocol(), kEtherTypeTeb);
  EXPECT_EQ(h->header_len(), 16u);
  EXPECT_FALSE(h->oam());
  EXPECT_FALSE(h->critical());
  std::vector<GeneveHeader::Option> opts;
  h->for_each_option([&](const GeneveHeader::Option& o) { opts.push_back(o); });
  ASSERT_EQ(opts.size(), 1u);
  EXPECT_EQ(opts[0].option_class, 0x0102);
  EXPECT_EQ(opts[0].type, 3);
  EXPECT_EQ(Bytes(opts[0].data.begin(), opts[0].data.end()), (Bytes{0xaa, 0xbb, 0xcc, 0xdd}));

  auto flags = GeneveHeader::parse(kGeneveOamCritical);
  ASSERT_TRUE(flags);
  EXPECT_TRUE(flags->oam());
  EXPECT_TRUE(flags->critical());
  EXPECT_EQ(flags->vni(), 7u);
}

TEST(Geneve, EmitsScapysBytes) {
  Bytes out(16, 0xee);
  const Bytes options(kGeneve.begin() + 8, kGeneve.end());
  emit_geneve(out.data(), 0x123456, kEtherTypeTeb, options);
  EXPECT_EQ(out, kGeneve);
}

TEST(Geneve, RejectsBadVersionTruncationAndOptionsPastTheirLength) {
  GeneveHeader::Error e{};
  EXPECT_FALSE(GeneveHeader::parse({kGeneve.data(), 7}, &e));
  EXPECT_EQ(e, GeneveHeader::Error::kTruncated);
  EXPECT_FALSE(GeneveHeader::parse({kGeneve.data(), 12}, &e));  // opt_len says 4 more
  EXPECT_EQ(e, GeneveHeader::Error::kTruncated);
  Bytes v1 = kGeneve;
  v1.at(0) |= 0x40;
  EXPECT_FALSE(GeneveHeader::parse(v1, &e));
  EXPECT_EQ(e, GeneveHeader::Error::kBadVersion);
  Bytes long_opt = kGeneve;
  long_opt.at(11) = 0x02;  // option data of 8 bytes inside 4 of options
  EXPECT_FALSE(GeneveHeader::parse(long_opt, &e));
  EXPECT_EQ(e, GeneveHeader::Error::kBadOptions);
}

TEST(Gue, ParsesVariantZeroAndOne) {
  const Bytes fou = {0x00, ip_proto::kIpip, 0x00, 0x00, 0x45};
  auto h = GueHeader::parse(fou);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->header_len(), 4u);
  EXPECT_EQ(h->protocol(), ip_proto::kIpip);
  // hlen 1: four bytes of extension fields are stepped over.
  const Bytes ext = {0x01, ip_proto::kIpv6, 0x00, 0x00, 1, 2, 3, 4};
  ASSERT_TRUE(GueHeader::parse(ext));
  EXPECT_EQ(GueHeader::parse(ext)->header_len(), 8u);
  EXPECT_EQ(GueHeader::parse(ext)->protocol(), ip_proto::kIpv6);
  // Variant 1: the payload is the IP packet itself.
  ASSERT_TRUE(GueHeader::parse(Bytes{0x45, 0x00}));
  EXPECT_EQ(GueHeader::parse(Bytes{0x45, 0x00})->header_len(), 0u);
  EXPECT_EQ(GueHeader::parse(Bytes{0x45, 0x00})->protocol(), ip_proto::kIpip);
  EXPECT_EQ(GueHeader::parse(Bytes{0x60, 0x00})->protocol(), ip_proto::kIpv6);
  Bytes out(4, 0xee);
  emit_gue(out.data(), ip_proto::kIpip);
  EXPECT_EQ(out, (Bytes{0x00, 0x04, 0x00, 0x00}));
}

TEST(Gue, RejectsControlUnknownProtocolVersionAndTruncation) {
  GueHeader::Error e{};
  EXPECT_FALSE(GueHeader::parse(Bytes{0x20, 0x00, 0x00, 0x00}, &e));
  EXPECT_EQ(e, GueHeader::Error::kControl);
  EXPECT_FALSE(GueHeader::parse(Bytes{0x00, 0x11, 0x00, 0x00}, &e));
  EXPECT_EQ(e, GueHeader::Error::kBadProtocol);
  EXPECT_FALSE(GueHeader::parse(Bytes{0x80, 0x04, 0x00, 0x00}, &e));
  EXPECT_EQ(e, GueHeader::Error::kBadVersion);
  EXPECT_FALSE(GueHeader::parse(Bytes{0x02, 0x04, 0x00, 0x00, 0x00}, &e));  // hlen 2: 8 more bytes
  EXPECT_EQ(e, GueHeader::Error::kTruncated);
  EXPECT_FALSE(GueHeader::parse(Bytes{0x50, 0x00}, &e));  // variant 1, version 5
  EXPECT_EQ(e, GueHeader::Error::kBadProtocol);
  EXPECT_FALSE(GueHeader::parse(Bytes{}, &e));
  EXPECT_EQ(e, GueHeader::Error::kTruncated);
}

TEST(FlowSourcePort, StaysInTheRangeAndSpreads) {
  std::set<uint16_t> seen;
  for (uint32_t i = 0; i < 1000; ++i) {
    uint16_t p = flow_source_port(flow_hash(0xc6120001, 0xc6120002, (40000u + i) << 16 | 7), 32768, 60999);
    EXPECT_GE(p, 32768);
    EXPECT_LE(p, 60999);
    seen.insert(p);
  }
  EXPECT_GT(seen.size(), 950u);
  EXPECT_EQ(flow_source_port(0, 32768, 60999), 32768);
  EXPECT_EQ(flow_source_port(0xffffffff, 32768, 60999), 60999);
}

}  // namespace
}  // namespace dpdkudp::wire
