// The live-stats region and the [PERF] line: a stack over the in-memory
// pair backend publishes into /dev/shm, and the reader dpdkudp-stat uses
// sees the same counters; stale and foreign regions are told apart.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>

#include "backends/pair/pair_backend.h"
#include "engine/stats.h"
#include "engine/stats_shm.h"
#include "tests/support/stack_pair.h"

namespace dpdkudp::engine {
namespace {

using stack::Endpoint;
using wire::Ipv4Addr;

struct StatsFixture : ::testing::Test, test::TwoStacks {
  StatsFixture() : TwoStacks(Arp::kAKnowsB) {}
  // Sends n datagrams a -> b:port and lets b take them.
  void send(uint16_t port, int n) {
    stack::UdpSocket* tx = a->open_udp();
    Endpoint dst{Ipv4Addr(198, 18, 0, 2), port};
    char payload[100] = {};
    iovec iov{payload, sizeof payload};
    for (int i = 0; i < n; ++i) ASSERT_EQ(tx->send({&iov, 1}, &dst), 100);
    for (int i = 0; i < 100; ++i) b->poll(0);
    tx->close();
  }

  KernelPathCounters kernel_path;
};

TEST_F(StatsFixture, PublishedRegionReadsBackWithSocketsAndDropHierarchy) {
  stack::UdpSocket* rx = b->open_udp();
  ASSERT_EQ(rx->bind(Endpoint{Ipv4Addr::any(), 7000}), 0);
  rx->set_rcvbuf(stack::UdpSocket::kMinRcvbuf);  // a few datagrams fit, the rest drop
  send(7000, 50);
  send(7001, 3);  // closed port
  kernel_path.rx.add(4);
  kernel_path.tx.add(2);
  // What the shim records on its sockets (preload/shim_socket.cc): unknown
  // until it does.
  EXPECT_EQ(rx->owner_fd(), -1);
  EXPECT_EQ(rx->last_reader_tid(), 0);
  rx->set_owner_fd(42);
  rx->note_reader(4321);

  LiveStats live(*b, *pair.b, {}, kernel_path, 0);
  StatsIdentity id{"af_packet", "dedicated", "veth-test", "198.18.0.2/24", "2001:2::2/64", "plain socket", 1500};
  std::string error;
  ASSERT_TRUE(live.open_region(id, &error)) << error;
  live.on_tick(clock.monotonic_ns());

  auto pids = stats::list_regions();
  ASSERT_NE(std::find(pids.begin(), pids.end(), getpid()), pids.end());
  stats::Snapshot snap = stats::read_region(getpid());
  ASSERT_EQ(snap.status, stats::ReadStatus::kOk) << snap.error;
  const stats::Region& r = *snap.region;
  EXPECT_STREQ(r.backend, "af_packet");
  EXPECT_STREQ(r.iface, "veth-test");
  EXPECT_STREQ(r.address, "198.18.0.2/24");
  EXPECT_EQ(r.mtu, 1500u);
  EXPECT_EQ(r.pid, getpid());

  stack::SocketStats ss = rx->stats();
  ASSERT_GT(ss.rx_drops, 0u) << "the test needs some datagrams over SO_RCVBUF";
  EXPECT_EQ(r.totals.udp_delivered, ss.queued_datagrams);
  EXPECT_EQ(r.totals.kernel_rx_datagrams, 4u);
  EXPECT_EQ(r.totals.kernel_tx_datagrams, 2u);
  EXPECT_EQ(r.totals.rx_frames, 53u);
  auto by_name = [&](const char* name) {
    for (uint32_t i = 0; i < r.drop_reason_count; ++i) {
      if (std::strcmp(r.drop_names[i], name) == 0) return r.totals.drops[i];
    }
    ADD_FAILURE() << "no drop reason " << name;
    return uint64_t{0};
  };
  EXPECT_EQ(by_name("socket_buffer_full"), ss.rx_drops);
  EXPECT_EQ(by_name("udp_no_socket"), 3u);

  ASSERT_EQ(r.socket_count, 1u);
  ASSERT_EQ(r.sockets_shown, 1u);
  const stats::SocketSlot& slot = r.sockets[0];
  EXPECT_EQ(slot.local_port, 7000);
  EXPECT_EQ(slot.local_addr, 0u);
  EXPECT_EQ(slot.rx_datagrams, 0u);  // nobody read them yet
  EXPECT_EQ(slot.rx_drops, ss.rx_drops);
  EXPECT_GT(slot.queued_datagrams, 0u);
  EXPECT_EQ(slot.queued_datagrams, ss.queued_datagrams);
  EXPECT_EQ(slot.queued_bytes, ss.queued_bytes);
  EXPECT_EQ(slot.ipv6, 0);
  EXPECT_EQ(slot.fd, 42);
  EXPECT_EQ(slot.last_reader_tid, 4321);

  live.close_region();
  EXPECT_EQ(stats::read_region(getpid()).status, stats::ReadStatus::kMissing);
  rx->close();
}

TEST_F(StatsFixture, RegionOfADeadProcessIsStaleAndCleanedUp) {
  // A child publishes and dies without cleaning up, as under SIGKILL.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    stats::Writer w;
    std::string error;
    if (!w.open(&error)) _exit(2);
    w.begin_update();
    w.region()->totals.udp_delivered = 42;
    w.end_update();
    _exit(0);  // no destructor: the region stays
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  stats::Snapshot snap = stats::read_region(child);
  ASSERT_EQ(snap.status, stats::ReadStatus::kStale);
  ASSERT_TRUE(snap.region);
  EXPECT_EQ(snap.region->totals.udp_delivered, 42u);  // last values stay readable
  EXPECT_FALSE(stats::remove_if_stale(getpid())) << "a live process's region must never be removed";
  EXPECT_TRUE(stats::remove_if_stale(child));
  EXPECT_EQ(stats::read_region(child).status, stats::ReadStatus::kMissing);
}

// A region object made by hand at pid's name (it must not exist yet):
// every byte `fill`, then a header of `version`, then edit(region). Returns
// the open fd (the test may cut the object or give it away), -1 on failure.
int make_region_object(pid_t pid, uint32_t version, int fill,
                       const std::function<void(stats::Region&)>& edit = nullptr) {
  const std::string name = "/dpdkudp." + std::to_string(pid);
  int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0 || ftruncate(fd, sizeof(stats::Region)) != 0) return -1;
  auto* r =
      static_cast<stats::Region*>(mmap(nullptr, sizeof(stats::Region), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  if (r == MAP_FAILED) return -1;
  std::memset(static_cast<void*>(r), fill, sizeof(stats::Region));
  r->magic = stats::kMagic;
  r->version = version;
  r->size = sizeof(stats::Region);
  r->seq = 0;
  if (edit) edit(*r);
  munmap(r, sizeof(stats::Region));
  return fd;
}

TEST(StatsRegion, ForeignOrTruncatedObjectsAreRefusedWithAReason) {
  // A region of another layout version under a pid that is ours.
  std::string name = "/dpdkudp." + std::to_string(getpid());
  shm_unlink(name.c_str());
  int fd = make_region_object(getpid(), stats::kVersion + 1, 0);
  ASSERT_GE(fd, 0);
  stats::Snapshot snap = stats::read_region(getpid());
  EXPECT_EQ(snap.status, stats::ReadStatus::kBadVersion);
  EXPECT_NE(snap.error.find("another version"), std::string::npos) << snap.error;
  ASSERT_EQ(ftruncate(fd, 4), 0);
  EXPECT_EQ(stats::read_region(getpid()).status, stats::ReadStatus::kBadVersion);
  close(fd);
  shm_unlink(name.c_str());
  EXPECT_EQ(stats::read_region(getpid()).status, stats::ReadStatus::kMissing);
}

// A corrupt region whose text fields run to the end of their arrays (no
// NUL anywhere): the reader ends each within its array, so printing never
// runs past it (found by tests/fuzz/fuzz_stat_region once the reader was
// fuzzed; regressions/fuzz_stat_region/unterminated_text_fields).
TEST(StatsRegion, TextFieldsOfACorruptRegionEndWithinTheirArrays) {
  std::string name = "/dpdkudp." + std::to_string(getpid());
  shm_unlink(name.c_str());
  int fd = make_region_object(getpid(), stats::kVersion, 'A');
  ASSERT_GE(fd, 0);
  close(fd);
  stats::Snapshot snap = stats::read_region(getpid());
  shm_unlink(name.c_str());
  ASSERT_TRUE(snap.region) << snap.error;
  const stats::Region& got = *snap.region;
  EXPECT_EQ(strnlen(got.comm, sizeof got.comm), sizeof got.comm - 1);
  EXPECT_EQ(strnlen(got.description, sizeof got.description), sizeof got.description - 1);
  EXPECT_EQ(strnlen(got.drop_names[0], stats::kDropNameLen), stats::kDropNameLen - 1);
  EXPECT_EQ(strnlen(got.tunnels[0].describe, sizeof got.tunnels[0].describe), sizeof got.tunnels[0].describe - 1);
}

// A region at a pid's name made by another user than the process's (a
// process of the same pid in another pid namespace sharing /dev/shm, or a
// forgery) is not that process's: the reader refuses it, the writer and
// the stale-region sweep leave it alone.
TEST(StatsRegion, AnotherUsersRegionOfTheSamePidIsNeitherReadNorRemoved) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to make a file of another user";
  const uid_t other = 65534;
  auto plant = [&](pid_t pid) {
    std::string name = "/dpdkudp." + std::to_string(pid);
    int fd = make_region_object(pid, stats::kVersion, 0, [pid](stats::Region& r) {
      r.pid = pid;
      r.totals.udp_delivered = 7;
    });
    EXPECT_GE(fd, 0) << name;
    EXPECT_EQ(fchown(fd, other, other), 0);
    close(fd);
    return name;
  };
  // Our own pid: the reader says whose it is, the writer does not replace it.
  std::string ours = plant(getpid());
  stats::Snapshot snap = stats::read_region(getpid());
  EXPECT_EQ(snap.status, stats::ReadStatus::kError);
  EXPECT_FALSE(snap.region);
  EXPECT_NE(snap.error.find("belongs to uid 65534"), std::string::npos) << snap.error;
  {
    stats::Writer w;
    std::string error;
    EXPECT_FALSE(w.open(&error));
    EXPECT_NE(error.find("belongs to uid 65534"), std::string::npos) << error;
  }
  int fd = shm_open(ours.c_str(), O_RDONLY, 0);
  EXPECT_GE(fd, 0) << "the writer removed another user's region";
  if (fd >= 0) close(fd);
  EXPECT_FALSE(stats::remove_if_stale(getpid()));
  shm_unlink(ours.c_str());

  // A pid with no process here (a dead child's): the sweep that removes
  // our stale regions leaves another user's.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  std::string theirs = plant(child);
  EXPECT_FALSE(stats::remove_if_stale(child));
  fd = shm_open(theirs.c_str(), O_RDONLY, 0);
  EXPECT_GE(fd, 0) << "the sweep removed another user's region";
  if (fd >= 0) close(fd);
  shm_unlink(theirs.c_str());
}

// The tool, the [PERF] line and the exit line classify drops by name: a
// reason renamed or added without a class would fall out of the hierarchy.
TEST(StatsRegion, EveryDropReasonHasAClass) {
  for (size_t i = 0; i < stack::kDropReasonCount; ++i) {
    std::string_view name = stack::drop_reason_name(static_cast<stack::DropReason>(i));
    EXPECT_NE(stats::drop_class(name), stats::DropClass::kUnclassified) << name;
  }
  EXPECT_EQ(stats::drop_class("no_such_reason"), stats::DropClass::kUnclassified);
  EXPECT_EQ(stats::drop_class("ip_martian_source"), stats::DropClass::kMalformed);
  EXPECT_EQ(stats::drop_class("arp_unresolved"), stats::DropClass::kArpUnresolved);
}

TEST(StatsRegion, PerfLineGivesRatesOverTheIntervalAndTheDropBreakdown) {
  stats::Totals prev{}, now{};
  now.rx_frames = 20'000;
  now.udp_delivered = 19'000;
  now.tx_frames = 1'000;
  now.nic_rx_missed = 7;
  now.drops[static_cast<size_t>(stack::DropReason::kSocketBufferFull)] = 900;
  now.drops[static_cast<size_t>(stack::DropReason::kUdpChecksum)] = 5;
  now.drops[static_cast<size_t>(stack::DropReason::kUdpNoSocket)] = 2;
  std::string line = LiveStats::perf_line(now, prev, 2'000'000'000, 3);
  EXPECT_EQ(line.rfind("[PERF] dpdkudp pid=", 0), 0u) << line;
  EXPECT_NE(line.find("interval=2.0s"), std::string::npos) << line;
  EXPECT_NE(line.find("rx=10000 pps"), std::string::npos) << line;
  EXPECT_NE(line.find("delivered=9500/s"), std::string::npos) << line;
  EXPECT_NE(line.find("nic=7 sockbuf=900 checksum=5 malformed=0 arp=0 other=2"), std::string::npos) << line;
  EXPECT_NE(line.find("sockets=3"), std::string::npos) << line;
}

}  // namespace
}  // namespace dpdkudp::engine
