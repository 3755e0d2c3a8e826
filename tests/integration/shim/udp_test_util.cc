#include "udp_test_util.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace udptest {
namespace {

// A backstop so that no test can hang the run: each test gets kTestLimitS
// seconds (SIGALRM), after which the process says which test and exits.
constexpr unsigned kTestLimitS = 30;
char g_running[256] = "?";

void on_test_timeout(int) {
  static const char msg[] = "\nudp_posix_test: test ran over its time limit, aborting: ";
  ssize_t ignored = ::write(2, msg, sizeof msg - 1);
  ignored = ::write(2, g_running, std::strlen(g_running));
  ignored = ::write(2, "\n", 1);
  (void)ignored;
  ::_exit(3);
}

class Watchdog : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo& info) override {
    std::snprintf(g_running, sizeof g_running, "%s.%s", info.test_suite_name(), info.name());
    struct sigaction sa {};
    sa.sa_handler = on_test_timeout;
    ::sigaction(SIGALRM, &sa, nullptr);
    ::alarm(kTestLimitS);
  }
  void OnTestEnd(const ::testing::TestInfo&) override { ::alarm(0); }
};

const bool g_watchdog_installed = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new Watchdog);
  return true;
}();

const char* required(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    std::fprintf(stderr, "udp_posix_test: set %s (see tests/integration/shim/posix.sh)\n", name);
    std::exit(2);
  }
  return v;
}

in_addr parse_ip(const char* name) {
  in_addr a{};
  if (inet_pton(AF_INET, required(name), &a) != 1) {
    std::fprintf(stderr, "udp_posix_test: %s is not an IPv4 address\n", name);
    std::exit(2);
  }
  return a;
}

Env load_env() {
  Env e;
  const int port = std::atoi(required("PEER_PORT"));
  if (port <= 0 || port >= 65535) {
    std::fprintf(stderr, "udp_posix_test: bad PEER_PORT\n");
    std::exit(2);
  }
  const in_addr peer = parse_ip("PEER_IP");
  e.peer = make_addr(peer, static_cast<uint16_t>(port));
  e.peer2 = make_addr(peer, static_cast<uint16_t>(port + 1));
  e.local = parse_ip("LOCAL_IP");
  if (const char* p = std::getenv("LOCAL_PREFIX"); p != nullptr) {
    const int prefix = std::atoi(p);
    if (prefix < 1 || prefix > 30) {
      std::fprintf(stderr, "udp_posix_test: bad LOCAL_PREFIX\n");
      std::exit(2);
    }
    e.local_prefix = static_cast<unsigned>(prefix);
  }
  if (const char* i = std::getenv("LOCAL_IFACE"); i != nullptr) {
    e.local_iface = i;
  }
  return e;
}

}  // namespace

bool thread_model() {
  const char* w = std::getenv("DPDKUDP_WAIT");
  return under_shim() && w != nullptr && std::string_view(w) == "thread";
}

bool under_shim() {
  const char* m = std::getenv("UDP_TEST_MODE");
  return m != nullptr && std::string(m) == "shim";
}

const Env& env() {
  static const Env e = load_env();
  return e;
}

Fd udp_socket(int flags, int protocol) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | flags, protocol);
  EXPECT_GE(fd, 0) << "socket: " << std::strerror(errno);
  return Fd(fd);
}

sockaddr_in make_addr(in_addr ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr = ip;
  return a;
}

sockaddr_in make_addr(const char* ip, uint16_t port) {
  in_addr a{};
  EXPECT_EQ(inet_pton(AF_INET, ip, &a), 1) << ip;
  return make_addr(a, port);
}

sockaddr_in any_addr(uint16_t port) { return make_addr(in_addr{htonl(INADDR_ANY)}, port); }
sockaddr_in loopback_addr(uint16_t port) { return make_addr(in_addr{htonl(INADDR_LOOPBACK)}, port); }

std::string to_string(const sockaddr_in& a) {
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
  return std::string(buf) + ":" + std::to_string(ntohs(a.sin_port)) +
         (a.sin_family == AF_INET ? "" : " (family " + std::to_string(a.sin_family) + ")");
}

bool same_endpoint(const sockaddr_in& a, const sockaddr_in& b) {
  return a.sin_family == b.sin_family && a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr;
}

int bind_to(int fd, const sockaddr_in& a) { return ::bind(fd, sa(&a), sizeof a); }
int connect_to(int fd, const sockaddr_in& a) { return ::connect(fd, sa(&a), sizeof a); }

sockaddr_in local_name(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  EXPECT_EQ(::getsockname(fd, sa(&a), &len), 0) << std::strerror(errno);
  EXPECT_EQ(len, sizeof a);
  return a;
}

uint16_t local_port(int fd) { return ntohs(local_name(fd).sin_port); }

short wait_for(int fd, short events, int ms) {
  pollfd p{fd, events, 0};
  const int n = ::poll(&p, 1, ms);
  return n > 0 ? p.revents : 0;
}

bool readable(int fd, int ms) { return (wait_for(fd, POLLIN, ms) & POLLIN) != 0; }

bool send_to(int fd, std::string_view payload, const sockaddr_in& to) {
  const ssize_t n = ::sendto(fd, payload.data(), payload.size(), 0, sa(&to), sizeof to);
  EXPECT_EQ(n, static_cast<ssize_t>(payload.size())) << "sendto " << to_string(to) << ": " << std::strerror(errno);
  return n == static_cast<ssize_t>(payload.size());
}

std::optional<std::string> recv_one(int fd, int ms, sockaddr_in* from) {
  if (!readable(fd, ms)) {
    return std::nullopt;
  }
  std::string buf(65536, '\0');
  sockaddr_in a{};
  socklen_t len = sizeof a;
  const ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), MSG_DONTWAIT, sa(&a), &len);
  if (n < 0) {
    ADD_FAILURE() << "recvfrom after POLLIN: " << std::strerror(errno);
    return std::nullopt;
  }
  if (from != nullptr) {
    *from = a;
  }
  buf.resize(static_cast<size_t>(n));
  return buf;
}

std::optional<std::string> echo_via(int fd, std::string_view payload, const sockaddr_in& peer) {
  if (!send_to(fd, payload, peer)) {
    return std::nullopt;
  }
  return recv_one(fd);
}

std::optional<std::string> echo(int fd, std::string_view payload) { return echo_via(fd, payload, env().peer); }

std::string peer_command(std::string_view opts, std::string_view payload) {
  std::string s = "@@dpdkudp:";
  s += opts;
  s += ';';
  s += payload;
  return s;
}

std::string pattern(size_t size, unsigned seed) {
  std::string s(size, '\0');
  for (size_t k = 0; k < size; ++k) {
    s[k] = static_cast<char>((seed * 7u + k * 13u + 1u) & 0xffu);
  }
  return s;
}

std::pair<int, int> ephemeral_range() {
  std::ifstream f("/proc/sys/net/ipv4/ip_local_port_range");
  int lo = 0;
  int hi = 0;
  f >> lo >> hi;
  EXPECT_GT(lo, 0);
  EXPECT_GE(hi, lo);
  return {lo, hi};
}

double monotonic_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace udptest
