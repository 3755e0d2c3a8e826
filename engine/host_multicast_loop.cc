#include "engine/host_multicast_loop.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/clock.h"
#include "engine/log.h"

namespace dpdkudp::engine {

namespace {

constexpr uint64_t kRefreshNs = 100'000'000;
constexpr uint64_t kForgetNs = 1'000'000'000;
constexpr size_t kIpv4TtlOffset = 8;
constexpr size_t kIpv6HopLimitOffset = 7;
constexpr size_t kIpv6HeaderLen = 40;

std::string read_text(const char* path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

HostMulticastLoopImpl::HostMulticastLoopImpl(std::string iface, int ifindex)
    : iface_(std::move(iface)), ifindex_(ifindex) {}

HostMulticastLoopImpl::~HostMulticastLoopImpl() {
  if (fd4_ >= 0) ::close(fd4_);
  if (fd6_ >= 0) ::close(fd6_);
}

// /proc/net/igmp: an interface's line ("2\teth0      :     2      V3"), then
// one indented line per group ("\t\t\t\t010000E0     1 0:00000000\t\t0"),
// the address as the hex of its network-order bytes read as a host word.
std::vector<stack::Ipv4Addr> HostMulticastLoopImpl::parse_igmp(const std::string& text, const std::string& iface) {
  std::vector<stack::Ipv4Addr> out;
  std::istringstream in(text);
  bool ours = false;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (line[0] != '\t' && line[0] != ' ') {
      std::istringstream words(line);
      std::string index, name;
      words >> index >> name;
      if (!name.empty() && name.back() == ':') name.pop_back();  // a 10-character name or longer
      ours = name == iface;
      continue;
    }
    if (!ours) continue;
    std::istringstream words(line);
    std::string hex;
    words >> hex;
    if (hex.size() != 8) continue;
    uint32_t raw = 0;
    bool ok = true;
    for (char c : hex) {
      const int d = hex_digit(c);
      ok = ok && d >= 0;
      raw = raw << 4 | static_cast<uint32_t>(d < 0 ? 0 : d);
    }
    if (ok) out.push_back(stack::Ipv4Addr(ntohl(raw)));
  }
  return out;
}

// /proc/net/igmp6: "2    eth0            ff020000000000000000000000000001     1 0000000C 0".
std::vector<stack::Ipv6Addr> HostMulticastLoopImpl::parse_igmp6(const std::string& text, const std::string& iface) {
  std::vector<stack::Ipv6Addr> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string index, name, hex;
    words >> index >> name >> hex;
    if (name != iface || hex.size() != 32) continue;
    std::array<uint8_t, 16> bytes{};
    bool ok = true;
    for (size_t i = 0; i < 16; ++i) {
      const int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
      ok = ok && hi >= 0 && lo >= 0;
      bytes[i] = static_cast<uint8_t>((hi < 0 ? 0 : hi) << 4 | (lo < 0 ? 0 : lo));
    }
    if (ok) out.push_back(stack::Ipv6Addr(bytes));
  }
  return out;
}

HostMulticastLoopImpl::Groups HostMulticastLoopImpl::read_groups() const {
  return {parse_igmp(read_text("/proc/net/igmp"), iface_), parse_igmp6(read_text("/proc/net/igmp6"), iface_)};
}

void HostMulticastLoopImpl::store(Groups groups, uint64_t now_ns) {
  // Caller holds lock_.
  groups_ = std::move(groups);
  read_ns_ = std::max<uint64_t>(now_ns, 1);
}

const HostMulticastLoopImpl::Groups& HostMulticastLoopImpl::asked() {
  // Caller holds lock_. Never read, or forgotten: read at once, on the
  // sending thread (two small files); the tick keeps it fresh after.
  if (!asked_.load(std::memory_order_relaxed)) asked_.store(true, std::memory_order_relaxed);
  if (read_ns_ == 0) store(read_groups(), base::monotonic_now_ns());
  return groups_;
}

bool HostMulticastLoopImpl::kernel_member(stack::Ipv4Addr group) {
  std::lock_guard guard(lock_);
  const std::vector<stack::Ipv4Addr>& v4 = asked().v4;
  return std::find(v4.begin(), v4.end(), group) != v4.end();
}

bool HostMulticastLoopImpl::kernel_member6(const stack::Ipv6Addr& group) {
  std::lock_guard guard(lock_);
  const std::vector<stack::Ipv6Addr>& v6 = asked().v6;
  return std::find(v6.begin(), v6.end(), group) != v6.end();
}

void HostMulticastLoopImpl::on_tick(uint64_t now_ns) {
  const bool asked = asked_.load(std::memory_order_relaxed);
  {
    std::lock_guard guard(lock_);
    if (!asked) {
      // Nobody sent to a group lately: forget the lists, so the next send
      // reads them afresh rather than trusting an old view.
      if (read_ns_ != 0 && now_ns - read_ns_ > kForgetNs) read_ns_ = 0;
      return;
    }
    if (read_ns_ != 0 && now_ns - read_ns_ < kRefreshNs) return;
  }
  asked_.store(false, std::memory_order_relaxed);
  Groups groups = read_groups();  // without the lock, then swapped in
  std::lock_guard guard(lock_);
  store(std::move(groups), now_ns);
}

int HostMulticastLoopImpl::socket_for(bool v6) {
  // Caller holds lock_.
  int& fd = v6 ? fd6_ : fd4_;
  if (fd >= 0) return fd;
  // IPPROTO_RAW: the header is ours (IP_HDRINCL implied), and the socket
  // receives nothing.
  fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_RAW);
  if (fd < 0) return -1;
  int rc;
  if (v6) {
    rc = ::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex_, sizeof ifindex_);
  } else {
    ip_mreqn m{};
    m.imr_ifindex = ifindex_;
    rc = ::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m);
  }
  if (rc != 0) {
    ::close(fd);
    fd = -1;
  }
  return fd;
}

