// AF_XDP backend: kernel bypass that shares the NIC with the kernel.
//
// Our own XDP program (xdp_udp_steer.bpf.c, compiled at build time and
// embedded in the library) runs on the interface and redirects to an AF_XDP
// socket (XSK) only the traffic the shim owns: UDP to the (address, port)
// pairs the engine steers with PortSteering, and in dedicated mode also ARP
// and all IPv4 for our address. Everything else (SSH, TCP, other UDP ports,
// and in shared mode ARP and ICMP) goes on to the kernel untouched.
//
//   dpdkudp::AfXdpConfig config;
//   config.iface = "eth1";
//   config.ipv4 = 0xc6120002;     // 198.18.0.2, host order
//   config.dedicated = false;     // shared: the kernel keeps ARP/ICMP
//   std::string error;
//   dpdkudp::AfXdpOpened opened = dpdkudp::open_af_xdp(config, &error);
//   if (!opened.backend) { fprintf(stderr, "%s\n", error.c_str()); }
//   opened.steering->steer(0, 5353, true);   // 0.0.0.0:5353 -> us
//
// Several processes per interface: the first to open an interface founds
// its group (the UMEM in a memfd, the XDP program); later ones join it,
// each with its own sockets and its own ports (see backends/af_xdp/group.h
// and docs/af_xdp.md). The group outlives whichever member exits first; a
// killed member's ports pass to the kernel at once and its frames come
// back. The program is attached with a bpf_link every member holds, so
// when the last one dies, even by SIGKILL, nothing is left on the
// interface.
//
// Needs CAP_NET_ADMIN, CAP_BPF (or CAP_SYS_ADMIN), CAP_NET_RAW and
// CAP_IPC_LOCK (root has them all). This header includes no libbpf/libxdp
// header: the engine uses it without them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "backends/api/backend.h"
#include "backends/api/backend_module.h"  // XdpMode, PortSteering

namespace dpdkudp {

// How the XDP program is attached.
enum class XdpAttach : uint8_t {
  // A bpf_link owned by the process (detached by the kernel when the
  // process exits, even on SIGKILL). When a libxdp dispatcher already runs
  // on the interface, our program joins it instead (as kLibxdp).
  kAuto,
  // Through libxdp (xdp_program__attach): its multi-program dispatcher where
  // the kernel allows it, so other libxdp programs (xdp-filter, ...) can
  // share the interface; else a single netlink-attached program. Survives a
  // SIGKILL: the next open of the interface finds and removes it (it passes
  // everything meanwhile, as its sockets are gone).
  kLibxdp,
};

struct AfXdpConfig {
  std::string iface;  // interface name, e.g. "eth1"
  XdpMode mode = XdpMode::kAuto;
  XdpAttach attach = XdpAttach::kAuto;
  // RX/TX queue pairs, 1..64, one XSK each. A member of an existing group
  // must ask for the group's count.
  uint16_t queues = 1;
  // Entries in each XSK ring (fill, completion, RX, TX), a power of two in
  // 64..16384. UMEM: queues * 2 * ring_size RX frames + 2 * ring_size TX
  // frames, 4 KiB each (default, one queue: 32 MiB, locked in memory). A
  // member of an existing group gets the group's size (one fill ring per
  // queue for all).
  uint32_t ring_size = 2048;
  // Received frames are copied out of the UMEM into these buffers (see
  // af_xdp_backend.h); they wait in socket queues. 0: 8192.
  uint32_t pool_size = 0;
  // Dedicated: ARP whose target is ipv4 and every IPv4 packet to ipv4 come
  // to us too (the stack answers ARP/ping, sends port-unreachable); one
  // process per dedicated address. Shared: only the steered UDP ports.
  bool dedicated = true;
  uint32_t ipv4 = 0;  // our address, host order (0: none)
  // Dedicated: the same for IPv6 (network order): NDP, ICMPv6 and UDP to
  // them come to us. The stack's added link-local address is among them
  // (its EUI-64 from the interface's MAC, added by the backend).
  std::vector<std::array<uint8_t, 16>> ipv6;
  // Try XDP_ZEROCOPY before XDP_COPY in native mode.
  bool zero_copy = true;
  // Pin the maps under /sys/fs/bpf/dpdkudp/... for inspection with bpftool
  // (mounting bpffs at /sys/fs/bpf when needed). Best effort: a failure
  // only leaves them unpinned.
  bool pin_maps = true;
};

struct AfXdpOpened {
  std::unique_ptr<Backend> backend;  // nullptr on failure
  // Owned by backend, valid while it lives; nullptr on failure.
  PortSteering* steering = nullptr;
  // "native copy", "native zero-copy", "generic copy"; with the attach
  // way after a comma when not a bpf_link: "native copy, libxdp legacy".
  std::string mode_description;
};

// Opens the AF_XDP backend. On failure: backend == nullptr, nothing left
// attached or pinned, and *error (when given) is one line
// `af_xdp: interface "X": reason` (no such interface, interface down,
// permission, unsupported driver/mode, foreign XDP program attached, a
// group that differs (queues, XDP mode) or is full, a dedicated address
// another process serves, bad configuration).
AfXdpOpened open_af_xdp(const AfXdpConfig& config, std::string* error);

}  // namespace dpdkudp
