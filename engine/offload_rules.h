// DPDKUDP_OFFLOAD: which UDP sockets take the bypass and which stay on the
// kernel, by local port, local address and remote address.
//
//   DPDKUDP_OFFLOAD="offload port=53; offload port=5000-5100 local=198.18.0.2"
//   DPDKUDP_OFFLOAD="kernel port=514; kernel remote=198.18.9.0/24"
//
// Entries are separated by ';'. Each is an action, `offload` or `kernel`,
// then conditions, all of which must hold: `port=P[-Q]` (the local port),
// `local=ADDR[/LEN]`, `remote=ADDR[/LEN]`, `remote_port=P[-Q]` (IPv4 or
// IPv6). The first entry that matches decides. When none does, the socket
// stays on the kernel if any entry says `offload` (a list of what to
// offload), and takes the bypass otherwise (a list of exceptions). An entry
// without conditions matches every socket (a catch-all, last). Empty or
// `all`: every socket (the default).
//
// A socket is placed once, at its first bind, connect or send, on what is
// known then: bind knows the local address and port; connect, or a send
// on an unbound socket, knows the remote address and port. A condition on
// something not known then does not hold.
//
// Standard library and stack/ headers only (the configuration layer).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stack/net/endpoint.h"
#include "stack/wire/bytes.h"

namespace dpdkudp::engine {

struct PortRange {
  uint16_t first = 0, last = 0;
  bool contains(uint16_t p) const { return p >= first && p <= last; }
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

// An address or prefix of either family.
struct AddrPrefix {
  bool v6 = false;
  wire::Ipv4Cidr v4;
  wire::Ipv6Cidr v6_prefix;
  bool contains(const stack::Endpoint& e) const;
  std::string to_string() const;
  friend bool operator==(const AddrPrefix&, const AddrPrefix&) = default;
};

struct OffloadRule {
  bool offload = true;  // false: the kernel
  std::optional<PortRange> port;
  std::optional<AddrPrefix> local;
  std::optional<AddrPrefix> remote;
  std::optional<PortRange> remote_port;
  friend bool operator==(const OffloadRule&, const OffloadRule&) = default;
};

// What is known of a socket when it is placed.
struct PlacementQuery {
  std::optional<stack::Endpoint> local;   // at bind
  std::optional<stack::Endpoint> remote;  // at connect or first send
};

class OffloadRules {
 public:
  // Parses the value of DPDKUDP_OFFLOAD; nullopt with *reason (naming the
  // entry) when it is not valid.
  static std::optional<OffloadRules> parse(std::string_view text, std::string* reason);

  // No rules: every socket takes the bypass (nothing to decide).
  bool empty() const { return rules_.empty(); }
  // True: the bypass; false: the kernel.
  bool offload(const PlacementQuery& q) const;
  // The rules as they would be written ("" when empty).
  std::string to_string() const;
  const std::vector<OffloadRule>& rules() const { return rules_; }
  friend bool operator==(const OffloadRules&, const OffloadRules&) = default;

 private:
  std::vector<OffloadRule> rules_;
  bool default_offload_ = true;
};

}  // namespace dpdkudp::engine
