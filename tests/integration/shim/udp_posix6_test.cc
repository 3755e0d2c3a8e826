// Linux's AF_INET6 UDP semantics through the POSIX API: what a dual-stack
// program relies on. The same binary runs on the kernel and under the shim
// (ipv6.sh), in the server namespace, against a kernel dual-stack echo
// peer (py_dual_server.py) in the client namespace. It links no project
// library. Environment:
//   PEER6_IP, PEER_IP, PEER_PORT   the echo peer (IPv6 and IPv4 addresses)
//   LOCAL6_IP, LOCAL_IP            this namespace's addresses on that link
// Every wait is bounded (2 s).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

namespace {

constexpr int kWaitMs = 2000;

struct Env {
  in6_addr peer6{};
  in_addr peer4{};
  uint16_t port = 0;
  in6_addr local6{};
  in_addr local4{};
};

const Env& env() {
  static const Env e = [] {
    Env v;
    auto get = [](const char* name) {
      const char* s = std::getenv(name);
      if (s == nullptr) {
        std::fprintf(stderr, "udp_posix6_test: %s is not set\n", name);
        std::exit(2);
      }
      return std::string(s);
    };
    inet_pton(AF_INET6, get("PEER6_IP").c_str(), &v.peer6);
    inet_pton(AF_INET, get("PEER_IP").c_str(), &v.peer4);
    inet_pton(AF_INET6, get("LOCAL6_IP").c_str(), &v.local6);
    inet_pton(AF_INET, get("LOCAL_IP").c_str(), &v.local4);
    v.port = static_cast<uint16_t>(std::atoi(get("PEER_PORT").c_str()));
    return v;
  }();
  return e;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

Fd udp6() {
  Fd fd(::socket(AF_INET6, SOCK_DGRAM, 0));
  EXPECT_GE(fd.get(), 0) << std::strerror(errno);
  return fd;
}

sockaddr_in6 sin6(const in6_addr& a, uint16_t port) {
  sockaddr_in6 s{};
  s.sin6_family = AF_INET6;
  s.sin6_port = htons(port);
  s.sin6_addr = a;
  return s;
}

in6_addr mapped(const in_addr& a) {
  in6_addr m{};
  m.s6_addr[10] = 0xff;
  m.s6_addr[11] = 0xff;
  std::memcpy(&m.s6_addr[12], &a, 4);
  return m;
}

sockaddr* sa(sockaddr_in6& s) { return reinterpret_cast<sockaddr*>(&s); }

uint16_t port_of(int fd) {
  sockaddr_in6 s{};
  socklen_t len = sizeof s;
  EXPECT_EQ(::getsockname(fd, sa(s), &len), 0);
  return ntohs(s.sin6_port);
}

bool readable(int fd, short events = POLLIN) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, kWaitMs) == 1;
}

bool same(const in6_addr& a, const in6_addr& b) { return std::memcmp(&a, &b, sizeof a) == 0; }

std::string text(const in6_addr& a) {
  char buf[INET6_ADDRSTRLEN];
  return inet_ntop(AF_INET6, &a, buf, sizeof buf);
}

// Under the shim with DPDKUDP_WAIT=thread an ICMP error makes the fd
// readable instead of raising POLLERR (docs/compatibility.md, known
// differences): the error-queue test then waits for POLLIN.
bool thread_model() {
  const char* mode = std::getenv("UDP_TEST_MODE");
  const char* wait = std::getenv("DPDKUDP_WAIT");
  return mode != nullptr && std::strcmp(mode, "shim") == 0 && wait != nullptr && std::strcmp(wait, "thread") == 0;
}

// A port on the peer nothing listens on.
constexpr uint16_t kClosedPort = 9;

