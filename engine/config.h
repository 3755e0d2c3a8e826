// The shim's configuration (design decision 7): an environment file of
// DPDKUDP_* KEY=VALUE lines, overridden key by key by real environment
// variables, validated into one Config or exactly one ConfigError.
//
// This runs on the LD_PRELOAD start-up path, so it depends only on the
// standard library and header-only types of the layers below, and load_config_from_process()
// never lets an exception escape.
#pragma once

#include <cassert>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backends/api/backend_module.h"  // XdpMode
#include "backends/fault/fault_spec.h"
#include "engine/offload_rules.h"
#include "stack/net/tunnel_config.h"
#include "stack/net/vlan_config.h"
#include "stack/wire/bytes.h"

namespace dpdkudp::engine {

inline constexpr const char* kDefaultConfigPath = "/etc/dpdkudp.env";

enum class BackendKind { kAuto, kDpdk, kAfXdp, kAfPacket, kAfPacketMmap, kOff };
enum class LogLevel { kQuiet, kError, kWarn, kInfo, kDebug };
// Where the shim's lines go: stderr, or syslog (journald on systemd hosts).
enum class LogTarget { kStderr, kSyslog };
enum class DeploymentMode { kDedicated, kShared };
using dpdkudp::XdpMode;  // the AF_XDP module's own (to_string there too)
// Who drives the stack while the application waits (docs/architecture.md):
// kInline, the waiting application thread (run to completion); kThread,
// the poller thread, which rings the socket's fd (the doorbell).
enum class WaitModel { kInline, kThread };

// The spellings used in the file ("af_packet_mmap", "debug", ...).
std::string_view to_string(BackendKind kind);
std::string_view to_string(LogLevel level);
std::string_view to_string(LogTarget target);
std::string_view to_string(DeploymentMode mode);
std::string_view to_string(WaitModel model);

// One DPDKUDP_ROUTES entry: "cidr via gw [mtu N]" or "cidr dev [mtu N]".
struct RouteSpec {
  wire::Ipv4Cidr destination;             // 0.0.0.0/0 for "default"
  std::optional<wire::Ipv4Addr> gateway;  // none: on-link ("dev")
  uint32_t mtu = 0;                       // 0: the interface MTU (as stack::Route)
  friend bool operator==(const RouteSpec&, const RouteSpec&) = default;
};

// The same for IPv6: "2001:2:0:10::/64 via fe80::1 [mtu N]", "::/0 via ...".
struct RouteSpec6 {
  wire::Ipv6Cidr destination;
  std::optional<wire::Ipv6Addr> gateway;
  uint32_t mtu = 0;
  friend bool operator==(const RouteSpec6&, const RouteSpec6&) = default;
};

// One DPDKUDP_NEIGHBORS entry: a static ARP entry "ip=mac".
struct NeighborSpec {
  wire::Ipv4Addr ip;
  MacAddr mac{};
  friend bool operator==(const NeighborSpec&, const NeighborSpec&) = default;
};

// A static NDP entry "2001:2::1=mac".
struct NeighborSpec6 {
  wire::Ipv6Addr ip;
  MacAddr mac{};
  friend bool operator==(const NeighborSpec6&, const NeighborSpec6&) = default;
};

// Every setting with its default. An empty optional / string means "not
// set": the engine picks (interface MTU, backend's ring size, ...).
struct Config {
  BackendKind backend = BackendKind::kAuto;
  std::string iface;
  std::optional<wire::Ipv4Cidr> ip;  // none: the interface's address
  std::optional<wire::Ipv4Addr> gateway;
  // IPv6: the stack's addresses (empty: the interface's global and
  // link-local ones in shared mode, none in dedicated mode); ip6_off: no
  // IPv6 on the bypass path at all (DPDKUDP_IP6=off).
  std::vector<wire::Ipv6Cidr> ip6;
  bool ip6_off = false;
  std::optional<wire::Ipv6Addr> gateway6;  // none: the kernel's default route for the interface
  std::optional<uint16_t> mtu;
  uint32_t busy_poll_us = 50;
  WaitModel wait = WaitModel::kInline;
  LogLevel log = LogLevel::kWarn;
  bool require = false;
  DeploymentMode mode = DeploymentMode::kDedicated;
  stack::VlanConfig vlan;  // DPDKUDP_VLAN and DPDKUDP_VLAN_*; vid 0: none
  uint16_t queues = 1;
  uint16_t dpdk_port = 0;
  std::string eal_args;  // kept verbatim; the DPDK backend splits it
  XdpMode xdp_mode = XdpMode::kAuto;
  // Where the dpdk and af_xdp backend modules are; empty: beside
  // libdpdkudp.so, then the dynamic linker's search.
  std::string module_dir;
  std::optional<uint32_t> rx_ring;
  std::optional<uint32_t> tx_ring;
  uint32_t perf_interval_s = 0;  // 0: off
  uint32_t rcvbuf_default = 212992;
  std::vector<RouteSpec> routes;          // DPDKUDP_ROUTES' IPv4 entries
  std::vector<RouteSpec6> routes6;        // and its IPv6 ones
  std::vector<NeighborSpec> neighbors;    // DPDKUDP_NEIGHBORS' IPv4 entries
  std::vector<NeighborSpec6> neighbors6;  // and its IPv6 ones
  // DPDKUDP_TUNNEL: overlay endpoints, "KIND key=value ..." separated by ';'.
  std::vector<stack::TunnelConfig> tunnels;
  bool stats = true;
  // DPDKUDP_FAULTS: faults injected into the backend's frames (testing
  // only; none by default).
  FaultSpec faults;
  // One line on stderr when the bypass is up, at any log level but quiet
  // (dpdkudp-run sets it: success is visible; plain LD_PRELOAD stays silent).
  bool announce = false;
  LogTarget log_target = LogTarget::kStderr;
  // DPDKUDP_PROFILE: the named set of settings applied under every key the
  // file and environment set themselves ("" when none; see profiles()).
  std::string profile;
  // DPDKUDP_OFFLOAD: which sockets take the bypass (empty: every one).
  OffloadRules offload;
  // DPDKUDP_CAPTURE: a pcap file of the frames the stack sends and
  // receives ("" : off), written until it holds capture_limit bytes.
  std::string capture;
  uint64_t capture_limit = 64ull << 20;

