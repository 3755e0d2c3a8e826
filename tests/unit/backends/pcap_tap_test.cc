#include "backends/pcap/pcap_tap.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "backends/pair/pair_backend.h"
#include "tests/unit/backends/pair_test_util.h"
#include "tests/unit/backends/test_frames.h"

namespace dpdkudp {
namespace {

std::string temp_path(const char* name) {
  return testing::TempDir() + "dpdkudp_" + std::to_string(::getpid()) + "_" + name + ".pcap";
}

// Reads every record of a pcap file back.
std::vector<std::vector<uint8_t>> read_pcap(const std::string& path, int* link_type = nullptr) {
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* in = pcap_open_offline(path.c_str(), error);
  EXPECT_NE(in, nullptr) << error;
  std::vector<std::vector<uint8_t>> frames;
  if (in == nullptr) {
    return frames;
  }
  if (link_type != nullptr) {
    *link_type = pcap_datalink(in);
  }
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(in, &header, &data) == 1) {
    EXPECT_EQ(header->caplen, header->len);
    frames.emplace_back(data, data + header->caplen);
  }
  pcap_close(in);
  return frames;
}

TEST(PcapTap, WritesEveryFrameBothWays) {
  const std::string path = temp_path("both_ways");
  PairConfig config;
  config.pool_size = 32;
  auto [a, b] = make_pair(config);
  std::vector<std::vector<uint8_t>> expected;
  {
    PcapTap tap(*a, path);
    EXPECT_EQ(tap.name(), "pcap(pair-a)");
    EXPECT_EQ(tap.mac(), a->mac());
    EXPECT_EQ(&tap.capabilities(), &a->capabilities());

    std::vector<Packet*> out;
    for (uint8_t i = 0; i < 3; ++i) {
      test::Udp4Spec spec;
      spec.payload = {i, i, i};
      expected.push_back(test::udp4_frame(spec));
      out.push_back(test::packet_with(tap, expected.back()));
    }
    ASSERT_EQ(tap.tx_burst(0, out), 3u);
    b->release(test::drain(*b));

    for (uint8_t i = 0; i < 2; ++i) {
      expected.push_back(std::vector<uint8_t>(60, i));
      ASSERT_TRUE(test::send_one(*b, test::packet_with(*b, expected.back())));
    }
    Packet* in[8];
    ASSERT_EQ(tap.rx_burst(0, in), 2u);
    tap.release(std::span<Packet* const>(in, 2));
    EXPECT_EQ(tap.rx_burst(0, in), 0u);
    EXPECT_EQ(tap.frames_written(), 5u);
    EXPECT_EQ(tap.stats().tx_packets, 3u);
    EXPECT_EQ(tap.stats().rx_packets, 2u);
  }  // flushed and closed here
  int link_type = -1;
  EXPECT_EQ(read_pcap(path, &link_type), expected);
  EXPECT_EQ(link_type, DLT_EN10MB);
  std::remove(path.c_str());
}

// DPDKUDP_CAPTURE's form: owning the backend, bounded, flushed per burst.
TEST(PcapTap, TheFileStopsAtItsLimitAndIsReadableWhileOpen) {
  const std::string path = temp_path("limit");
  PairConfig config;
  config.pool_size = 64;
  auto [a, b] = make_pair(config);
  Backend* inner = a.get();
  // 24 bytes of file header, then 16 + 60 a record: three records fit in 256.
  PcapTap tap(std::move(a), path, 256);
  EXPECT_EQ(tap.name(), "pcap(pair-a)");
  std::vector<std::vector<uint8_t>> sent;
  for (uint8_t i = 0; i < 5; ++i) {
    sent.push_back(std::vector<uint8_t>(60, i));
    ASSERT_TRUE(test::send_one(*b, test::packet_with(*b, sent.back())));
  }
  Packet* in[8];
  ASSERT_EQ(tap.rx_burst(0, in), 5u);  // every frame still reaches the stack
  tap.release(std::span<Packet* const>(in, 5));
  EXPECT_EQ(tap.frames_written(), 3u);
  EXPECT_EQ(tap.frames_left_out(), 2u);
  // Flushed after the burst: the file holds the three while the tap lives.
  EXPECT_EQ(read_pcap(path), std::vector<std::vector<uint8_t>>(sent.begin(), sent.begin() + 3));
  std::FILE* f = std::fopen(path.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::fseek(f, 0, SEEK_END);
  EXPECT_EQ(std::ftell(f), 24 + 3 * (16 + 60));
  std::fclose(f);
  EXPECT_EQ(tap.stats().rx_packets, inner->stats().rx_packets);
  std::remove(path.c_str());
}

TEST(PcapTap, RefusedFramesAreNotWritten) {
  const std::string path = temp_path("refused");
  PairConfig config;
  config.pool_size = 32;
  config.ring_size = 2;
  auto [a, b] = make_pair(config);
  {
    PcapTap tap(*a, path);
    std::vector<Packet*> out;
    for (uint8_t i = 0; i < 4; ++i) {
      out.push_back(test::packet_with(tap, std::vector<uint8_t>(60, i)));
    }
    ASSERT_EQ(tap.tx_burst(0, out), 2u);
    b->release(test::drain(*b));
    ASSERT_EQ(tap.tx_burst(0, std::span<Packet* const>(out.data() + 2, 2)), 2u);
    b->release(test::drain(*b));
    tap.flush();
    EXPECT_EQ(read_pcap(path).size(), 4u) << "flush() makes it readable while open";
  }
  const auto frames = read_pcap(path);
  ASSERT_EQ(frames.size(), 4u) << "each frame once, none for the refused attempt";
  for (uint8_t i = 0; i < 4; ++i) {
    EXPECT_EQ(frames[i], std::vector<uint8_t>(60, i));
  }
  std::remove(path.c_str());
}

TEST(PcapTap, MulticastMacsReachTheWrappedBackend) {
  const std::string path = temp_path("multicast");
  PairConfig config;
  config.pool_size = 4;
  auto [a, b] = make_pair(config);
  {
    PcapTap tap(*a, path);
    const MacAddr group = {0x01, 0x00, 0x5e, 0x01, 0x02, 0x03};
    EXPECT_EQ(tap.set_multicast_mac(group, true), 0);
    EXPECT_EQ(a->multicast_refs(group), 1u);
    EXPECT_EQ(tap.set_multicast_mac(group, false), 0);
    EXPECT_TRUE(a->multicast_macs().empty());
    EXPECT_EQ(tap.set_multicast_mac(group, false), -EADDRNOTAVAIL);
  }
  std::remove(path.c_str());
}

TEST(PcapTap, UnwritablePathThrows) {
  PairConfig config;
  config.pool_size = 4;
  auto [a, b] = make_pair(config);
  EXPECT_THROW(PcapTap(*a, "/nonexistent-dir/x.pcap"), std::runtime_error);
}

}  // namespace
}  // namespace dpdkudp
