// ShimSocket's multicast options: memberships on the bypass interface go
// to the stack (stack/net/multicast.h), which sends the IGMP or MLD
// reports and programs the link filter; those naming another interface go
// to the kernel fd, whose traffic arrives on the kernel path. The argument
// forms are multicast_opts.h's.
#include <arpa/inet.h>

#include <cerrno>
#include <cstring>

#include "engine/log.h"
#include "preload/addressing.h"
#include "preload/multicast_opts.h"
#include "preload/real.h"
#include "preload/runtime.h"
#include "preload/shim_socket.h"

namespace dpdkudp::preload {

using stack::Ipv4Addr;

bool ShimSocket::on_bypass_interface(int ifindex, Ipv4Addr addr) const {
  if (ifindex != 0) return ifindex == bypass_ifindex();
  return addr.is_unspecified() || addr == engine_.stack().config().address.addr;
}

bool ShimSocket::groups_in_kernel() const {
  if (engine_.backend().capabilities().rx_multicast) return false;
  // The backend does not receive group traffic (DPDK without a multicast
  // list): memberships are the kernel's, and so is the group traffic (the
  // kernel fd lets the bypass interface's groups through then). Said once.
  static std::atomic<bool> said{false};
  if (!said.exchange(true)) {
    engine::log(engine::LogLevel::kInfo,
                "multicast: the %s backend does not receive group traffic; group memberships and their "
                "traffic take the kernel path",
                std::string(engine::to_string(engine_.backend_kind())).c_str());
  }
  return true;
}

bool ShimSocket::set_multicast_option(int fd, int name, const void* value, socklen_t len, int* rc) {
  if (name == IP_MULTICAST_IF) {
    Ipv4Addr addr;
    int ifindex = 0;
    if (int err = parse_multicast_if(value, len, &addr, &ifindex); err != 0) {
      *rc = fail(err);
      return true;
    }
    if (ifindex == 0 && addr.is_unspecified()) {  // back to the route's choice
      mcast_if_kernel_.store(false, std::memory_order_relaxed);
      mcast_if_addr_.store(0, std::memory_order_relaxed);
      return false;  // the kernel fd resets too
    }
    if (!on_bypass_interface(ifindex, addr)) {
      // Another interface: the kernel's, and so are this socket's group sends.
      *rc = real().setsockopt(fd, IPPROTO_IP, name, value, len);
      if (*rc == 0) {
        mcast_if_kernel_.store(true, std::memory_order_relaxed);
        mcast_if_addr_.store(addr.value, std::memory_order_relaxed);
      }
      return true;
    }
    // Ours. The kernel fd may not know the address (dedicated mode): its
    // answer does not matter, the stack sends the group traffic.
    real().setsockopt(fd, IPPROTO_IP, name, value, len);
    mcast_if_kernel_.store(false, std::memory_order_relaxed);
    mcast_if_addr_.store(addr.value, std::memory_order_relaxed);
    *rc = 0;
    return true;
  }
  MembershipRequest req;
  if (int err = parse_membership(name, value, len, &req); err != 0) {
    *rc = fail(err);
    return true;
  }
  if (!on_bypass_interface(req.ifindex, req.iface_addr)) return false;  // the kernel's interface
  if (groups_in_kernel()) return false;
  int r = 0;
  switch (req.op) {
    case MembershipRequest::Op::kJoin:
    case MembershipRequest::Op::kLeave:
      r = engine_.stack().multicast_membership(*socket_, req.group, req.has_source ? &req.source : nullptr,
                                               req.op == MembershipRequest::Op::kJoin);
      break;
    case MembershipRequest::Op::kBlock:
    case MembershipRequest::Op::kUnblock:
      r = engine_.stack().multicast_block(*socket_, req.group, req.source, req.op == MembershipRequest::Op::kBlock);
      break;
  }
  *rc = r < 0 ? fail(-r) : 0;
  return true;
}

bool ShimSocket::get_multicast_if(void* value, socklen_t* len) const {
  if (mcast_if_addr_.load(std::memory_order_relaxed) == 0 || mcast_if_kernel_.load(std::memory_order_relaxed)) {
    return false;  // the kernel's answer
  }
  if (value == nullptr || len == nullptr || *len < static_cast<socklen_t>(sizeof(in_addr))) return false;
  in_addr a{htonl(mcast_if_addr_.load(std::memory_order_relaxed))};
  std::memcpy(value, &a, sizeof a);
  *len = sizeof a;
  return true;
}

bool ShimSocket::set_multicast_option6(int name, const void* value, socklen_t len, int* rc) {
  if (!socket_->ipv6()) return false;  // an AF_INET socket: the kernel's ENOPROTOOPT
  MembershipRequest6 req;
  if (int err = parse_membership6(name, value, len, &req); err != 0) {
    *rc = fail(err);
    return true;
  }
  // Another interface (the kernel says ENODEV for one that does not
  // exist), a stack without IPv6 or a backend without group reception:
  // the kernel's.
  if (req.ifindex != 0 && req.ifindex != bypass_ifindex()) return false;
  if (!engine_.stack().ipv6_enabled() || groups_in_kernel()) return false;
  stack::Stack& st = engine_.stack();
  int r = 0;
  switch (req.op) {
    case MembershipOp::kJoin:
    case MembershipOp::kLeave:
      r = st.multicast6_membership(*socket_, req.group, req.has_source ? &req.source : nullptr,
                                   req.op == MembershipOp::kJoin);
      break;
    case MembershipOp::kBlock:
    case MembershipOp::kUnblock:
      r = st.multicast6_block(*socket_, req.group, req.source, req.op == MembershipOp::kBlock);
      break;
  }
  *rc = r < 0 ? fail(-r) : 0;
  return true;
}

bool ShimSocket::mcast6_if_kernel() const {
  const int index = mcast6_if_.load(std::memory_order_relaxed);
  return index != 0 && index != bypass_ifindex();
}

}  // namespace dpdkudp::preload
