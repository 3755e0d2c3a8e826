// One process per interface, and what happens when it dies: a SIGKILLed
// owner leaves nothing that black-holes its ports, and the next process
// takes the interface and the ports over. The owners here are forked
// children in the server namespace.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>

#include <cstring>

#include "tests/integration/af_xdp/af_xdp_fixture.h"

namespace dpdkudp::test {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr uint16_t kPort = 6000;

class AfXdpOwnership : public AfXdpTest {
 protected:
  // The kernel socket on kPort (the port the owner steers) receives.
  bool kernel_gets_port(int kernel_fd, int client_fd, const std::string& text) {
    send_udp(client_fd, net_.server_ip, kPort, to_bytes(text));
    const auto got = read_udp(kernel_fd, 1, 500ms);
    return got.size() == 1 && got[0] == to_bytes(text);
  }
};

// The pinned port map, through the bpf() syscall itself (the tests include
// no libbpf header): what another process's entries look like to us.
class PinnedPorts {
 public:
  explicit PinnedPorts(const std::string& path) {
    bpf_attr attr{};
    attr.pathname = reinterpret_cast<uintptr_t>(path.c_str());
    fd_ = static_cast<int>(::syscall(SYS_bpf, BPF_OBJ_GET, &attr, sizeof(attr)));
  }
  ~PinnedPorts() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool valid() const { return fd_ >= 0; }
  bool set(wire::Ipv4Addr addr, uint16_t port, uint32_t pid) {
    Key key = make_key(addr, port);
    Owners owner{};
    owner.count = 1;
    owner.owner[0] = {pid, 0};
    bpf_attr attr{};
    attr.map_fd = static_cast<uint32_t>(fd_);
    attr.key = reinterpret_cast<uintptr_t>(&key);
    attr.value = reinterpret_cast<uintptr_t>(&owner);
    attr.flags = BPF_ANY;
    return ::syscall(SYS_bpf, BPF_MAP_UPDATE_ELEM, &attr, sizeof(attr)) == 0;
  }
  uint32_t get(wire::Ipv4Addr addr, uint16_t port) {
    Key key = make_key(addr, port);
    Owners owner{};
    bpf_attr attr{};
    attr.map_fd = static_cast<uint32_t>(fd_);
    attr.key = reinterpret_cast<uintptr_t>(&key);
    attr.value = reinterpret_cast<uintptr_t>(&owner);
    return ::syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr)) == 0 ? owner.owner[0].pid : 0;
  }

 private:
  struct Key {
    uint32_t addr;
    uint16_t port;
    uint16_t pad;
  };
  struct Owner {
    uint32_t pid;
    uint32_t slot;
  };
  struct Owners {  // the value: up to 8 owners (SO_REUSEPORT), pid and member slot each
    uint32_t count;
    uint32_t reuseport;
    Owner owner[8];
  };
  static Key make_key(wire::Ipv4Addr addr, uint16_t port) { return {htonl(addr.value), htons(port), 0}; }
  int fd_ = -1;
};

TEST_F(AfXdpOwnership, PortOfALivePidIsRefusedPortOfADeadPidTakenOver) {
  AfXdpOpened opened = open_or_fail(shared_config(XdpMode::kNative));
  ASSERT_NE(opened.backend, nullptr);
  uint64_t inode = 0;
  in_netns(net_.server_ns, [&] {
    struct stat st {};
    if (::stat("/proc/thread-self/ns/net", &st) == 0) inode = st.st_ino;
  });
  PinnedPorts ports("/sys/fs/bpf/dpdkudp/netns-" + std::to_string(inode) + "/xdp0/ports");
  ASSERT_TRUE(ports.valid()) << std::strerror(errno);

  // pid 1 is alive: its port is not ours to take.
  ASSERT_TRUE(ports.set(net_.server_ip, kPort, 1));
  EXPECT_EQ(opened.steering->steer(net_.server_ip.value, kPort, true), EADDRINUSE);
  EXPECT_EQ(ports.get(net_.server_ip, kPort), 1u);

  // A process that has exited: taken over.
  const pid_t dead = ::fork();
  if (dead == 0) {
    ::_exit(0);
  }
  ASSERT_GT(dead, 0);
  ASSERT_EQ(::waitpid(dead, nullptr, 0), dead);
  ASSERT_TRUE(ports.set(net_.server_ip, kPort, static_cast<uint32_t>(dead)));
  EXPECT_EQ(opened.steering->steer(net_.server_ip.value, kPort, true), 0);
  EXPECT_EQ(ports.get(net_.server_ip, kPort), static_cast<uint32_t>(::getpid()));
  inject(to_server().dst_port(kPort).payload("taken over").udp());
  EXPECT_EQ(receive(*opened.backend, 1).size(), 1u);
}

