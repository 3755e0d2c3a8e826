// A reader that reads only when its wait says the socket is readable: the
// shape of most event loops. Flooded far past its receive buffer, it must
// neither go deaf nor stay asleep with data queued. Datagrams whose
// payload starts with "late" are counted apart; the program exits 0 once
// it has seen --late of them, 1 when --limit seconds pass first.
//
//   flood_reader PORT poll|epoll|epollet|select LATE LIMIT_S
//
// Level-triggered waits read one recvmmsg batch (64) per wake-up, so the
// wait must keep reporting readable while more is queued; edge-triggered
// reads until EAGAIN, as its contract requires. An ordinary POSIX program:
// it links nothing of the project's.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: flood_reader PORT poll|epoll|epollet|select LATE LIMIT_S\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string wait = argv[2];
  const long want_late = std::atol(argv[3]);
  const double limit = std::atof(argv[4]);
  if (wait != "poll" && wait != "epoll" && wait != "epollet" && wait != "select") {
    std::fprintf(stderr, "flood_reader: unknown wait '%s'\n", wait.c_str());
    return 2;
  }

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int rcvbuf = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("flood_reader: bind");
    return 2;
  }
  int ep = -1;
  if (wait == "epoll" || wait == "epollet") {
    ep = epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN | (wait == "epollet" ? static_cast<uint32_t>(EPOLLET) : 0u);
    ev.data.fd = fd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
      std::perror("flood_reader: epoll_ctl");
      return 2;
    }
  }
  std::printf("ready\n");
  std::fflush(stdout);

  constexpr int kBatch = 64;
  static char bufs[kBatch][2048];
  iovec iov[kBatch];
  mmsghdr msgs[kBatch];
  long total = 0, late = 0, wakeups = 0, empty = 0;
  const double deadline = now_s() + limit;
  while (late < want_late && now_s() < deadline) {
    int ready = 0;
    if (wait == "poll") {
      pollfd p{fd, POLLIN, 0};
      ready = poll(&p, 1, 500);
    } else if (ep >= 0) {
      epoll_event ev;
      ready = epoll_wait(ep, &ev, 1, 500);
    } else {
      fd_set r;
      FD_ZERO(&r);
      FD_SET(fd, &r);
      timeval tv{0, 500'000};
      ready = select(fd + 1, &r, nullptr, nullptr, &tv);
    }
    if (ready <= 0) continue;
    ++wakeups;
    long got = 0;
    for (;;) {
      for (int i = 0; i < kBatch; ++i) {
        iov[i] = {bufs[i], sizeof bufs[i]};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int n = recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) break;
      got += n;
      for (int i = 0; i < n; ++i) {
        if (msgs[i].msg_len >= 4 && std::memcmp(bufs[i], "late", 4) == 0) ++late;
      }
      if (wait != "epollet") break;
    }
    total += got;
    if (got == 0) ++empty;
  }
  std::printf("reader: total=%ld late=%ld wakeups=%ld empty=%ld\n", total, late, wakeups, empty);
  return late >= want_late ? 0 : 1;
}
