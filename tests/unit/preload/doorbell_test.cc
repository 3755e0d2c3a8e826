#include "preload/doorbell.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

namespace dpdkudp::preload {
namespace {

sockaddr_in loopback(uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sin;
}

constexpr uint64_t kKey = 0x1234'5678'9abc'def0;
const DoorbellMsg kBell{kDoorbellMagic, 2, 0, (uint64_t{4242} << 32) | 7, kKey};

TEST(Doorbell, ARealOneIsRecognised) {
  DoorbellMsg out{};
  ASSERT_TRUE(parse_doorbell(loopback(40000), &kBell, sizeof kBell, kKey, &out));
  EXPECT_EQ(out.token, kBell.token);
  EXPECT_EQ(out.hops, 2);
}

TEST(Doorbell, WrongLengthIsAnApplicationDatagram) {
  unsigned char buf[sizeof kBell + 1] = {};
  std::memcpy(buf, &kBell, sizeof kBell);
  DoorbellMsg out{};
  EXPECT_FALSE(parse_doorbell(loopback(40000), buf, sizeof kBell - 1, kKey, &out));
  EXPECT_FALSE(parse_doorbell(loopback(40000), buf, sizeof kBell + 1, kKey, &out));
  EXPECT_FALSE(parse_doorbell(loopback(40000), buf, 0, kKey, &out));
  EXPECT_FALSE(parse_doorbell(loopback(40000), buf, -1, kKey, &out));
}

TEST(Doorbell, WrongMagicIsAnApplicationDatagram) {
  DoorbellMsg m = kBell;
  m.magic ^= 1;
  DoorbellMsg out{};
  EXPECT_FALSE(parse_doorbell(loopback(40000), &m, sizeof m, kKey, &out));
}

TEST(Doorbell, WrongKeyIsAnApplicationDatagram) {
  // Any local program can send the shape from 127.0.0.1; without the key
  // it is data, delivered as such.
  DoorbellMsg m = kBell;
  m.key ^= uint64_t{1} << 40;
  DoorbellMsg out{};
  EXPECT_FALSE(parse_doorbell(loopback(40000), &m, sizeof m, kKey, &out));
  m.key = 0;
  EXPECT_FALSE(parse_doorbell(loopback(40000), &m, sizeof m, kKey, &out));
  // The first wire form (16 bytes, no key) is data too.
  EXPECT_FALSE(parse_doorbell(loopback(40000), &kBell, 16, kKey, &out));
}

TEST(Doorbell, OnlyFromLoopback) {
  // The same 16 bytes from a peer on the network are the peer's datagram.
  sockaddr_in from = loopback(40000);
  inet_pton(AF_INET, "198.18.0.1", &from.sin_addr);
  DoorbellMsg out{};
  EXPECT_FALSE(parse_doorbell(from, &kBell, sizeof kBell, kKey, &out));
  from = loopback(40000);
  inet_pton(AF_INET, "127.0.0.2", &from.sin_addr);
  EXPECT_FALSE(parse_doorbell(from, &kBell, sizeof kBell, kKey, &out));
  from = loopback(40000);
  from.sin_family = AF_INET6;
  EXPECT_FALSE(parse_doorbell(from, &kBell, sizeof kBell, kKey, &out));
}

sockaddr_storage loopback_storage(uint16_t port) {
  sockaddr_storage ss{};
  const sockaddr_in sin = loopback(port);
  std::memcpy(&ss, &sin, sizeof sin);
  return ss;
}

// A hand-off of "hello" from 198.18.0.1:5353 to 198.18.0.2, as it goes on
// the wire (host byte order, x86-64: little-endian; the addresses in
// network order).
std::vector<uint8_t> handoff_bytes_v4() {
  return {
      0x55, 0x44, 0x48, 0x4f,                                                  // magic "UDHO"
      0x01, 0x00, 0x10, 0x40,                                                  // version 1, IPv4, tos 0x10, ttl 64
      0xe9, 0x14, 0x00, 0x00,                                                  // source port 5353, reserved
      0x00, 0x00, 0x00, 0x00,                                                  // scope id
      0x05, 0x00, 0x00, 0x00,                                                  // payload length 5
      0x00, 0x00, 0x00, 0x00,                                                  // reserved
      0x15, 0xcd, 0x5b, 0x07, 0x00, 0x00, 0x00, 0x00,                          // timestamp 123456789 ns
      0xf0, 0xde, 0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12,                          // key
      198,  18,   0,    1,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0,  // source
      198,  18,   0,    2,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0,  // destination
      'h',  'e',  'l',  'l',  'o',
  };
}

stack::RecvInfo info_v4() {
  stack::RecvInfo info;
  info.source = stack::Endpoint{stack::Ipv4Addr(198, 18, 0, 1), 5353};
  info.destination = stack::Ipv4Addr(198, 18, 0, 2);
  info.tos = 0x10;
  info.ttl = 64;
  info.timestamp_ns = 123456789;
  return info;
}

TEST(Handoff, WireForm) {
  const HandoffHeader h = make_handoff(info_v4(), 5, kKey);
  std::vector<uint8_t> wire(sizeof h);
  std::memcpy(wire.data(), &h, sizeof h);
  wire.insert(wire.end(), {'h', 'e', 'l', 'l', 'o'});
  EXPECT_EQ(wire, handoff_bytes_v4());
}

TEST(Handoff, ParsedBackAsTheStackGaveIt) {
  const std::vector<uint8_t> wire = handoff_bytes_v4();
  stack::RecvInfo info;
  const uint8_t* payload = nullptr;
  ASSERT_TRUE(parse_handoff(loopback_storage(40000), wire.data(), wire.size(), kKey, &info, &payload));
  EXPECT_FALSE(info.source.v6);
  EXPECT_EQ(info.source.addr, stack::Ipv4Addr(198, 18, 0, 1));
  EXPECT_EQ(info.source.port, 5353);
  EXPECT_EQ(info.destination, stack::Ipv4Addr(198, 18, 0, 2));
  EXPECT_EQ(info.tos, 0x10);
  EXPECT_EQ(info.ttl, 64);
  EXPECT_EQ(info.timestamp_ns, 123456789u);
  EXPECT_EQ(info.datagram_len, 5u);
  ASSERT_EQ(payload, wire.data() + sizeof(HandoffHeader));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(payload), 5), "hello");
}

