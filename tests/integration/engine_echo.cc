// engine_echo: a UDP echo server on the engine (no shim): the server side
// of the integration tests. Configuration comes from DPDKUDP_CONFIG and the
// environment. Prints "ready <banner>" once serving; on SIGTERM prints the
// neighbour table and the counters, then exits 0.
//
// It blocks in poll(2) on an eventfd that the socket rings on the
// empty -> non-empty transition: the doorbell the shim will hand to apps.
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/engine.h"
#include "stack/net/counters.h"

using namespace dpdkudp;

namespace {

volatile sig_atomic_t g_stop = 0;
int g_stop_fd = -1;

void on_signal(int) {
  g_stop = 1;
  uint64_t one = 1;
  ssize_t ignored = write(g_stop_fd, &one, sizeof one);
  (void)ignored;
}

class EventfdDoorbell : public stack::SocketNotifier {
 public:
  explicit EventfdDoorbell(int fd) : fd_(fd) {}
  void ring() override {
    uint64_t one = 1;
    ssize_t ignored = write(fd_, &one, sizeof one);
    (void)ignored;
  }
  void clear() override {
    uint64_t v;
    ssize_t ignored = read(fd_, &v, sizeof v);
    (void)ignored;
  }

 private:
  int fd_;
};

const char* state_name(stack::NeighborState s) {
  switch (s) {
    case stack::NeighborState::kEmpty: return "empty";
    case stack::NeighborState::kIncomplete: return "incomplete";
    case stack::NeighborState::kReachable: return "reachable";
    case stack::NeighborState::kStale: return "stale";
    case stack::NeighborState::kFailed: return "failed";
    case stack::NeighborState::kPermanent: return "permanent";
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  int port = std::atoi(argv[1]);
  auto config = engine::load_config_from_process();
  if (!config) {
    std::fprintf(stderr, "%s\n", config.error().message().c_str());
    return 2;
  }
  std::string error;
  auto eng = engine::Engine::start(config.value(), &error);
  if (!eng) {
    std::fprintf(stderr, "dpdkudp: %s\n", error.c_str());
    return 2;
  }
  g_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int bell_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);

  stack::UdpSocket* s = eng->stack().open_udp();
  EventfdDoorbell bell(bell_fd);
  s->set_notifier(&bell);
  if (int rc = s->bind({wire::Ipv4Addr::any(), static_cast<uint16_t>(port)}); rc != 0) {
    std::fprintf(stderr, "bind: %d\n", rc);
    return 2;
  }
  std::printf("ready %s\n", eng->banner().c_str());
  std::fflush(stdout);

  constexpr size_t kBatch = 32;
  static char bufs[kBatch][2048];
  iovec iovs[kBatch];
  stack::RecvInfo infos[kBatch];
  stack::UdpSocket::RecvSlot in[kBatch];
  stack::UdpSocket::SendSlot out[kBatch];
  iovec out_iovs[kBatch];
  for (size_t i = 0; i < kBatch; ++i) {
    iovs[i] = {bufs[i], sizeof bufs[i]};
    in[i].iov = {&iovs[i], 1};
    in[i].info = &infos[i];
  }
  uint64_t echoed = 0;
  while (!g_stop) {
    pollfd fds[2] = {{bell_fd, POLLIN, 0}, {g_stop_fd, POLLIN, 0}};
    if (!s->readable() && poll(fds, 2, -1) < 0) continue;
    int64_t n = s->recv_batch(in, 0);
    if (n <= 0) continue;
    for (int64_t i = 0; i < n; ++i) {
      out_iovs[i] = {bufs[i], static_cast<size_t>(in[i].result)};
      out[i].iov = {&out_iovs[i], 1};
      out[i].dst = &infos[i].source;
    }
    int64_t sent = s->send_batch({out, static_cast<size_t>(n)});
    if (sent > 0) echoed += static_cast<uint64_t>(sent);
  }

  for (const auto& e : eng->stack().neighbors().snapshot()) {
    std::printf("neighbor %s %s %s\n", e.ip.to_string().c_str(), wire::mac_to_string(e.mac).c_str(),
                state_name(e.state));
  }
  auto c = eng->stack().counters();
  std::printf("counter echoed %llu\n", static_cast<unsigned long long>(echoed));
  std::printf("counter rx_frames %llu\ncounter tx_frames %llu\ncounter udp_delivered %llu\n",
              static_cast<unsigned long long>(c.rx_frames), static_cast<unsigned long long>(c.tx_frames),
              static_cast<unsigned long long>(c.udp_delivered));
  std::printf("counter icmp_echo_replies %llu\ncounter icmp_unreach_sent %llu\ncounter arp_replies_sent %llu\n",
              static_cast<unsigned long long>(c.icmp_echo_replies),
              static_cast<unsigned long long>(c.icmp_unreach_sent),
              static_cast<unsigned long long>(c.arp_replies_sent));
  for (size_t i = 0; i < stack::kDropReasonCount; ++i) {
    if (c.drops[i] != 0) {
      std::printf("drop %s %llu\n", std::string(stack::drop_reason_name(static_cast<stack::DropReason>(i))).c_str(),
                  static_cast<unsigned long long>(c.drops[i]));
    }
  }
  std::fflush(stdout);
  s->close();
  eng.reset();
  return 0;
}
