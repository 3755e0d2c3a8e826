// libevent as the program under test: an EV_READ|EV_PERSIST event on a
// non-blocking UDP socket, recvfrom/sendto in its callback; a server that
// echoes and a client that checks every echo (loop_common.h has the command
// line). An ordinary libevent program: it links nothing of the project's.
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "loop_common.h"

namespace {

constexpr int kDrainMax = 64;  // datagrams read per callback (level-triggered: the rest come next time)

struct State {
  event_base* base = nullptr;
  int fd = -1;
  event* window_timer = nullptr;
  loops::Client* client = nullptr;
  sockaddr_in server{};
  long echoed = 0;
  int status = 1;
  bool failed = false;
};

void fail(State& st, const std::string& why) {
  std::fprintf(stderr, "loop_libevent: %s\n", why.c_str());
  st.status = 1;
  st.failed = true;
  event_base_loopbreak(st.base);
}

void on_server_read(evutil_socket_t fd, short, void* arg) {
  auto& st = *static_cast<State*>(arg);
  static char buf[65536];
  for (int i = 0; i < kDrainMax; ++i) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) {
        std::fprintf(stderr, "loop_libevent: recvfrom: %s\n", std::strerror(errno));
      }
      return;
    }
    if (::sendto(fd, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len) == n) {
      ++st.echoed;
    } else {
      std::fprintf(stderr, "loop_libevent: sendto: %s\n", std::strerror(errno));
    }
  }
}

void stop_loop(evutil_socket_t, short, void* arg) { event_base_loopbreak(static_cast<State*>(arg)->base); }

int open_socket(int port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int run_server(State& st, const loops::Args& a) {
  st.fd = open_socket(a.port);
  if (st.fd < 0) {
    std::perror("loop_libevent: server socket");
    return 1;
  }
  event* rd = event_new(st.base, st.fd, EV_READ | EV_PERSIST, on_server_read, &st);
  event* term = evsignal_new(st.base, SIGTERM, stop_loop, &st);
  event* life = evtimer_new(st.base, stop_loop, &st);
  const timeval lifetime{static_cast<time_t>(a.lifetime_s), 0};
  if (rd == nullptr || term == nullptr || life == nullptr || event_add(rd, nullptr) != 0 ||
      event_add(term, nullptr) != 0 || event_add(life, &lifetime) != 0) {
    std::fprintf(stderr, "loop_libevent: event setup failed\n");
    return 1;
  }
  std::printf("ready libevent %s (%s)\n", event_get_version(), event_base_get_method(st.base));
  std::fflush(stdout);
  event_base_dispatch(st.base);
  std::printf("echoed %ld\n", st.echoed);
  event_free(rd);
  event_free(term);
  event_free(life);
  ::close(st.fd);
  return 0;
}

// ---- client -----------------------------------------------------------------

void send_window(State& st) {
  if (st.client->past_deadline()) {
    fail(st, "deadline passed after " + std::to_string(st.client->received()) + " echoes");
    return;
  }
  for (const std::string& p : st.client->next_window()) {
    if (::sendto(st.fd, p.data(), p.size(), 0, reinterpret_cast<const sockaddr*>(&st.server), sizeof st.server) !=
        static_cast<ssize_t>(p.size())) {
      fail(st, std::string("sendto: ") + std::strerror(errno));
      return;
    }
  }
  const timeval bound{0, loops::kWindowTimeoutMs * 1000};
  event_add(st.window_timer, &bound);  // re-adding restarts it
}

void on_client_read(evutil_socket_t fd, short, void* arg) {
  auto& st = *static_cast<State*>(arg);
  char buf[2048];
  for (int i = 0; i < kDrainMax; ++i) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) fail(st, std::string("recv: ") + std::strerror(errno));
      return;
    }
    const std::string why = st.client->accept(std::string_view(buf, static_cast<size_t>(n)));
    if (!why.empty()) {
      fail(st, why);
      return;
    }
    if (st.client->finished()) {
      std::printf("client: %u datagrams intact in %.2f s\n", st.client->received(), st.client->elapsed_s());
      st.status = 0;
      event_base_loopbreak(st.base);
      return;
    }
    if (st.client->window_done()) send_window(st);
  }
}

void on_window_timeout(evutil_socket_t, short, void* arg) {
  auto& st = *static_cast<State*>(arg);
  fail(st, "no echo of datagram(s) " + st.client->missing() + " within 1 s");
}

int run_client(State& st, const loops::Args& a) {
  loops::Client client(a.count, a.window);
  st.client = &client;
  st.server.sin_family = AF_INET;
  st.server.sin_port = htons(static_cast<uint16_t>(a.port));
  if (::inet_pton(AF_INET, a.host.c_str(), &st.server.sin_addr) != 1) {
    std::fprintf(stderr, "loop_libevent: bad address %s\n", a.host.c_str());
    return 2;
  }
  st.fd = open_socket(0);
  if (st.fd < 0) {
    std::perror("loop_libevent: client socket");
    return 1;
  }
  event* rd = event_new(st.base, st.fd, EV_READ | EV_PERSIST, on_client_read, &st);
  st.window_timer = evtimer_new(st.base, on_window_timeout, &st);
  if (rd == nullptr || st.window_timer == nullptr || event_add(rd, nullptr) != 0) {
    std::fprintf(stderr, "loop_libevent: event setup failed\n");
    return 1;
  }
  send_window(st);
  if (!st.failed) event_base_dispatch(st.base);  // a loopbreak before dispatch would be forgotten
  event_free(rd);
  event_free(st.window_timer);
  ::close(st.fd);
  return st.status;
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = loops::parse_args(argc, argv);
  if (!args) return loops::usage("loop_libevent");
  State st;
  st.base = event_base_new();
  if (st.base == nullptr) {
    std::fprintf(stderr, "loop_libevent: event_base_new failed\n");
    return 1;
  }
  const int status = args->server ? run_server(st, *args) : run_client(st, *args);
  event_base_free(st.base);
  return status;
}
