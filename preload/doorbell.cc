#include "preload/doorbell.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace dpdkudp::preload {

bool parse_doorbell(const sockaddr_in& from, const void* data, ssize_t n, DoorbellMsg* out) {
  if (from.sin_family != AF_INET || from.sin_addr.s_addr != htonl(INADDR_LOOPBACK) ||
      n != static_cast<ssize_t>(sizeof(DoorbellMsg))) {
    return false;
  }
  std::memcpy(out, data, sizeof *out);
  return out->magic == kDoorbellMagic;
}

bool parse_doorbell(const sockaddr_storage& from, const void* data, ssize_t n, DoorbellMsg* out) {
  if (!from_loopback_sender(from) || n != static_cast<ssize_t>(sizeof(DoorbellMsg))) return false;
  std::memcpy(out, data, sizeof *out);
  return out->magic == kDoorbellMagic;
}

bool from_loopback_sender(const sockaddr_storage& from) {
  if (from.ss_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in&>(from).sin_addr.s_addr == htonl(INADDR_LOOPBACK);
  }
  if (from.ss_family != AF_INET6) return false;
  const in6_addr& a = reinterpret_cast<const sockaddr_in6&>(from).sin6_addr;
  if (IN6_IS_ADDR_LOOPBACK(&a)) return true;
  return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127 && a.s6_addr[13] == 0 && a.s6_addr[14] == 0 &&
         a.s6_addr[15] == 1;
}

bool gather_head(const msghdr& m, size_t n, DoorbellMsg* out) {
  if (n != sizeof(DoorbellMsg)) return false;
  auto* dst = reinterpret_cast<char*>(out);
  size_t got = 0;
  for (size_t i = 0; i < m.msg_iovlen && got < n; ++i) {
    size_t take = std::min(n - got, m.msg_iov[i].iov_len);
    std::memcpy(dst + got, m.msg_iov[i].iov_base, take);
    got += take;
  }
  return got == n;
}

}  // namespace dpdkudp::preload