void HostMulticastLoopImpl::loop_to_kernel(const uint8_t* l3, size_t len, bool v6) {
  std::array<uint8_t, 60> header;
  size_t header_len;
  sockaddr_storage to{};
  socklen_t to_len;
  if (v6) {
    if (len < kIpv6HeaderLen) return;
    header_len = kIpv6HeaderLen;
    std::memcpy(header.data(), l3, header_len);
    header[kIpv6HopLimitOffset] = 0;  // looped by the kernel, never sent
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    std::memcpy(&sin6.sin6_addr, l3 + 24, 16);
    sin6.sin6_scope_id = static_cast<uint32_t>(ifindex_);
    std::memcpy(&to, &sin6, sizeof sin6);
    to_len = sizeof sin6;
  } else {
    if (len < 20) return;
    header_len = static_cast<size_t>(l3[0] & 0x0f) * 4;
    if (header_len < 20 || header_len > len) return;
    std::memcpy(header.data(), l3, header_len);
    header[kIpv4TtlOffset] = 0;  // the kernel recomputes the checksum
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    std::memcpy(&sin.sin_addr, l3 + 16, 4);
    std::memcpy(&to, &sin, sizeof sin);
    to_len = sizeof sin;
  }
  iovec iov[2] = {{header.data(), header_len}, {const_cast<uint8_t*>(l3 + header_len), len - header_len}};
  msghdr msg{};
  msg.msg_name = &to;
  msg.msg_namelen = to_len;
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  int fd;
  {
    std::lock_guard guard(lock_);
    fd = socket_for(v6);
  }
  if (fd < 0 || ::sendmsg(fd, &msg, MSG_DONTWAIT) < 0) {
    const int err = errno;
    if (failures_.fetch_add(1, std::memory_order_relaxed) == 0) {
      log(LogLevel::kWarn, "IP_MULTICAST_LOOP: a copy for the host's kernel sockets on %s could not be sent (%s%s)",
          iface_.c_str(), fd < 0 ? "raw socket: " : "", std::strerror(err));
    }
    return;
  }
  copies_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace dpdkudp::engine