  // The file that was read ("" when none): for the banner, not a setting.
  std::string source;

  // "backend=af_packet iface=veth1 busy_poll_us=0": only the settings that
  // differ from the defaults, in key order; "" when everything is default.
  std::string describe_non_defaults() const;
};

struct ConfigError {
  std::string key;     // "DPDKUDP_MTU"; "" for a line that has no key
  std::string value;   // the value as written (quotes removed)
  std::string reason;  // "must be a number from 68 to 9000"
  std::string where;   // "/etc/x.env:12", "environment", or a file path
  // Best effort DPDKUDP_REQUIRE, read even though the configuration as a
  // whole failed, so the caller knows whether to fall back to the kernel
  // or exit non-zero.
  bool require = false;

  // One line, no trailing newline:
  // dpdkudp: config: /etc/x.env:12: DPDKUDP_MTU="90000": must be a number from 68 to 9000
  std::string message() const;
};

// A value or one error (std::expected is C++23; g++ 12 does not have it).
// Two members rather than a variant: simpler, and the size does not matter
// for a result made once per process.
template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}            // implicit on purpose:
  Result(ConfigError error) : error_(std::move(error)) {}  // `return config;`

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }

  T& value() {
    assert(ok());
    return *value_;
  }
  const T& value() const {
    assert(ok());
    return *value_;
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const ConfigError& error() const {
    assert(!ok());
    return error_;
  }

 private:
  std::optional<T> value_;
  ConfigError error_;
};

// The environment as seen by the parser. Only names starting with
// "DPDKUDP_" are looked at; others may be present and are ignored.
using Environment = std::map<std::string, std::string, std::less<>>;

// Parses file text (as read from `file_name`, used in error locations) and
// applies the environment's overrides. Tests use this directly.
Result<Config> parse_config_text(std::string_view text, std::string_view file_name, const Environment& env);

// Picks the file: DPDKUDP_CONFIG when set (missing/unreadable is an error;
// set but empty means "no file at all"), else `default_path` if it exists,
// else none; then parses it as parse_config_text does.
Result<Config> load_config(const Environment& env, const std::string& default_path = kDefaultConfigPath);

// A named set of settings (DPDKUDP_PROFILE, dpdkudp-run --profile): each
// applies under whatever the file or environment sets key by key.
struct Profile {
  std::string_view name;
  std::string_view purpose;  // one line, for --help
  std::span<const std::pair<std::string_view, std::string_view>> settings;
};
std::span<const Profile> profiles();
// "latency: ... (DPDKUDP_BUSY_POLL_US=100000, ...)", a line per profile
// (no newline after the last).
std::string describe_profiles();

// Every key the file and the environment may set, in the table's order.
std::vector<std::string_view> config_keys();

// The DPDKUDP_* entries of `environ` (first occurrence wins, as getenv).
Environment process_environment();

// The production entry point: load_config(process_environment()).
Result<Config> load_config_from_process() noexcept;

}  // namespace dpdkudp::engine