TEST_F(AfXdpOwnership, SigkilledOwnerLeavesNothingAndItsPortIsTakenOver) {
  add_server_address();
  const int kernel = server_udp(kPort);
  const int client = client_udp(6001);
  ASSERT_GE(kernel, 0);
  ASSERT_GE(client, 0);
  {
    OwnerProcess owner(net_, shared_config(XdpMode::kNative), kPort);
    ASSERT_TRUE(owner.ready()) << owner.error();
    EXPECT_TRUE(xdp_attached());
    EXPECT_FALSE(kernel_gets_port(kernel, client, "owned")) << "the port was not steered";
    owner.kill();
  }
  // The kernel dropped the bpf_link with the process: no program, and the
  // port is the kernel's again.
  EXPECT_FALSE(xdp_attached()) << server_link();
  EXPECT_TRUE(kernel_gets_port(kernel, client, "after the kill"));

  AfXdpOpened next = open_or_fail(shared_config(XdpMode::kNative));
  ASSERT_NE(next.backend, nullptr);
  ASSERT_EQ(next.steering->steer(0, kPort, true), 0);
  send_udp(client, net_.server_ip, kPort, to_bytes("new owner"));
  const auto frames = receive(*next.backend, 1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(check_udp_frame(frames[0].bytes, {Payload("new owner")}));
}

TEST_F(AfXdpOwnership, SigkilledLibxdpOwnerPassesEverythingUntilReplaced) {
  add_server_address();
  const int kernel = server_udp(kPort);
  const int client = client_udp(6001);
  ASSERT_GE(kernel, 0);
  ASSERT_GE(client, 0);
  AfXdpConfig libxdp = shared_config(XdpMode::kNative);
  libxdp.attach = XdpAttach::kLibxdp;
  {
    OwnerProcess owner(net_, libxdp, kPort);
    ASSERT_TRUE(owner.ready()) << owner.error();
    EXPECT_FALSE(kernel_gets_port(kernel, client, "owned"));
    owner.kill();
  }
  // A netlink-attached program outlives its process, but its sockets left
  // the XSKMAP with it: a redirect finds no socket and passes.
  EXPECT_TRUE(xdp_attached());
  EXPECT_TRUE(kernel_gets_port(kernel, client, "after the kill"));

  {
    AfXdpOpened next = open_or_fail(shared_config(XdpMode::kNative));
    ASSERT_NE(next.backend, nullptr);
    EXPECT_EQ(next.mode_description, "native copy");  // the stale one replaced
    ASSERT_EQ(next.steering->steer(0, kPort, true), 0);
    send_udp(client, net_.server_ip, kPort, to_bytes("new owner"));
    EXPECT_EQ(receive(*next.backend, 1).size(), 1u);
  }
  EXPECT_FALSE(xdp_attached()) << server_link();
}

TEST_F(AfXdpOwnership, LibxdpAttachWay) {
  AfXdpConfig config = shared_config(XdpMode::kNative);
  config.attach = XdpAttach::kLibxdp;
  {
    AfXdpOpened opened = open_or_fail(config);
    ASSERT_NE(opened.backend, nullptr);
    // The dispatcher where the kernel lets libxdp load it; on kernels that
    // refuse its freplace programs (this sandbox), one legacy program.
    EXPECT_THAT(opened.mode_description, AnyOf("native copy, libxdp dispatcher", "native copy, libxdp legacy"));
    ASSERT_EQ(opened.steering->steer(net_.server_ip.value, kPort, true), 0);
    inject(to_server().dst_port(kPort).payload("via libxdp").udp());
    const auto frames = receive(*opened.backend, 1);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_TRUE(check_udp_frame(frames[0].bytes, {Payload("via libxdp")}));
  }
  EXPECT_FALSE(xdp_attached()) << server_link();
}

TEST_F(AfXdpOwnership, ForkChildDestroyingItsCopyDetachesNothing) {
  AfXdpOpened opened = open_or_fail(shared_config(XdpMode::kNative));
  ASSERT_NE(opened.backend, nullptr);
  ASSERT_EQ(opened.steering->steer(net_.server_ip.value, kPort, true), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    opened.backend.reset();  // a child running its exit-time destructors
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(xdp_attached());
  inject(to_server().dst_port(kPort).payload("still ours").udp());
  const auto frames = receive(*opened.backend, 1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(check_udp_frame(frames[0].bytes, {Payload("still ours")}));
}

TEST_F(AfXdpOwnership, ForkChildOutlivingAKilledOwnerHoldsNothing) {
  // A pre-fork server: the owner forks a worker that lives on (no exec)
  // and is then killed itself. Had the worker kept its copies of the XSK,
  // the bpf_link and the group's name, the port would stay black-holed
  // into the dead owner's socket and nobody could open the interface.
  add_server_address();
  const int kernel = server_udp(kPort);
  const int client = client_udp(6001);
  ASSERT_GE(kernel, 0);
  ASSERT_GE(client, 0);
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  pid_t owner = -1;
  in_netns(net_.server_ns, [&] {
    owner = ::fork();
    if (owner != 0) {
      return;
    }
    ::close(fds[0]);
    AfXdpOpened opened = open_af_xdp(shared_config(XdpMode::kNative), nullptr);
    if (!opened.backend || opened.steering->steer(0, kPort, true) != 0) {
      ::_exit(1);
    }
    const pid_t worker = ::fork();
    if (worker == 0) {
      for (;;) {
        ::pause();
      }
    }
    ::write(fds[1], &worker, sizeof(worker));
    for (;;) {
      ::pause();
    }
  });
  ::close(fds[1]);
  ASSERT_GT(owner, 0);
  pid_t worker = -1;
  pollfd pfd{fds[0], POLLIN, 0};
  const bool ready =
      ::poll(&pfd, 1, 5000) == 1 && ::read(fds[0], &worker, sizeof(worker)) == sizeof(worker) && worker > 0;
  ::close(fds[0]);
  if (!ready) {
    ::kill(owner, SIGKILL);
    ::waitpid(owner, nullptr, 0);
    FAIL() << "the owner did not get ready";
  }
  EXPECT_FALSE(kernel_gets_port(kernel, client, "owned"));
  ::kill(owner, SIGKILL);
  ::waitpid(owner, nullptr, 0);

  EXPECT_FALSE(xdp_attached()) << server_link();
  EXPECT_TRUE(kernel_gets_port(kernel, client, "after the kill"));
  {
    AfXdpOpened next = open_or_fail(shared_config(XdpMode::kNative));
    ASSERT_NE(next.backend, nullptr);
    EXPECT_EQ(next.mode_description, "native copy");  // a founder, not a member
    ASSERT_EQ(next.steering->steer(0, kPort, true), 0);
    send_udp(client, net_.server_ip, kPort, to_bytes("new owner"));
    EXPECT_EQ(receive(*next.backend, 1).size(), 1u);
  }
  ::kill(worker, SIGKILL);  // reparented: not ours to reap
}

}  // namespace
}  // namespace dpdkudp::test
