// The pair backend doing the NIC's offload work in software, checked with
// the independent verifier in test_frames.h.
#include <gtest/gtest.h>

#include <vector>

#include "backends/pair/pair_backend.h"
#include "tests/unit/backends/pair_test_util.h"
#include "tests/unit/backends/test_frames.h"

namespace dpdkudp {
namespace {

using test::bytes_of;
using test::packet_with;
using test::receive_one;
using test::send_one;

constexpr uint32_t kCsumFlags = kTxIpv4Csum | kTxUdpCsum;
constexpr uint16_t kL2 = test::kEthLen;
constexpr uint16_t kL3 = test::kIpv4Len;

PairConfig config_with(PairOffloads a, PairOffloads b) {
  PairConfig config;
  config.pool_size = 32;
  config.ring_size = 8;
  config.a.offloads = a;
  config.b.offloads = b;
  return config;
}

PairOffloads tx_csum() {
  PairOffloads o;
  o.tx_ipv4_csum = true;
  o.tx_udp_csum = true;
  return o;
}

PairOffloads rx_csum() {
  PairOffloads o;
  o.rx_ipv4_csum = true;
  o.rx_l4_csum = true;
  return o;
}

std::vector<uint8_t> frame_through(Backend& tx, Backend& rx, Packet* pkt) {
  EXPECT_TRUE(send_one(tx, pkt));
  Packet* got = receive_one(rx);
  if (got == nullptr) {
    return {};
  }
  std::vector<uint8_t> bytes = bytes_of(got);
  rx.release(std::span<Packet* const>(&got, 1));
  return bytes;
}

TEST(PairTxOffload, ChecksumsAreFilledInSoftware) {
  auto [a, b] = make_pair(config_with(tx_csum(), {}));
  test::Udp4Spec spec;
  spec.partial = true;
  const std::vector<uint8_t> partial = test::udp4_frame(spec);
  ASSERT_FALSE(test::ipv4_header_checksum_ok(partial));
  ASSERT_FALSE(test::udp4_checksum_ok(partial));

  const std::vector<uint8_t> out = frame_through(*a, *b, packet_with(*a, partial, kCsumFlags, kL2, kL3));
  EXPECT_TRUE(test::ipv4_header_checksum_ok(out));
  EXPECT_TRUE(test::udp4_checksum_ok(out));
  spec.partial = false;
  EXPECT_EQ(out, test::udp4_frame(spec)) << "same bytes as a software-checksummed frame";
}

TEST(PairTxOffload, OnlyTheRequestedChecksumIsFilled) {
  auto [a, b] = make_pair(config_with(tx_csum(), {}));
  test::Udp4Spec spec;
  spec.partial = true;
  const std::vector<uint8_t> out =
      frame_through(*a, *b, packet_with(*a, test::udp4_frame(spec), kTxIpv4Csum, kL2, kL3));
  EXPECT_TRUE(test::ipv4_header_checksum_ok(out));
  EXPECT_FALSE(test::udp4_checksum_ok(out));
}

TEST(PairTxOffload, ComputedZeroIsSentAsAllOnes) {
  auto [a, b] = make_pair(config_with(tx_csum(), {}));
  // Choose the last payload word so the datagram's sum folds to 0xffff:
  // the checksum then computes to 0 and RFC 768 wants 0xffff instead.
  test::Udp4Spec spec;
  spec.partial = true;
  spec.payload = {1, 2, 3, 4, 0, 0};
  std::vector<uint8_t> frame = test::udp4_frame(spec);
  const size_t udp = kL2 + kL3;
  const uint16_t sum = test::ones_sum(std::span<const uint8_t>(frame).subspan(udp));
  test::put16(frame, frame.size() - 2, static_cast<uint16_t>(0xffff - sum));
  ASSERT_EQ(test::ones_sum(std::span<const uint8_t>(frame).subspan(udp)), 0xffff);

  const std::vector<uint8_t> out = frame_through(*a, *b, packet_with(*a, frame, kCsumFlags, kL2, kL3));
  EXPECT_EQ(test::get16(out, udp + 6), 0xffff);
  EXPECT_TRUE(test::udp4_checksum_ok(out));
}

TEST(PairTxOffload, NotAdvertisedMeansNotDone) {
  auto [a, b] = make_pair(config_with({}, {}));
  test::Udp4Spec spec;
  spec.partial = true;
  const std::vector<uint8_t> partial = test::udp4_frame(spec);
  const std::vector<uint8_t> out =
      frame_through(*a, *b, packet_with(*a, partial, kCsumFlags | kTxVlanInsert, kL2, kL3, 5));
  EXPECT_EQ(out, partial) << "a NIC without the feature sends the bytes as they are";
}

TEST(PairTxOffload, ImpossibleRequestIsDroppedAndCounted) {
  auto [a, b] = make_pair(config_with(PairOffloads::all(), {}));
  test::Udp4Spec spec;
  spec.partial = true;
  const std::vector<uint8_t> frame = test::udp4_frame(spec);
  // l3_len running past the frame.
  EXPECT_TRUE(send_one(*a, packet_with(*a, frame, kCsumFlags, kL2, 200)));
  // Lengths not filled in.
  EXPECT_TRUE(send_one(*a, packet_with(*a, frame, kTxUdpCsum, 0, 0)));
  // No headroom left for the tag.
  Packet* pkt = packet_with(*a, frame, kTxVlanInsert, kL2, kL3, 5);
  pkt->data = a->pool().buffer_begin(pkt) + 2;
  std::copy(frame.begin(), frame.end(), pkt->data);
  EXPECT_TRUE(send_one(*a, pkt));
  EXPECT_EQ(a->stats().tx_errors, 3u);
  EXPECT_EQ(b->rx_pending(0), 0u);
  EXPECT_EQ(a->pool().available(), 32u);
}

TEST(PairTxOffload, VlanTagIsInsertedAfterTheMacs) {
  auto [a, b] = make_pair(config_with(PairOffloads::all(), {}));
  const std::vector<uint8_t> frame = test::udp4_frame({});
  const std::vector<uint8_t> out = frame_through(*a, *b, packet_with(*a, frame, kTxVlanInsert, kL2, kL3, 0x2064));
  test::Udp4Spec tagged;
  tagged.vlan_tci = 0x2064;  // PCP 1, VID 100
  EXPECT_EQ(out, test::udp4_frame(tagged));
}

TEST(PairTxOffload, ChecksumsAndTagTogether) {
  auto [a, b] = make_pair(config_with(PairOffloads::all(), {}));
  test::Udp4Spec spec;
  spec.partial = true;
  const std::vector<uint8_t> out =
      frame_through(*a, *b, packet_with(*a, test::udp4_frame(spec), kCsumFlags | kTxVlanInsert, kL2, kL3, 7));
  EXPECT_EQ(test::get16(out, 12), 0x8100);
  EXPECT_EQ(test::get16(out, 14), 7);
  EXPECT_TRUE(test::ipv4_header_checksum_ok(out));
  EXPECT_TRUE(test::udp4_checksum_ok(out));
}

TEST(PairTxOffload, RefusedFrameIsUntouchedAndRetriesCleanly) {
  PairConfig config = config_with(PairOffloads::all(), {});
  config.ring_size = 2;
  auto [a, b] = make_pair(config);
  test::Udp4Spec spec;
  spec.partial = true;
  const std::vector<uint8_t> partial = test::udp4_frame(spec);
  Packet* pkts[3];
  for (Packet*& pkt : pkts) {
    pkt = packet_with(*a, partial, kCsumFlags | kTxVlanInsert, kL2, kL3, 9);
  }
  ASSERT_EQ(a->tx_burst(0, pkts), 2u);
  EXPECT_EQ(bytes_of(pkts[2]), partial) << "the caller got its frame back unchanged";
  EXPECT_EQ(pkts[2]->l2_len, kL2);

  std::vector<Packet*> got = test::drain(*b);
  ASSERT_EQ(got.size(), 2u);
  const std::vector<uint8_t> first_out = bytes_of(got[0]);
  b->release(got);
  EXPECT_EQ(frame_through(*a, *b, pkts[2]), first_out);
}

TEST(PairRxOffload, VlanTagIsStripped) {
  PairOffloads strip;
  strip.rx_vlan_strip = true;
  auto [a, b] = make_pair(config_with(PairOffloads::all(), strip));
  const std::vector<uint8_t> frame = test::udp4_frame({});
  ASSERT_TRUE(send_one(*a, packet_with(*a, frame, kTxVlanInsert, kL2, kL3, 0x0123)));
  Packet* got = receive_one(*b);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(bytes_of(got), frame);
  EXPECT_EQ(got->vlan_tci, 0x0123);
  EXPECT_EQ(got->rx_flags & kRxVlanStripped, kRxVlanStripped);
  EXPECT_EQ(got->room, static_cast<uint32_t>(b->pool().buffer_end(got) - got->data));
  b->release(std::span<Packet* const>(&got, 1));

  // An injected tagged frame too; an untagged one is left alone.
  test::Udp4Spec tagged;
  tagged.vlan_tci = 42;
  ASSERT_TRUE(b->inject(test::udp4_frame(tagged)));
  ASSERT_TRUE(b->inject(frame));
  got = receive_one(*b);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(bytes_of(got), frame);
  EXPECT_EQ(got->vlan_tci, 42);
  Packet* plain = receive_one(*b);
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->rx_flags, 0u);
  EXPECT_EQ(plain->vlan_tci, 0u);
  b->release(std::span<Packet* const>(&got, 1));
  b->release(std::span<Packet* const>(&plain, 1));
}

TEST(PairRxOffload, WithoutStripTheTagStays) {
  auto [a, b] = make_pair(config_with({}, rx_csum()));
  test::Udp4Spec tagged;
  tagged.vlan_tci = 42;
  ASSERT_TRUE(b->inject(test::udp4_frame(tagged)));
  Packet* got = receive_one(*b);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(bytes_of(got), test::udp4_frame(tagged));
  EXPECT_EQ(got->rx_flags & kRxVlanStripped, 0u);
  // Checksums are still verified behind the tag.
  EXPECT_EQ(got->rx_flags, kRxIpv4CsumGood | kRxL4CsumGood);
  b->release(std::span<Packet* const>(&got, 1));
}

uint32_t rx_flags_for(Backend& rx, PairBackend& injector, const std::vector<uint8_t>& frame) {
  EXPECT_TRUE(injector.inject(frame));
  Packet* got = receive_one(rx);
  if (got == nullptr) {
    return 0xdead;
  }
  const uint32_t flags = got->rx_flags;
  rx.release(std::span<Packet* const>(&got, 1));
  return flags;
}

TEST(PairRxOffload, ChecksumsAreVerified) {
  auto [a, b] = make_pair(config_with({}, rx_csum()));
  const std::vector<uint8_t> good = test::udp4_frame({});
  EXPECT_EQ(rx_flags_for(*b, *b, good), kRxIpv4CsumGood | kRxL4CsumGood);

  std::vector<uint8_t> bad_ip = good;
  bad_ip[kL2 + 8] ^= 1;  // TTL: breaks only the header checksum
  EXPECT_EQ(rx_flags_for(*b, *b, bad_ip), kRxIpv4CsumBad | kRxL4CsumGood);

  std::vector<uint8_t> bad_payload = good;
  bad_payload.back() ^= 0x40;
  EXPECT_EQ(rx_flags_for(*b, *b, bad_payload), kRxIpv4CsumGood | kRxL4CsumBad);

  std::vector<uint8_t> no_udp_csum = good;
  test::put16(no_udp_csum, kL2 + kL3 + 6, 0);
  EXPECT_EQ(rx_flags_for(*b, *b, no_udp_csum), kRxIpv4CsumGood) << "RFC 768: zero = none";

  std::vector<uint8_t> fragment = good;
  test::put16(fragment, kL2 + 6, 0x2000);  // MF: the UDP header is not all there
  test::put16(fragment, kL2 + 10, 0);
  test::put16(fragment, kL2 + 10,
              static_cast<uint16_t>(~test::ones_sum(std::span<const uint8_t>(fragment).subspan(kL2, kL3))));
  EXPECT_EQ(rx_flags_for(*b, *b, fragment), kRxIpv4CsumGood);

  EXPECT_EQ(rx_flags_for(*b, *b, test::arp_frame()), 0u);
  EXPECT_EQ(rx_flags_for(*b, *b, {1, 2, 3}), 0u) << "runt: nothing to say";

  std::vector<uint8_t> truncated = good;
  truncated.resize(kL2 + kL3 + 4);  // IPv4 total length says more
  EXPECT_EQ(rx_flags_for(*b, *b, truncated), kRxIpv4CsumGood);
}

TEST(PairRxOffload, Ipv6UdpChecksumIsVerified) {
  auto [a, b] = make_pair(config_with({}, rx_csum()));
  const std::vector<uint8_t> good = test::udp6_frame({9, 8, 7});
  EXPECT_EQ(rx_flags_for(*b, *b, good), kRxL4CsumGood);
  std::vector<uint8_t> bad = good;
  bad.back() ^= 1;
  EXPECT_EQ(rx_flags_for(*b, *b, bad), kRxL4CsumBad);
  std::vector<uint8_t> zero = good;
  test::put16(zero, test::kEthLen + test::kIpv6Len + 6, 0);
  EXPECT_EQ(rx_flags_for(*b, *b, zero), kRxL4CsumBad) << "RFC 8200: mandatory over IPv6";
}

TEST(PairRxOffload, NotAdvertisedMeansNoFlags) {
  auto [a, b] = make_pair(config_with({}, {}));
  std::vector<uint8_t> bad = test::udp4_frame({});
  bad.back() ^= 1;
  EXPECT_EQ(rx_flags_for(*b, *b, test::udp4_frame({})), 0u);
  EXPECT_EQ(rx_flags_for(*b, *b, bad), 0u);
}

TEST(PairOffloads, SoftwareTxFeedsHardwareRx) {
  // a checksums in "hardware", b verifies in "hardware": the round trip
  // the stack sees when both ends offload.
  auto [a, b] = make_pair(config_with(PairOffloads::all(), PairOffloads::all()));
  test::Udp4Spec spec;
  spec.partial = true;
  ASSERT_TRUE(send_one(*a, packet_with(*a, test::udp4_frame(spec), kCsumFlags | kTxVlanInsert, kL2, kL3, 300)));
  Packet* got = receive_one(*b);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->rx_flags, kRxVlanStripped | kRxIpv4CsumGood | kRxL4CsumGood);
  EXPECT_EQ(got->vlan_tci, 300);
  spec.partial = false;
  EXPECT_EQ(bytes_of(got), test::udp4_frame(spec));
  b->release(std::span<Packet* const>(&got, 1));
}

}  // namespace
}  // namespace dpdkudp
