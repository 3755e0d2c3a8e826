// Network namespaces for the tests of the backends against the kernel
// (AF_PACKET, AF_XDP, DPDK's net_af_packet): two namespaces joined by a
// veth pair, made and removed by the test itself.
//
//   server ns: "afp0", no IPv4 address (the backend under test owns it)
//   client ns: "afp1", 198.18.X.1/24, kernel stack, static neighbour entry
//              for the server address (nothing answers ARP on the server)
//
// Addresses are in 198.18.0.0/15 (RFC 2544 benchmarking) only; X comes
// from the pid and a counter, and the names carry both, so concurrent test
// processes never collide. Namespaces are removed in destroy(), by the
// destructor, and, for crash safety, at exit and on fatal signals (there by
// unmounting /var/run/netns/NAME directly, which is what `ip netns del`
// does, with async-signal-safe calls only).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "backends/api/backend.h"
#include "stack/wire/bytes.h"

namespace dpdkudp::test {

struct CommandResult {
  int status = -1;     // exit status, -1 when it did not run or died
  std::string output;  // stdout and stderr
};
// Runs a command line through /bin/sh, capturing its output.
CommandResult run_command(const std::string& command);

// Runs fn on a new thread that has joined network namespace ns (setns);
// returns when it is done. Sockets fn opens stay in ns, usable from any
// thread. Returns false (fn not run) when ns cannot be entered.
bool in_netns(const std::string& ns, const std::function<void()>& fn);

class VethPair {
 public:
  VethPair();
  ~VethPair();
  VethPair(const VethPair&) = delete;
  VethPair& operator=(const VethPair&) = delete;

  // Creates both namespaces, the veth pair, addresses and the neighbour
  // entry, and turns off TX checksum offload on the client veth. On
  // failure returns false with *error saying which command failed and why.
  bool create(std::string* error);
  // Removes both namespaces (and with them the veth). Idempotent.
  void destroy();

  // `ip netns exec <client ns> <command>`; true when it exits 0 (*error
  // gets the command and its output otherwise).
  bool client_exec(const std::string& command, std::string* error = nullptr) const;
  bool server_exec(const std::string& command, std::string* error = nullptr) const;
  // Whether the server veth's multicast list (/proc/net/dev_mcast of the
  // server namespace) holds mac.
  bool server_lists_multicast(const MacAddr& mac) const;

  std::string server_ns;
  std::string client_ns;
  std::string server_if = "afp0";
  std::string client_if = "afp1";
  MacAddr server_mac{};
  MacAddr client_mac{};
  uint8_t subnet = 0;  // X in 198.18.X.0/24 (and 198.19.X.0/24 on the VLAN)
  wire::Ipv4Addr server_ip;
  wire::Ipv4Addr client_ip;
  wire::Ipv4Addr directed_broadcast;

 private:
  bool created_ = false;
};

std::string mac_to_string(const MacAddr& mac);

}  // namespace dpdkudp::test