TEST(Handoff, Ipv6RoundTrip) {
  stack::RecvInfo in;
  in.source = stack::Endpoint::ipv6(stack::Ipv6Addr::parse("fe80::1").value(), 547, 3);
  in.destination6 = stack::Ipv6Addr::parse("2001:2::2").value();
  in.ttl = 255;
  in.tos = 0xb8;
  std::vector<uint8_t> wire(sizeof(HandoffHeader) + 3, 0xaa);
  const HandoffHeader h = make_handoff(in, 3, kKey);
  std::memcpy(wire.data(), &h, sizeof h);
  EXPECT_EQ(wire[5], 1);          // IPv6
  EXPECT_EQ(wire[40], 0xfe);      // the source, in network order
  EXPECT_EQ(wire[56 + 1], 0x01);  // 2001:...
  sockaddr_storage from{};
  auto* six = reinterpret_cast<sockaddr_in6*>(&from);
  six->sin6_family = AF_INET6;
  six->sin6_addr = in6addr_loopback;
  stack::RecvInfo out;
  const uint8_t* payload = nullptr;
  ASSERT_TRUE(parse_handoff(from, wire.data(), wire.size(), kKey, &out, &payload));
  EXPECT_TRUE(out.source.v6);
  EXPECT_EQ(out.source.addr6, in.source.addr6);
  EXPECT_EQ(out.source.scope_id, 3u);
  EXPECT_EQ(out.source.port, 547);
  EXPECT_EQ(out.destination6, in.destination6);
  EXPECT_EQ(out.ttl, 255);
  EXPECT_EQ(out.tos, 0xb8);
  EXPECT_EQ(out.datagram_len, 3u);
}

