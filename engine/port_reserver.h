// Shared mode's port reservation (design decision 2): for each port the
// stack binds, a kernel UDP socket bound to the same address and port, with
// a drop-all socket filter and the smallest receive buffer. The kernel then
// gives the port to no other process and answers no port-unreachable for
// it, while every datagram still goes to the userspace stack.
#pragma once

#include "stack/net/udp_socket.h"

namespace dpdkudp::engine {

class KernelPortReserver final : public stack::PortReserver {
 public:
  int reserve(const stack::UdpSocket& socket, const stack::Endpoint& local, bool reuse_addr, bool reuse_port,
              uintptr_t* token) override;
  void release(uintptr_t token) override;
  // The same for a port with no socket of the stack's behind it (a
  // tunnel's outer port).
  int reserve_port(const stack::Endpoint& local, bool v6only, bool reuse_addr, bool reuse_port, uintptr_t* token);
};

}  // namespace dpdkudp::engine