TEST(Socket6, V6OnlyIsOffByDefaultAndSettableOnlyBeforeBind) {
  Fd fd = udp6();
  int v = -1;
  socklen_t len = sizeof v;
  ASSERT_EQ(::getsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v, &len), 0);
  EXPECT_EQ(v, 0);  // net.ipv6.bindv6only = 0
  int one = 1;
  ASSERT_EQ(::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
  sockaddr_in6 any = sin6(in6addr_any, 0);
  ASSERT_EQ(::bind(fd.get(), sa(any), sizeof any), 0);
  int zero = 0;
  EXPECT_EQ(::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST(Bind6, DualStackWildcardHoldsTheIpv4PortAndV6OnlyDoesNot) {
  Fd dual = udp6();
  sockaddr_in6 any = sin6(in6addr_any, 0);
  ASSERT_EQ(::bind(dual.get(), sa(any), sizeof any), 0);
  const uint16_t port = port_of(dual.get());
  Fd v4(::socket(AF_INET, SOCK_DGRAM, 0));
  sockaddr_in a4{};
  a4.sin_family = AF_INET;
  a4.sin_port = htons(port);
  EXPECT_EQ(::bind(v4.get(), reinterpret_cast<sockaddr*>(&a4), sizeof a4), -1);
  EXPECT_EQ(errno, EADDRINUSE);

  Fd only6 = udp6();
  int one = 1;
  ASSERT_EQ(::setsockopt(only6.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
  ASSERT_EQ(::bind(only6.get(), sa(any), sizeof any), 0);
  Fd v4b(::socket(AF_INET, SOCK_DGRAM, 0));
  a4.sin_port = htons(port_of(only6.get()));
  EXPECT_EQ(::bind(v4b.get(), reinterpret_cast<sockaddr*>(&a4), sizeof a4), 0) << std::strerror(errno);
}

TEST(Bind6, BadLengthFamilyAndAddress) {
  Fd fd = udp6();
  sockaddr_in6 any = sin6(in6addr_any, 0);
  EXPECT_EQ(::bind(fd.get(), sa(any), 23), -1);
  EXPECT_EQ(errno, EINVAL);
  sockaddr_in6 wrong = any;
  wrong.sin6_family = AF_INET;
  EXPECT_EQ(::bind(fd.get(), sa(wrong), sizeof wrong), -1);
  EXPECT_EQ(errno, EAFNOSUPPORT);
  in6_addr foreign{};
  inet_pton(AF_INET6, "2001:2:ffff::99", &foreign);
  sockaddr_in6 f = sin6(foreign, 0);
  EXPECT_EQ(::bind(fd.get(), sa(f), sizeof f), -1);
  EXPECT_EQ(errno, EADDRNOTAVAIL);
  // A v4-mapped address on an IPV6_V6ONLY socket.
  Fd only6 = udp6();
  int one = 1;
  ASSERT_EQ(::setsockopt(only6.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
  sockaddr_in6 m = sin6(mapped(env().local4), 0);
  EXPECT_EQ(::bind(only6.get(), sa(m), sizeof m), -1);
  EXPECT_EQ(errno, EINVAL);
  // The RFC 2133 length (24 bytes, no scope id) is enough.
  Fd short_form = udp6();
  sockaddr_in6 l = sin6(env().local6, 0);
  EXPECT_EQ(::bind(short_form.get(), sa(l), 24), 0) << std::strerror(errno);
}

TEST(Connect6, FillsInTheLocalAddressAndThePeer) {
  Fd fd = udp6();
  sockaddr_in6 peer = sin6(env().peer6, env().port);
  ASSERT_EQ(::connect(fd.get(), sa(peer), sizeof peer), 0) << std::strerror(errno);
  sockaddr_in6 name{};
  socklen_t len = sizeof name;
  ASSERT_EQ(::getsockname(fd.get(), sa(name), &len), 0);
  EXPECT_EQ(len, sizeof(sockaddr_in6));
  EXPECT_TRUE(same(name.sin6_addr, env().local6)) << text(name.sin6_addr);
  EXPECT_NE(name.sin6_port, 0);
  sockaddr_in6 p{};
  len = sizeof p;
  ASSERT_EQ(::getpeername(fd.get(), sa(p), &len), 0);
  EXPECT_TRUE(same(p.sin6_addr, env().peer6));
  EXPECT_EQ(ntohs(p.sin6_port), env().port);
}

TEST(Connect6, ToAnIpv4PeerShowsV4MappedNames) {
  Fd fd = udp6();
  sockaddr_in6 peer = sin6(mapped(env().peer4), env().port);
  ASSERT_EQ(::connect(fd.get(), sa(peer), sizeof peer), 0) << std::strerror(errno);
  sockaddr_in6 name{};
  socklen_t len = sizeof name;
  ASSERT_EQ(::getsockname(fd.get(), sa(name), &len), 0);
  EXPECT_EQ(name.sin6_family, AF_INET6);
  EXPECT_TRUE(same(name.sin6_addr, mapped(env().local4))) << text(name.sin6_addr);
  const char ping[] = "mapped";
  ASSERT_EQ(::send(fd.get(), ping, sizeof ping, 0), static_cast<ssize_t>(sizeof ping));
  ASSERT_TRUE(readable(fd.get()));
  char buf[64];
  EXPECT_EQ(::recv(fd.get(), buf, sizeof buf, 0), static_cast<ssize_t>(sizeof ping));
  // On an IPV6_V6ONLY socket an IPv4 peer is unreachable.
  Fd only6 = udp6();
  int one = 1;
  ASSERT_EQ(::setsockopt(only6.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
  EXPECT_EQ(::connect(only6.get(), sa(peer), sizeof peer), -1);
  EXPECT_EQ(errno, ENETUNREACH);
}

TEST(SendRecv6, OneSocketServesBothFamilies) {
  Fd fd = udp6();
  sockaddr_in6 any = sin6(in6addr_any, 0);
  ASSERT_EQ(::bind(fd.get(), sa(any), sizeof any), 0);
  for (const in6_addr& to : {env().peer6, mapped(env().peer4)}) {
    sockaddr_in6 peer = sin6(to, env().port);
    const char msg[] = "both families";
    ASSERT_EQ(::sendto(fd.get(), msg, sizeof msg, 0, sa(peer), sizeof peer), static_cast<ssize_t>(sizeof msg))
        << text(to) << ": " << std::strerror(errno);
    ASSERT_TRUE(readable(fd.get())) << text(to);
    char buf[64];
    sockaddr_in6 from{};
    socklen_t len = sizeof from;
    ASSERT_EQ(::recvfrom(fd.get(), buf, sizeof buf, 0, sa(from), &len), static_cast<ssize_t>(sizeof msg));
    EXPECT_EQ(len, sizeof(sockaddr_in6));
    EXPECT_EQ(from.sin6_family, AF_INET6);
    EXPECT_TRUE(same(from.sin6_addr, to)) << text(from.sin6_addr);
    EXPECT_EQ(ntohs(from.sin6_port), env().port);
  }
}

TEST(SendRecv6, SendtoTakesAfInetAndRejectsShortAddresses) {
  Fd fd = udp6();
  sockaddr_in to4{};
  to4.sin_family = AF_INET;
  to4.sin_port = htons(env().port);
  to4.sin_addr = env().peer4;
  const char msg[] = "af_inet on af_inet6";
  ASSERT_EQ(::sendto(fd.get(), msg, sizeof msg, 0, reinterpret_cast<sockaddr*>(&to4), sizeof to4),
            static_cast<ssize_t>(sizeof msg))
      << std::strerror(errno);
  ASSERT_TRUE(readable(fd.get()));
  char buf[64];
  EXPECT_EQ(::recv(fd.get(), buf, sizeof buf, 0), static_cast<ssize_t>(sizeof msg));
  sockaddr_in6 peer = sin6(env().peer6, env().port);
  EXPECT_EQ(::sendto(fd.get(), msg, sizeof msg, 0, sa(peer), 20), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST(SendRecv6, ControlMessagesDescribeTheDatagram) {
  Fd fd = udp6();
  int one = 1;
  ASSERT_EQ(::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one), 0);
  ASSERT_EQ(::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one), 0);
  ASSERT_EQ(::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof one), 0);
  sockaddr_in6 peer = sin6(env().peer6, env().port);
  const char msg[] = "cmsg";
  ASSERT_EQ(::sendto(fd.get(), msg, sizeof msg, 0, sa(peer), sizeof peer), static_cast<ssize_t>(sizeof msg));
  ASSERT_TRUE(readable(fd.get()));
  char buf[64];
  iovec iov{buf, sizeof buf};
  alignas(cmsghdr) char control[256];
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  ASSERT_EQ(::recvmsg(fd.get(), &m, 0), static_cast<ssize_t>(sizeof msg));
  bool pktinfo = false;
  bool hops = false;
  bool tclass = false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
    ASSERT_EQ(c->cmsg_level, IPPROTO_IPV6);
    if (c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo pi;
      std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
      EXPECT_TRUE(same(pi.ipi6_addr, env().local6)) << text(pi.ipi6_addr);
      EXPECT_NE(pi.ipi6_ifindex, 0u);
      pktinfo = true;
    } else if (c->cmsg_type == IPV6_HOPLIMIT) {
      int h = 0;
      std::memcpy(&h, CMSG_DATA(c), sizeof h);
      EXPECT_EQ(h, 64);
      hops = true;
    } else if (c->cmsg_type == IPV6_TCLASS) {
      int t = -1;
      std::memcpy(&t, CMSG_DATA(c), sizeof t);
      EXPECT_EQ(t, 0);
      tclass = true;
    }
  }
  EXPECT_TRUE(pktinfo && hops && tclass);
}

TEST(SendRecv6, PktinfoOnSendNamesTheSource) {
  Fd fd = udp6();
  sockaddr_in6 peer = sin6(env().peer6, env().port);
  auto send_from = [&](const in6_addr& src) {
    const char msg[] = "pktinfo";
    iovec iov{const_cast<char*>(msg), sizeof msg};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
    msghdr m{};
    m.msg_name = &peer;
    m.msg_namelen = sizeof peer;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
    in6_pktinfo pi{};
    pi.ipi6_addr = src;
    std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
    return ::sendmsg(fd.get(), &m, 0);
  };
  ASSERT_EQ(send_from(env().local6), static_cast<ssize_t>(sizeof "pktinfo")) << std::strerror(errno);
  ASSERT_TRUE(readable(fd.get()));
  char buf[64];
  EXPECT_EQ(::recv(fd.get(), buf, sizeof buf, 0), static_cast<ssize_t>(sizeof "pktinfo"));
  in6_addr foreign{};
  inet_pton(AF_INET6, "2001:2:ffff::99", &foreign);
  EXPECT_EQ(send_from(foreign), -1);
  EXPECT_EQ(errno, EINVAL);
}

TEST(Options6, HopsAndTrafficClassRoundTrip) {
  Fd fd = udp6();
  int hops = 7;
  ASSERT_EQ(::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops), 0);
  int got = 0;
  socklen_t len = sizeof got;
  ASSERT_EQ(::getsockopt(fd.get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS, &got, &len), 0);
  EXPECT_EQ(got, 7);
  hops = -1;  // the route's default
  ASSERT_EQ(::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops), 0);
  ASSERT_EQ(::getsockopt(fd.get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS, &got, &len), 0);
  EXPECT_EQ(got, 64);
  hops = 256;
  EXPECT_EQ(::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops), -1);
  EXPECT_EQ(errno, EINVAL);
  int tclass = 0x20;
  ASSERT_EQ(::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_TCLASS, &tclass, sizeof tclass), 0);
  ASSERT_EQ(::getsockopt(fd.get(), IPPROTO_IPV6, IPV6_TCLASS, &got, &len), 0);
  EXPECT_EQ(got, 0x20);
}

TEST(SendRecv6, PeekThenTruncate) {
  Fd fd = udp6();
  sockaddr_in6 peer = sin6(env().peer6, env().port);
  ASSERT_EQ(::connect(fd.get(), sa(peer), sizeof peer), 0);
  const char msg[] = "0123456789abcdef";
  ASSERT_EQ(::send(fd.get(), msg, sizeof msg, 0), static_cast<ssize_t>(sizeof msg));
  ASSERT_TRUE(readable(fd.get()));
  char buf[8];
  EXPECT_EQ(::recv(fd.get(), buf, sizeof buf, MSG_PEEK), static_cast<ssize_t>(sizeof buf));
  EXPECT_EQ(::recv(fd.get(), buf, sizeof buf, MSG_TRUNC), static_cast<ssize_t>(sizeof msg));
  EXPECT_EQ(std::memcmp(buf, msg, sizeof buf), 0);
  EXPECT_EQ(::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST(Errors6, PortUnreachableIsConnectionRefusedOnAConnectedSocket) {
  Fd fd = udp6();
  sockaddr_in6 closed = sin6(env().peer6, kClosedPort);
  ASSERT_EQ(::connect(fd.get(), sa(closed), sizeof closed), 0);
  const char msg[] = "anyone?";
  ASSERT_EQ(::send(fd.get(), msg, sizeof msg, 0), static_cast<ssize_t>(sizeof msg));
  ASSERT_TRUE(readable(fd.get(), POLLIN | POLLERR));
  char buf[16];
  EXPECT_EQ(::recv(fd.get(), buf, sizeof buf, 0), -1);
  EXPECT_EQ(errno, ECONNREFUSED);
}

TEST(Errors6, RecvErrQueuesTheIcmpv6Error) {
  Fd fd = udp6();
  int one = 1;
  ASSERT_EQ(::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one), 0);
  sockaddr_in6 closed = sin6(env().peer6, kClosedPort);
  const char msg[] = "anyone?";
  ASSERT_EQ(::sendto(fd.get(), msg, sizeof msg, 0, sa(closed), sizeof closed), static_cast<ssize_t>(sizeof msg));
  ASSERT_TRUE(readable(fd.get(), thread_model() ? POLLIN : 0));  // POLLERR is always reported
  char buf[64];
  iovec iov{buf, sizeof buf};
  alignas(cmsghdr) char control[256];
  sockaddr_in6 name{};
  msghdr m{};
  m.msg_name = &name;
  m.msg_namelen = sizeof name;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  ASSERT_GE(::recvmsg(fd.get(), &m, MSG_ERRQUEUE), 0) << std::strerror(errno);
  EXPECT_NE(m.msg_flags & MSG_ERRQUEUE, 0);
  EXPECT_EQ(name.sin6_family, AF_INET6);
  EXPECT_EQ(ntohs(name.sin6_port), kClosedPort);
  cmsghdr* c = CMSG_FIRSTHDR(&m);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->cmsg_level, IPPROTO_IPV6);
  EXPECT_EQ(c->cmsg_type, IPV6_RECVERR);
  sock_extended_err ee;
  std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
  EXPECT_EQ(ee.ee_errno, static_cast<uint32_t>(ECONNREFUSED));
  EXPECT_EQ(ee.ee_origin, SO_EE_ORIGIN_ICMP6);
  EXPECT_EQ(ee.ee_type, 1);  // destination unreachable
  EXPECT_EQ(ee.ee_code, 4);  // port unreachable
  sockaddr_in6 offender;
  std::memcpy(&offender, SO_EE_OFFENDER(reinterpret_cast<sock_extended_err*>(CMSG_DATA(c))), sizeof offender);
  EXPECT_EQ(offender.sin6_family, AF_INET6);
  EXPECT_TRUE(same(offender.sin6_addr, env().peer6)) << text(offender.sin6_addr);
}

}  // namespace
