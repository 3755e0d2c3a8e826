// Ethernet II and the 802.1Q tag (stack/wire/ethernet.h).
#include "stack/wire/ethernet.h"

#include <gtest/gtest.h>

#include <span>
#include <vector>

#include "tests/unit/wire/vectors.h"

namespace dpdkudp::wire {
namespace {

using Bytes = std::vector<uint8_t>;
using namespace vectors;

constexpr MacAddr kSrc = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
constexpr MacAddr kDst = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

TEST(EthernetFrame, Deconstruct) {
  auto frame = EthernetFrame::parse(kUdpFrame);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->dst(), kDst);
  EXPECT_EQ(frame->src(), kSrc);
  EXPECT_EQ(frame->ethertype(), ethertype::kIpv4);
  EXPECT_EQ(frame->payload().data(), kUdpFrame + kEthLen);
  EXPECT_EQ(frame->payload().size(), sizeof kUdpFrame - kEthLen);
}

TEST(EthernetFrame, HeaderOnlyHasEmptyPayload) {
  Bytes header = first_bytes(kUdpFrame, kEthLen);
  auto frame = EthernetFrame::parse(header);
  ASSERT_TRUE(frame);
  EXPECT_TRUE(frame->payload().empty());
}

TEST(EthernetFrame, TruncatedHeaderRejected) {
  for (size_t len = 0; len < EthernetFrame::kHeaderLen; ++len) {
    Bytes cut = first_bytes(kUdpFrame, len);
    EXPECT_FALSE(EthernetFrame::parse(cut)) << "len " << len;
    EXPECT_FALSE(EthernetRepr::parse(cut)) << "len " << len;
  }
}

TEST(EthernetRepr, DeconstructUntagged) {
  auto repr = EthernetRepr::parse(kUdpFrame);
  ASSERT_TRUE(repr);
  EXPECT_EQ(repr->dst, kDst);
  EXPECT_EQ(repr->src, kSrc);
  EXPECT_EQ(repr->ethertype, ethertype::kIpv4);
  EXPECT_FALSE(repr->vlan_tci);
  EXPECT_EQ(repr->header_len(), kEthLen);
}

TEST(EthernetRepr, ConstructUntagged) {
  EthernetRepr repr{.dst = kDst, .src = kSrc, .ethertype = ethertype::kIpv4, .vlan_tci = std::nullopt};
  Bytes out(repr.header_len(), 0xcc);
  repr.emit(out);
  EXPECT_EQ(out, first_bytes(kUdpFrame, kEthLen));
}

TEST(EthernetRepr, DeconstructVlanTag) {
  auto repr = EthernetRepr::parse(kVlanUdpFrame);
  ASSERT_TRUE(repr);
  EXPECT_EQ(repr->dst, kDst);
  EXPECT_EQ(repr->src, kSrc);
  EXPECT_EQ(repr->ethertype, ethertype::kIpv4);  // the inner type
  ASSERT_TRUE(repr->vlan_tci);
  EXPECT_EQ(*repr->vlan_tci, 0xa064);  // PCP 5, DEI 0, VID 100
  EXPECT_EQ(repr->header_len(), kEthVlanLen);
}

TEST(VlanTag, SplitsTci) {
  auto frame = EthernetFrame::parse(kVlanUdpFrame);
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->ethertype(), ethertype::kVlan);
  auto tag = VlanTag::parse(frame->payload());
  ASSERT_TRUE(tag);
  EXPECT_EQ(tag->tci(), 0xa064);
  EXPECT_EQ(tag->vid(), 100);
  EXPECT_EQ(tag->pcp(), 5);
  EXPECT_EQ(tag->inner_ethertype(), ethertype::kIpv4);
  EXPECT_EQ(tag->payload().data(), kVlanUdpFrame + kEthVlanLen);
}

TEST(VlanTag, DeiBitDoesNotLeakIntoVidOrPcp) {
  const uint8_t tag_bytes[] = {0x1f, 0xff, 0x08, 0x00};  // PCP 0, DEI 1, VID 4095
  auto tag = VlanTag::parse(tag_bytes);
  ASSERT_TRUE(tag);
  EXPECT_EQ(tag->vid(), 0xfff);
  EXPECT_EQ(tag->pcp(), 0);
}

TEST(EthernetRepr, ConstructVlanTag) {
  EthernetRepr repr{.dst = kDst, .src = kSrc, .ethertype = ethertype::kIpv4, .vlan_tci = 0xa064};
  Bytes out(repr.header_len(), 0xcc);
  repr.emit(out);
  EXPECT_EQ(out, first_bytes(kVlanUdpFrame, kEthVlanLen));
}

TEST(EthernetRepr, TagWithVidZeroStillCountsAsTagged) {
  // 802.1p priority tag: VID 0 but the 4 bytes are there.
  EthernetRepr repr{.dst = kDst, .src = kSrc, .ethertype = ethertype::kArp, .vlan_tci = 0x6000};
  Bytes out(repr.header_len());
  repr.emit(out);
  auto parsed = EthernetRepr::parse(out);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->vlan_tci, std::optional<uint16_t>(0x6000));
  EXPECT_EQ(parsed->ethertype, ethertype::kArp);
}

TEST(EthernetRepr, QinQRejected) {
  EXPECT_FALSE(EthernetRepr::parse(kQinQFrame));        // 88a8 outer tag
  EXPECT_FALSE(EthernetRepr::parse(kDoubleCTagFrame));  // 8100 inside 8100
}

TEST(EthernetRepr, STagInsideCTagRejected) {
  Bytes frame(kVlanUdpFrame, kVlanUdpFrame + sizeof kVlanUdpFrame);
  store_be16(&frame[kEthLen + VlanTag::kInnerTypeOffset], ethertype::kQinQ);
  EXPECT_FALSE(EthernetRepr::parse(frame));
}

TEST(EthernetRepr, TruncatedTagRejected) {
  // 14..17 bytes: the ethertype says a tag follows but it is cut short.
  for (size_t len = kEthLen; len < kEthVlanLen; ++len) {
    Bytes cut = first_bytes(kVlanUdpFrame, len);
    EXPECT_TRUE(EthernetFrame::parse(cut)) << "len " << len;
    EXPECT_FALSE(EthernetRepr::parse(cut)) << "len " << len;
  }
  EXPECT_TRUE(EthernetRepr::parse(first_bytes(kVlanUdpFrame, kEthVlanLen)));
}

TEST(EthernetRepr, OtherEtherTypesPassThrough) {
  for (uint16_t type : {ethertype::kArp, ethertype::kIpv6, uint16_t{0x88cc}}) {
    EthernetRepr repr{.dst = kBroadcastMac, .src = kSrc, .ethertype = type, .vlan_tci = std::nullopt};
    Bytes out(repr.header_len());
    repr.emit(out);
    auto parsed = EthernetRepr::parse(out);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->ethertype, type);
    EXPECT_EQ(parsed->dst, kBroadcastMac);
  }
}

}  // namespace
}  // namespace dpdkudp::wire
