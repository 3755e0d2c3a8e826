#include "preload/doorbell.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

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

TEST(Doorbell, GatherHeadAcrossIovecs) {
  unsigned char bytes[sizeof kBell];
  std::memcpy(bytes, &kBell, sizeof kBell);
  unsigned char a[3], b[5], c[20];
  std::memcpy(a, bytes, 3);
  std::memcpy(b, bytes + 3, 5);
  std::memcpy(c, bytes + 8, 16);
  iovec iov[3] = {{a, sizeof a}, {b, sizeof b}, {c, sizeof c}};
  msghdr m{};
  m.msg_iov = iov;
  m.msg_iovlen = 3;
  DoorbellMsg out{};
  ASSERT_TRUE(gather_head(m, sizeof kBell, &out));
  EXPECT_EQ(std::memcmp(&out, &kBell, sizeof kBell), 0);
}

TEST(Doorbell, GatherHeadNeedsExactlyOneDoorbell) {
  unsigned char buf[8] = {};
  iovec iov{buf, sizeof buf};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  DoorbellMsg out{};
  EXPECT_FALSE(gather_head(m, 8, &out));                    // not a doorbell's size
  EXPECT_FALSE(gather_head(m, sizeof(DoorbellMsg), &out));  // the buffers hold only 8
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
