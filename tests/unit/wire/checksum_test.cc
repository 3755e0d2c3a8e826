// The Internet checksum (RFC 1071), its pseudo-header form and incremental
// update (RFC 1624), checked against a plain word-by-word reference.
#include "stack/wire/checksum.h"

#include <gtest/gtest.h>

#include <random>
#include <span>
#include <vector>

#include "tests/unit/wire/ipv6_vectors.h"
#include "tests/unit/wire/vectors.h"

namespace dpdkudp::wire {
namespace {

using Bytes = std::vector<uint8_t>;

// RFC 1071 §4.1 written out: 16-bit big-endian words, an odd last byte
// padded with zero, end-around carry.
uint16_t reference_fold(std::span<const uint8_t> data, uint32_t initial = 0) {
  uint64_t sum = initial;
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += uint32_t{data[i]} << 8 | data[i + 1];
  if (i < data.size()) sum += uint32_t{data[i]} << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

Bytes random_bytes(size_t len, std::mt19937& rng) {
  std::uniform_int_distribution<int> byte(0, 255);
  Bytes out(len);
  for (uint8_t& b : out) b = static_cast<uint8_t>(byte(rng));
  return out;
}

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
  const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_fold(data, sizeof data), 0xddf2);
  EXPECT_EQ(internet_checksum(data, sizeof data), 0x220d);
}

TEST(Checksum, EmptyIsZero) {
  EXPECT_EQ(checksum_fold(nullptr, 0), 0);
  EXPECT_EQ(internet_checksum(nullptr, 0), 0xffff);
}

TEST(Checksum, OddLengthPadsLastByteAsHighByte) {
  const uint8_t one[] = {0xab};
  EXPECT_EQ(checksum_fold(one, 1), 0xab00);
  const uint8_t three[] = {0x01, 0x02, 0x03};
  EXPECT_EQ(checksum_fold(three, 3), 0x0402);
  // Nine bytes: one 8-byte word plus the odd byte.
  const uint8_t nine[] = {0, 0, 0, 0, 0, 0, 0, 1, 0x80};
  EXPECT_EQ(checksum_fold(nine, 9), 0x8001);
}

TEST(Checksum, CarriesWrapAround) {
  const uint8_t data[] = {0xff, 0xff, 0x00, 0x01};
  EXPECT_EQ(checksum_fold(data, sizeof data), 0x0001);  // ffff + 0001 = 1 0000 -> 0001
  Bytes ones(64, 0xff);
  EXPECT_EQ(checksum_fold(ones.data(), ones.size()), 0xffff);  // never folds to -0 = 0
}

TEST(Checksum, MatchesReferenceForEveryLengthUpTo200) {
  std::mt19937 rng(1071);
  for (size_t len = 0; len <= 200; ++len) {
    Bytes data = random_bytes(len, rng);
    EXPECT_EQ(checksum_fold(data.data(), len), reference_fold(data)) << "len " << len;
    Bytes ones(len, 0xff);  // maximum carries in every lane
    EXPECT_EQ(checksum_fold(ones.data(), len), reference_fold(ones)) << "len " << len;
  }
}

TEST(Checksum, MatchesReferenceAtEveryAlignment) {
  std::mt19937 rng(7);
  Bytes buffer = random_bytes(200 + 8, rng);
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t len : {1u, 2u, 7u, 8u, 31u, 32u, 33u, 63u, 64u, 65u, 199u}) {
      std::span<const uint8_t> data(buffer.data() + offset, len);
      EXPECT_EQ(checksum_fold(data.data(), len), reference_fold(data)) << offset << "+" << len;
    }
  }
}

TEST(Checksum, MatchesReferenceForJumboFrames) {
  std::mt19937 rng(9000);
  for (size_t len : {1500u, 1501u, 9000u, 65535u}) {
    Bytes data = random_bytes(len, rng);
    EXPECT_EQ(checksum_fold(data.data(), len), reference_fold(data)) << "len " << len;
    Bytes ones(len, 0xff);
    EXPECT_EQ(checksum_fold(ones.data(), len), reference_fold(ones)) << "len " << len;
  }
}

TEST(Checksum, InitialSumIsAdded) {
  std::mt19937 rng(3);
  for (uint32_t initial : {0u, 1u, 0xffffu, 0x10000u, 0x2fffdu, 0x7fffffffu, 0xffffffffu}) {
    for (size_t len : {0u, 1u, 20u, 33u}) {
      Bytes data = random_bytes(len, rng);
      EXPECT_EQ(checksum_fold(data.data(), len, initial), reference_fold(data, initial))
          << "initial " << initial << " len " << len;
    }
  }
}