TEST(Handoff, AnythingElseIsAnApplicationDatagram) {
  const std::vector<uint8_t> good = handoff_bytes_v4();
  stack::RecvInfo info;
  const uint8_t* payload = nullptr;
  // The wrong key (any local program may send the shape), magic, version.
  for (size_t byte : {size_t{32}, size_t{0}, size_t{4}}) {
    std::vector<uint8_t> w = good;
    w[byte] ^= 1;
    EXPECT_FALSE(parse_handoff(loopback_storage(40000), w.data(), w.size(), kKey, &info, &payload)) << byte;
  }
  // A length that does not add up: cut short, one byte more, a header only.
  EXPECT_FALSE(parse_handoff(loopback_storage(40000), good.data(), good.size() - 1, kKey, &info, &payload));
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  EXPECT_FALSE(parse_handoff(loopback_storage(40000), longer.data(), longer.size(), kKey, &info, &payload));
  EXPECT_FALSE(parse_handoff(loopback_storage(40000), good.data(), 20, kKey, &info, &payload));
  // An IPv4 hand-off with a scope, a family byte past 1.
  std::vector<uint8_t> w = good;
  w[12] = 1;
  EXPECT_FALSE(parse_handoff(loopback_storage(40000), w.data(), w.size(), kKey, &info, &payload));
  w = good;
  w[5] = 2;
  EXPECT_FALSE(parse_handoff(loopback_storage(40000), w.data(), w.size(), kKey, &info, &payload));
  // The same bytes from the network are the peer's.
  sockaddr_storage net = loopback_storage(40000);
  inet_pton(AF_INET, "198.18.0.1", &reinterpret_cast<sockaddr_in*>(&net)->sin_addr);
  EXPECT_FALSE(parse_handoff(net, good.data(), good.size(), kKey, &info, &payload));
  // And a doorbell is not a hand-off.
  EXPECT_FALSE(parse_handoff(loopback_storage(40000), &kBell, sizeof kBell, kKey, &info, &payload));
}

class DoorbellKey : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/doorbell_key.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/dpdkudp-doorbell-" + std::to_string(geteuid());
  }
  void TearDown() override {
    unlink(path_.c_str());
    unlink((path_ + ".target").c_str());
    rmdir(dir_.c_str());
  }
  std::string dir_;
  std::string path_;
};

TEST_F(DoorbellKey, MadeOnceOwnerOnlyAndSharedByLaterLoads) {
  std::string note;
  uint64_t first = load_doorbell_key(dir_.c_str(), &note);
  EXPECT_EQ(note, "");
  struct stat st {};
  ASSERT_EQ(lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_EQ(st.st_size, 8);
  // Another process of this user reads the same key.
  EXPECT_EQ(load_doorbell_key(dir_.c_str(), &note), first);
  EXPECT_EQ(note, "");
  // No temporary file is left beside it.
  int entries = 0;
  DIR* d = opendir(dir_.c_str());
  ASSERT_NE(d, nullptr);
  while (dirent* e = readdir(d)) entries += e->d_name[0] != '.';
  closedir(d);
  EXPECT_EQ(entries, 1);
}

TEST_F(DoorbellKey, ASymbolicLinkIsNotFollowed) {
  // Someone plants a link where the key goes: it is neither read nor
  // written through; the process draws its own key and says why.
  int fd = open((path_ + ".target").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  uint64_t planted = 42;
  ASSERT_EQ(write(fd, &planted, sizeof planted), 8);
  close(fd);
  ASSERT_EQ(symlink((path_ + ".target").c_str(), path_.c_str()), 0);
  std::string note;
  uint64_t key = load_doorbell_key(dir_.c_str(), &note);
  EXPECT_NE(key, planted);
  EXPECT_NE(note.find(path_), std::string::npos) << note;
}

TEST_F(DoorbellKey, AFileOthersCanReadIsRefused) {
  int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  uint64_t planted = 42;
  ASSERT_EQ(write(fd, &planted, sizeof planted), 8);
  ASSERT_EQ(fchmod(fd, 0644), 0);
  close(fd);
  std::string note;
  EXPECT_NE(load_doorbell_key(dir_.c_str(), &note), planted);
  EXPECT_NE(note.find("mode 0600"), std::string::npos) << note;
}

TEST_F(DoorbellKey, AnotherUsersFileIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give the file away";
  int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  uint64_t planted = 42;
  ASSERT_EQ(write(fd, &planted, sizeof planted), 8);
  ASSERT_EQ(fchown(fd, 65534, 65534), 0);
  close(fd);
  std::string note;
  EXPECT_NE(load_doorbell_key(dir_.c_str(), &note), planted);
  EXPECT_NE(note.find("of this user"), std::string::npos) << note;
}

TEST_F(DoorbellKey, AShortFileIsRefused) {
  int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "abc", 3), 3);
  close(fd);
  std::string note;
  load_doorbell_key(dir_.c_str(), &note);
  EXPECT_NE(note.find("8 bytes"), std::string::npos) << note;
}

}  // namespace
}  // namespace dpdkudp::preload
