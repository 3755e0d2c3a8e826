// How the engine opens a backend without knowing which one it is: every
// backend folder provides one BackendModule (a name and an open function).
//
// AF_PACKET's modules are linked into libdpdkudp.so (they need nothing but
// the kernel). DPDK's and AF_XDP's are shared objects of their own,
// libdpdkudp-dpdk.so and libdpdkudp-af_xdp.so, installed beside
// libdpdkudp.so and loaded by the engine when it starts with that backend
// (architecture.md, decision 9): a process that opens no UDP socket, or runs
// another backend, never loads DPDK, libbpf or libxdp. Such a shared object
// exports exactly one symbol, kBackendModuleSymbol, a function returning its
// module.
//
// The module and libdpdkudp.so exchange C++ objects (std::string,
// std::function, Backend), so both must come from the same build: the
// engine refuses a module whose abi or version differs from its own.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backends/api/backend.h"

namespace dpdkudp {

// Bump when BackendOpenRequest, BackendOpened, BackendModule, Backend or
// Packet change layout.
inline constexpr uint32_t kBackendModuleAbi = 3;  // 2: PortSteering::steer_group(6); 3: steer's share flags
inline constexpr const char* kBackendModuleSymbol = "dpdkudp_backend_module";

// How the XDP program is attached: driver (native) mode or SKB (generic).
enum class XdpMode : uint8_t {
  kAuto,     // native (driver) XDP, else generic (SKB)
  kNative,   // driver mode only (zero-copy when the driver supports it)
  kGeneric,  // SKB mode only (works on any interface, always copies)
};

inline std::string_view to_string(XdpMode mode) {
  switch (mode) {
    case XdpMode::kAuto: return "auto";
    case XdpMode::kNative: return "native";
    case XdpMode::kGeneric: return "generic";
  }
  return "invalid";
}

// Steers UDP flows to the bypass path, for backends that share the NIC
// with the kernel and must be told which ports are the stack's (AF_XDP's
// program). The engine calls it at bind (on) and close (off). Thread-safe.
class PortSteering {
 public:
  virtual ~PortSteering() = default;
  // addr: IPv4 destination in host order, 0 = any of our addresses
  // (INADDR_ANY). port in host order. Calls nest: after n steer(on) of
  // one (addr, port), the n-th steer(off) removes it. share: PortShare
  // flags (backend.h). When every process steering the pair has
  // SO_REUSEPORT they share it and flows are spread over them by a hash of
  // the source address and port, as Linux does; when every one has
  // SO_REUSEADDR they share it too, unicast going to the one that came last
  // (Linux's choice among such sockets) and a group's datagrams to the
  // members. Returns 0, or an errno value: EADDRINUSE (another live process
  // owns it, not both with SO_REUSEPORT or SO_REUSEADDR, or too many share
  // it already), ENOSPC (map full), ENOENT (off for a pair not steered), or
  // the system's error.
  virtual int steer(uint32_t addr, uint16_t port, bool on, uint32_t share) = 0;
  int steer(uint32_t addr, uint16_t port, bool on) { return steer(addr, port, on, 0); }
  // The same for IPv6: addr the 16 octets in network order, all zero = any
  // of our addresses (in6addr_any).
  virtual int steer6(const std::array<uint8_t, 16>& addr, uint16_t port, bool on, uint32_t share) = 0;
  // An IPv4 group (host order) the stack joined: its datagrams to our
  // steered ports, and IGMP about it, go to the stack (joining any group
  // also takes the queries to 224.0.0.1). Calls nest as steer's. Returns 0,
  // or an errno: ENOBUFS (the group already has the most members a map
  // entry holds, or the map is full), ENOENT (off for a group not
  // joined), or the system's error.
  virtual int steer_group(uint32_t group, bool on) = 0;
  // The same for an IPv6 group (16 octets, network order; joining any also
  // takes the MLD queries to ff02::1).
  virtual int steer_group6(const std::array<uint8_t, 16>& group, bool on) = 0;
};

enum class BackendLogLevel { kError, kWarn, kInfo };

// What the engine asks of a backend: the settings every backend may use,
// each ignored by those it does not concern (the engine says so once).
struct BackendOpenRequest {
  std::string iface;            // interface name; may be empty for DPDK
  uint32_t ipv4 = 0;            // the stack's address, host order
  uint32_t ipv4_broadcast = 0;  // its directed broadcast, host order
  // The stack's IPv6 addresses (network order), link-local included; in
  // dedicated mode their NDP, ICMPv6 and UDP are the stack's.
  std::vector<std::array<uint8_t, 16>> ipv6;
  bool dedicated = true;  // DPDKUDP_MODE=dedicated
  uint16_t queues = 1;    // RX/TX queue pairs asked for
  uint32_t rx_ring = 0;   // 0: the backend's default
  uint32_t tx_ring = 0;   // 0: the backend's default
  uint32_t mtu = 0;       // 0: the device's own
  XdpMode xdp_mode = XdpMode::kAuto;
  std::string eal_args;      // DPDK only, verbatim
  uint16_t dpdk_port = 0;    // DPDK only
  bool vlan_offload = true;  // false: the device neither strips nor inserts 802.1Q tags
  // Runs first on any thread the backend starts in order to open the
  // device (DPDK's EAL start-up thread): the engine marks it as its own so
  // the shim passes that thread's calls straight to libc.
  std::function<void()> thread_init;
  // One line, no newline; from any thread. Empty: the backend's default.
  std::function<void(BackendLogLevel, const std::string&)> log;
};

struct BackendOpened {
  std::unique_ptr<Backend> backend;  // nullptr on failure
  PortSteering* steering = nullptr;  // owned by backend; nullptr: none needed
  // For the banner and dpdkudp-stat, e.g. "native copy" (AF_XDP) or
  // "port 0 (net_af_packet0, net_af_packet), ... offloads: rx: ...".
  std::string description;
};

struct BackendModule {
  uint32_t abi = kBackendModuleAbi;
  const char* version = "";  // the project version it was built from
  const char* name = "";     // "af_xdp": the DPDKUDP_BACKEND spelling
  // On failure: backend == nullptr and one line in *error naming the
  // backend, the interface and the reason.
  BackendOpened (*open)(const BackendOpenRequest& request, std::string* error) = nullptr;
};

// The signature of kBackendModuleSymbol.
using BackendModuleEntry = const BackendModule* (*)();

// The capture module, libdpdkudp-pcap.so (DPDKUDP_CAPTURE): wraps the
// opened backend in one that writes every frame the stack receives and
// sends to a pcap file. A module so that libpcap, and what it links, is
// loaded only by a process that captures. Exported as
// kCaptureModuleSymbol, a function returning the module.
inline constexpr const char* kCaptureModuleSymbol = "dpdkudp_capture_module";

struct CaptureModule {
  uint32_t abi = kBackendModuleAbi;
  const char* version = "";
  // The wrapper, writing to path until the file holds limit_bytes; on
  // failure nullptr (inner destroyed) and one line in *error.
  std::unique_ptr<Backend> (*wrap)(std::unique_ptr<Backend> inner, const std::string& path, uint64_t limit_bytes,
                                   std::string* error) = nullptr;
  // Frames written and frames left out once the file was full.
  void (*counts)(const Backend& wrapper, uint64_t* written, uint64_t* left_out) = nullptr;
};

using CaptureModuleEntry = const CaptureModule* (*)();

}  // namespace dpdkudp