TEST(Checksum, ChainsOverEvenSplits) {
  std::mt19937 rng(11);
  Bytes data = random_bytes(101, rng);
  uint16_t whole = checksum_fold(data.data(), data.size());
  for (size_t split = 0; split <= data.size(); split += 2) {
    uint16_t head = checksum_fold(data.data(), split);
    EXPECT_EQ(checksum_fold(data.data() + split, data.size() - split, head), whole) << split;
  }
}

TEST(Checksum, FilledChecksumVerifiesToZero) {
  std::mt19937 rng(5);
  for (size_t len : {20u, 21u, 60u}) {
    Bytes data = random_bytes(len, rng);
    data[10] = data[11] = 0;
    store_be16(&data[10], internet_checksum(data.data(), len));
    EXPECT_EQ(internet_checksum(data.data(), len), 0) << len;
  }
}

TEST(Fold32, EndAroundCarry) {
  EXPECT_EQ(fold32(0), 0);
  EXPECT_EQ(fold32(0xffff), 0xffff);
  EXPECT_EQ(fold32(0x10000), 1);
  EXPECT_EQ(fold32(0x1fffe), 0xffff);
  EXPECT_EQ(fold32(0x1ffff), 1);  // ffff + 1 carries twice
  EXPECT_EQ(fold32(0xffffffff), 0xffff);
}

TEST(PseudoHeader, EqualsSumOfTheWrittenOutHeader) {
  // RFC 768: src(4) dst(4) zero(1) protocol(1) UDP length(2).
  Ipv4Addr src(198, 18, 0, 1);
  Ipv4Addr dst(255, 255, 255, 255);
  uint8_t header[12] = {};
  src.store(header);
  dst.store(header + 4);
  header[9] = 17;
  store_be16(header + 10, 0xfff0);
  EXPECT_EQ(fold32(ipv4_pseudo_header_sum(src, dst, 17, 0xfff0)), reference_fold(header));
}

TEST(PseudoHeader, ChainedOverCapturedDatagramVerifies) {
  std::span<const uint8_t> udp = std::span(vectors::kUdpFrame).subspan(vectors::kEthLen + vectors::kIpLen);
  uint32_t pseudo =
      ipv4_pseudo_header_sum(Ipv4Addr(198, 18, 0, 1), Ipv4Addr(198, 18, 0, 2), 17, static_cast<uint16_t>(udp.size()));
  EXPECT_EQ(checksum_fold(udp.data(), udp.size(), pseudo), 0xffff);
}

// RFC 8200 §8.1 written out: src(16) dst(16) upper-layer length(4)
// zero(3) next header(1).
Bytes ipv6_pseudo_header(const Ipv6Addr& src, const Ipv6Addr& dst, uint8_t next_header, uint32_t length) {
  Bytes header(40, 0);
  src.store(&header[0]);
  dst.store(&header[16]);
  store_be32(&header[32], length);
  header[39] = next_header;
  return header;
}

TEST(Ipv6PseudoHeader, EqualsSumOfTheWrittenOutHeader) {
  std::mt19937 rng(8200);
  for (uint32_t length : {0u, 8u, 20u, 0xffffu, 0x10000u, 0x12345u, 0xffffffffu}) {
    Bytes a = random_bytes(16, rng), b = random_bytes(16, rng);
    Ipv6Addr src = Ipv6Addr::load(a.data()), dst = Ipv6Addr::load(b.data());
    for (uint8_t next_header : {uint8_t{17}, uint8_t{58}, uint8_t{255}}) {
      EXPECT_EQ(fold32(ipv6_pseudo_header_sum(src, dst, next_header, length)),
                reference_fold(ipv6_pseudo_header(src, dst, next_header, length)))
          << "length " << length << " next header " << int{next_header};
    }
  }
  Ipv6Addr ones(0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff);  // most carries
  EXPECT_EQ(fold32(ipv6_pseudo_header_sum(ones, ones, 255, 0xffffffff)),
            reference_fold(ipv6_pseudo_header(ones, ones, 255, 0xffffffff)));
}

