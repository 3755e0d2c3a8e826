// One overlay endpoint's settings (tunnel.h has the endpoint itself).
// Header-only, so the engine's configuration can hold it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "stack/wire/bytes.h"
#include "stack/wire/tunnel.h"

namespace dpdkudp::stack {

enum class TunnelKind : uint8_t { kVxlan, kGeneve, kGue };
inline std::string_view tunnel_kind_name(TunnelKind kind) {
  switch (kind) {
    case TunnelKind::kVxlan: return "vxlan";
    case TunnelKind::kGeneve: return "geneve";
    case TunnelKind::kGue: return "gue";
  }
  return "?";
}

struct TunnelConfig {
  TunnelKind kind = TunnelKind::kVxlan;
  uint32_t vni = 0;  // VXLAN, GENEVE: 24 bits
  // The outer peer, IPv4 or IPv6; the outer source (none: the stack's
  // address of that family).
  bool outer_v6 = false;
  wire::Ipv4Addr remote;
  wire::Ipv6Addr remote6;
  std::optional<wire::Ipv4Addr> local;
  std::optional<wire::Ipv6Addr> local6;
  uint16_t port = 0;                     // outer UDP port; 0: the kind's standard one
  wire::Ipv4Cidr inner;                  // the stack's address (and subnet) inside
  std::optional<wire::Ipv6Cidr> inner6;  // and its IPv6 one (Ethernet kinds: NDP inside)
  bool outer_csum = false;               // compute the outer UDP checksum over IPv4
                                         // (RFC 7348 §5 allows zero; IPv6 always computes)
  uint32_t mtu = 0;                      // inner MTU; 0: the underlay's minus the overhead

  uint16_t outer_port() const {
    if (port != 0) return port;
    switch (kind) {
      case TunnelKind::kVxlan: return wire::tunnel_port::kVxlan;
      case TunnelKind::kGeneve: return wire::tunnel_port::kGeneve;
      case TunnelKind::kGue: return wire::tunnel_port::kGue;
    }
    return 0;
  }
  friend bool operator==(const TunnelConfig&, const TunnelConfig&) = default;
};

}  // namespace dpdkudp::stack
