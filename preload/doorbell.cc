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