TEST(Ipv6PseudoHeader, ChainedOverScapyDatagramsVerifies) {
  // The checksums in these vectors are scapy's (in6_chksum).
  Ipv6Addr src(0x2001, 2, 0, 0, 0, 0, 0, 1), dst(0x2001, 2, 0, 0, 0, 0, 0, 2);
  for (auto packet : {std::span<const uint8_t>(vectors::kUdp6Packet), std::span<const uint8_t>(vectors::kUdp6OddPacket),
                      std::span<const uint8_t>(vectors::kUdp6ComputedZeroPacket)}) {
    auto udp = packet.subspan(40);
    uint32_t pseudo = ipv6_pseudo_header_sum(src, dst, 17, static_cast<uint32_t>(udp.size()));
    EXPECT_EQ(checksum_fold(udp.data(), udp.size(), pseudo), 0xffff) << udp.size();
  }
  auto icmp = std::span(vectors::kEcho6RequestPacket).subspan(40);
  EXPECT_EQ(
      checksum_fold(icmp.data(), icmp.size(), ipv6_pseudo_header_sum(src, dst, 58, static_cast<uint32_t>(icmp.size()))),
      0xffff);
}

TEST(Ipv6PseudoHeader, RecomputesScapysChecksum) {
  auto udp = std::span(vectors::kUdp6Packet).subspan(40);
  Bytes zeroed(udp.begin(), udp.end());
  store_be16(&zeroed[6], 0);
  uint32_t pseudo = ipv6_pseudo_header_sum(Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 1), Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 2),
                                           17, static_cast<uint32_t>(zeroed.size()));
  EXPECT_EQ(internet_checksum(zeroed.data(), zeroed.size(), pseudo), load_be16(&udp[6]));
  EXPECT_EQ(load_be16(&udp[6]), 0xbf69);
}

TEST(IncrementalUpdate, Rfc1624Example) {
  // RFC 1624 §4: sum of the other words cd7a, m 5555 -> 3285. Eqn. 3 gives
  // 0000 (what full recomputation gives); eqn. 2 would give ffff.
  EXPECT_EQ(checksum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
  const uint8_t after[] = {0xcd, 0x7a, 0x32, 0x85};
  EXPECT_EQ(internet_checksum(after, sizeof after), 0x0000);
}

// A captured IPv4 header with its checksum field zeroed.
Bytes header_without_checksum() {
  auto header = std::span(vectors::kUdpFrame).subspan(vectors::kEthLen, vectors::kIpLen);
  Bytes out(header.begin(), header.end());
  store_be16(&out[10], 0);
  return out;
}

TEST(IncrementalUpdate, TtlDecrementMatchesRecomputation) {
  Bytes header = header_without_checksum();
  uint16_t checksum = internet_checksum(header.data(), header.size());
  EXPECT_EQ(checksum, 0x9c59);  // the value scapy wrote
  for (int hop = 0; hop < 64; ++hop) {
    uint16_t old_word = load_be16(&header[8]);  // ttl | protocol
    --header[8];
    checksum = checksum_update16(checksum, old_word, load_be16(&header[8]));
    ASSERT_EQ(checksum, internet_checksum(header.data(), header.size())) << "ttl " << int{header[8]};
  }
}

TEST(IncrementalUpdate, RandomWordAndAddressChangesMatchRecomputation) {
  std::mt19937 rng(1624);
  std::uniform_int_distribution<uint32_t> any32;
  std::uniform_int_distribution<size_t> word(0, 9);
  for (int round = 0; round < 2000; ++round) {
    Bytes header = random_bytes(20, rng);
    store_be16(&header[10], 0);
    uint16_t checksum = internet_checksum(header.data(), header.size());

    size_t at = word(rng) * 2;
    if (at == 10) continue;  // the checksum field itself
    uint16_t old_word = load_be16(&header[at]);
    auto new_word = static_cast<uint16_t>(any32(rng));
    store_be16(&header[at], new_word);
    checksum = checksum_update16(checksum, old_word, new_word);
    ASSERT_EQ(checksum, internet_checksum(header.data(), header.size())) << "round " << round;

    uint32_t old_dst = load_be32(&header[16]);  // as NAT rewrites an address
    uint32_t new_dst = any32(rng);
    store_be32(&header[16], new_dst);
    checksum = checksum_update32(checksum, old_dst, new_dst);
    ASSERT_EQ(checksum, internet_checksum(header.data(), header.size())) << "round " << round;
  }
}

}  // namespace
}  // namespace dpdkudp::wire
