#include "engine/engine.h"

#include <net/if.h>

#include <algorithm>

#include "engine/backend_registry.h"
#include "engine/group_peers.h"
#include "engine/host.h"
#include "engine/host_multicast_loop.h"
#include "engine/kernel_neighbors.h"
#include "engine/log.h"
#include "stack/net/proc_net.h"

namespace dpdkudp::engine {
namespace {

constexpr const char* kProcRoute = "/proc/net/route";
constexpr const char* kProcArp = "/proc/net/arp";
constexpr const char* kPortRange = "/proc/sys/net/ipv4/ip_local_port_range";
constexpr const char* kProcIfInet6 = "/proc/net/if_inet6";
constexpr const char* kProcIpv6Route = "/proc/net/ipv6_route";

// A backend's port steering (AF_XDP's program), as the stack's hook.
class BackendSteering final : public stack::PortSteeringHook {
 public:
  explicit BackendSteering(PortSteering* s) : s_(s) {}
  int steer(wire::Ipv4Addr addr, uint16_t port, bool on, uint32_t share) override {
    return s_->steer(addr.value, port, on, share);
  }
  int steer6(const wire::Ipv6Addr& addr, uint16_t port, bool on, uint32_t share) override {
    return s_->steer6(addr.octets, port, on, share);
  }
  int steer_group(wire::Ipv4Addr group, bool on) override { return s_->steer_group(group.value, on); }
  int steer_group6(const wire::Ipv6Addr& group, bool on) override { return s_->steer_group6(group.octets, on); }

 private:
  PortSteering* s_;
};

BackendOpenRequest make_request(const Config& config, wire::Ipv4Cidr address,
                                const std::vector<wire::Ipv6Cidr>& addresses6) {
  BackendOpenRequest r;
  for (const wire::Ipv6Cidr& a : addresses6) r.ipv6.push_back(a.addr.octets);
  r.iface = config.iface;
  r.ipv4 = address.addr.value;
  r.ipv4_broadcast = address.directed_broadcast().value;
  r.dedicated = config.mode == DeploymentMode::kDedicated;
  r.queues = config.queues;
  r.rx_ring = config.rx_ring.value_or(0);
  r.tx_ring = config.tx_ring.value_or(0);
  r.mtu = config.mtu.value_or(0);
  r.xdp_mode = config.xdp_mode;
  r.eal_args = config.eal_args;
  r.dpdk_port = config.dpdk_port;
  r.vlan_offload = !config.vlan.software;
  // EAL's start-up calls (socket, ioctl, ...) must reach libc directly.
  r.thread_init = mark_this_thread_engine;
  r.log = [](BackendLogLevel level, const std::string& line) {
    log(level == BackendLogLevel::kError  ? LogLevel::kError
        : level == BackendLogLevel::kWarn ? LogLevel::kWarn
                                          : LogLevel::kInfo,
        "%s", line.c_str());
  };
  return r;
}

OpenedBackend open_kind(BackendKind kind, const Config& config, const BackendOpenRequest& request, std::string* error) {
  const BackendModule* module = find_backend_module(kind, config.module_dir, error);
  if (module == nullptr) return {};
  BackendOpened opened = module->open(request, error);
  OpenedBackend out;
  if (!opened.backend) return out;
  out.backend = std::move(opened.backend);
  out.kind = kind;
  if (opened.steering != nullptr) out.steering = std::make_unique<BackendSteering>(opened.steering);
  out.description = std::move(opened.description);
  return out;
}

}  // namespace

OpenedBackend open_backend(const Config& config, wire::Ipv4Cidr address, const std::vector<wire::Ipv6Cidr>& addresses6,
                           std::string* error) {
  const BackendOpenRequest request = make_request(config, address, addresses6);
  switch (config.backend) {
    case BackendKind::kAfPacket:
    case BackendKind::kAfPacketMmap:
    case BackendKind::kDpdk:
    case BackendKind::kAfXdp: return open_kind(config.backend, config, request, error);
    case BackendKind::kAuto: {
      // DPDK and AF_XDP come first once built. Between the AF_PACKET
      // variants the plain socket wins: TPACKET_V3 holds a lone datagram
      // until its block times out (~1 ms), and measured no faster here.
      std::string why;
      // EAL cannot be undone and probes every PCI device: only when the
      // configuration asks for DPDK (EAL arguments or a port) is it tried.
      if (backend_built(BackendKind::kDpdk) && (!config.eal_args.empty() || config.dpdk_port != 0)) {
        if (auto b = open_kind(BackendKind::kDpdk, config, request, &why); b.backend) return b;
        log(LogLevel::kInfo, "%s; trying af_packet", why.c_str());
      }
      if (config.iface.empty()) {
        *error = "DPDKUDP_IFACE is not set: no interface to drive";
        return {};
      }
      if (backend_built(BackendKind::kAfXdp)) {
        if (auto x = open_kind(BackendKind::kAfXdp, config, request, &why); x.backend) return x;
        log(LogLevel::kInfo, "%s; trying af_packet", why.c_str());
      }
      if (auto b = open_kind(BackendKind::kAfPacket, config, request, &why); b.backend) return b;
      *error = "no backend could start: " + why;
      return {};
    }
    case BackendKind::kOff: *error = "DPDKUDP_BACKEND=off"; return {};
  }
  return {};
}

namespace {

// The interface, when one is named: must exist and be up (DPDK drives a
// NIC the kernel may no longer see: there the interface is optional).
// false with *error when the engine cannot start.
bool check_interface(const Config& config, std::optional<InterfaceInfo>* iface, std::string* error) {
  const bool dpdk = config.backend == BackendKind::kDpdk;
  if (config.iface.empty() && !dpdk && !(config.backend == BackendKind::kAuto && !config.eal_args.empty())) {
    *error = "DPDKUDP_IFACE is not set: no interface to drive";
    return false;
  }
  if (config.iface.empty()) return true;
  *iface = query_interface(config.iface, error);
  if (!*iface && !dpdk) return false;
  if (*iface && !(*iface)->up && !dpdk) {
    *error = "interface " + config.iface + ": is down";
    return false;
  }
  return true;
}

// Our address: configuration first, else the kernel's on the interface;
// the gateway must be reachable from it.
std::optional<wire::Ipv4Cidr> choose_address(const Config& config, const std::optional<InterfaceInfo>& iface,
                                             std::string* error) {
  std::optional<wire::Ipv4Cidr> address = config.ip;
  if (!address && iface) address = iface->ipv4;
  if (!address) {
    *error = config.iface.empty() ? "DPDKUDP_IP is not set"
                                  : "DPDKUDP_IP is not set and interface " + config.iface + " has no IPv4 address";
    return std::nullopt;
  }
  if (config.mode == DeploymentMode::kDedicated && iface && iface->ipv4 && iface->ipv4->addr == address->addr) {
    log(LogLevel::kWarn, "interface %s holds %s in the kernel too, but DPDKUDP_MODE=dedicated: both will answer ARP",
        config.iface.c_str(), address->addr.to_string().c_str());
  }
  if (!config.ip && config.gateway && !address->contains(*config.gateway)) {
    bool via_dev_route = std::any_of(config.routes.begin(), config.routes.end(), [&](const RouteSpec& r) {
      return !r.gateway && r.destination.contains(*config.gateway);
    });
    if (!via_dev_route) {
      *error = "DPDKUDP_GATEWAY=" + config.gateway->to_string() + ": not on-link for " + config.iface + "'s address " +
               address->to_string();
      return std::nullopt;
    }
  }
  return address;
}

// IPv6: the configured addresses, else (shared mode) the interface's
// usable ones from the kernel; the default router configured or the
// kernel's; the kernel's gateway routes through the interface.
void add_ipv6(const Config& config, stack::StackConfig& sc) {
  if (config.ip6_off) return;
  if (!config.iface.empty()) sc.ifindex = if_nametoindex(config.iface.c_str());
  sc.addresses6 = config.ip6;
  const bool from_kernel = sc.addresses6.empty() && config.mode == DeploymentMode::kShared && !config.iface.empty();
  if (from_kernel) {
    if (auto rows = stack::read_proc_net_if_inet6(kProcIfInet6, config.iface)) {
      for (const stack::ProcInet6Address& a : *rows) {
        if (a.usable()) sc.addresses6.push_back(a.address);
      }
    }
  }
  if (sc.addresses6.empty()) return;
  sc.gateway6 = config.gateway6;
  for (const RouteSpec6& r : config.routes6) {
    if (r.destination.prefix_len == 0 && r.gateway && !sc.gateway6) {
      sc.gateway6 = r.gateway;
    } else {
      sc.routes6.push_back(stack::Route6{r.destination, r.gateway, r.mtu, 0});
    }
  }
  if (config.iface.empty()) return;
  if (auto routes = stack::read_proc_net_ipv6_route(kProcIpv6Route, config.iface)) {
    for (const stack::ProcIpv6Route& r : *routes) {
      if (!r.gateway) continue;
      if (r.destination.prefix_len == 0) {
        if (!sc.gateway6) sc.gateway6 = r.gateway;
      } else {
        sc.routes6.push_back(stack::Route6{r.destination, r.gateway, 0, r.metric});
      }
    }
  }
}

stack::StackConfig make_stack_config(const Config& config, wire::Ipv4Cidr address) {
  stack::StackConfig sc;
  sc.address = address;
  sc.gateway = config.gateway;
  sc.dedicated = config.mode == DeploymentMode::kDedicated;
  sc.vlan = config.vlan;
  if (config.mtu) sc.mtu = *config.mtu;
  sc.default_rcvbuf = config.rcvbuf_default;
  if (auto range = stack::read_port_range(kPortRange)) {
    sc.ephemeral_low = range->first;
    sc.ephemeral_high = range->second;
  }
  // The kernel's routes through this interface (shared mode has them;
  // dedicated mode with no kernel address has none), then configured ones.
  if (auto routes = config.iface.empty() ? std::nullopt : stack::read_proc_net_route(kProcRoute, config.iface)) {
    for (const stack::Route& r : *routes) {
      if (r.destination.prefix_len == 0 && r.gateway && !sc.gateway) sc.gateway = r.gateway;
      if (r.destination.prefix_len != 0 && r.gateway) sc.routes.push_back(r);
    }
  }
  for (const RouteSpec& r : config.routes) sc.routes.push_back(stack::Route{r.destination, r.gateway, r.mtu, 0});
  add_ipv6(config, sc);
  sc.tunnels = config.tunnels;
  return sc;
}

// What DPDKUDP_TUNNEL could not check alone: the stack's own addresses.
bool check_tunnels(const stack::StackConfig& sc, std::string* error) {
  for (size_t i = 0; i < sc.tunnels.size(); ++i) {
    const stack::TunnelConfig& t = sc.tunnels[i];
    const std::string which = "DPDKUDP_TUNNEL: tunnel " + std::to_string(i + 1) + " (" +
                              std::string(stack::tunnel_kind_name(t.kind)) + " inner=" + t.inner.to_string() + "): ";
    if (t.outer_v6 && sc.addresses6.empty()) {
      *error = which + "remote= is IPv6 but the stack has no IPv6 address (set DPDKUDP_IP6)";
      return false;
    }
    if (sc.address.contains(t.inner.addr) || t.inner.contains(sc.address.addr)) {
      *error = which + "the inner subnet overlaps the interface's " + sc.address.to_string();
      return false;
    }
    if (t.inner6) {
      for (const wire::Ipv6Cidr& a : sc.addresses6) {
        if (a.contains(t.inner6->addr) || t.inner6->contains(a.addr)) {
          *error = which + "the inner6 subnet overlaps the interface's " + a.to_string();
          return false;
        }
      }
    }
    if (!t.outer_v6 && !sc.address.contains(t.remote) && !sc.gateway) {
      bool routed = false;
      for (const stack::Route& r : sc.routes) routed |= r.destination.contains(t.remote);
      if (!routed) {
        *error = which + "no route to remote=" + t.remote.to_string() + " (set DPDKUDP_GATEWAY or DPDKUDP_ROUTES)";
        return false;
      }
    }
  }
  return true;
}

// Configured neighbours (static), then the kernel's for the interface.
void seed_neighbors(stack::Stack& stack, const Config& config, uint64_t now) {
  for (const NeighborSpec& n : config.neighbors) stack.neighbors().insert(n.ip, n.mac, now, true);
  if (stack.ipv6_enabled()) {
    for (const NeighborSpec6& n : config.neighbors6) stack.neighbors6().insert(n.ip, n.mac, now, true);
  }
  if (auto arp = config.iface.empty() ? std::nullopt : stack::read_proc_net_arp(kProcArp, config.iface)) {
    for (const auto& entry : *arp) stack.neighbors().insert(entry.ip, entry.mac, now, false);
  }
  if (stack.ipv6_enabled() && stack.config().ifindex != 0) {
    if (auto ndp = read_kernel_neighbors6(static_cast<int>(stack.config().ifindex))) {
      for (const KernelNeighbor6& n : *ndp) stack.neighbors6().insert(n.ip, n.mac, now, false);
    }
  }
}

}  // namespace

std::unique_ptr<Engine> Engine::start(const Config& config, std::string* error) {
  set_log_level(config.log);
  set_log_target(config.log_target);
  if (config.backend == BackendKind::kOff) {
    *error = "DPDKUDP_BACKEND=off: using the kernel";
    return nullptr;
  }
  std::optional<InterfaceInfo> iface;
  if (!check_interface(config, &iface, error)) return nullptr;
  std::optional<wire::Ipv4Cidr> address = choose_address(config, iface, error);
  if (!address) return nullptr;

  std::unique_ptr<Engine> e(new Engine());
  e->config_ = config;
  stack::StackConfig stack_config = make_stack_config(config, *address);
  if (!check_tunnels(stack_config, error)) return nullptr;
  OpenedBackend opened = open_backend(config, *address, stack_config.addresses6, error);
  if (!opened.backend) return nullptr;
  e->backend_ = std::move(opened.backend);
  e->kind_ = opened.kind;
  e->steering_ = std::move(opened.steering);
  e->backend_description_ = opened.description;
  if (config.faults.any()) {
    // Testing only: say so loudly, at start and at stop.
    try {
      auto faulty = std::make_unique<FaultBackend>(std::move(e->backend_), config.faults);
      e->faults_ = faulty.get();
      e->backend_ = std::move(faulty);
    } catch (const std::exception& ex) {
      *error = std::string("DPDKUDP_FAULTS: ") + ex.what();
      return nullptr;
    }
    e->backend_description_ += (e->backend_description_.empty() ? "" : "; ") + std::string("injecting faults");
    log(LogLevel::kWarn, "DPDKUDP_FAULTS: injecting faults into every frame: %s", to_string(config.faults).c_str());
  }

  if (!config.capture.empty()) {
    // Outermost: the file holds what the stack received and handed over.
    std::string why;
    e->capture_ = find_capture_module(config.module_dir, &why);
    std::unique_ptr<Backend> tap =
        e->capture_ != nullptr ? e->capture_->wrap(std::move(e->backend_), config.capture, config.capture_limit, &why)
                               : nullptr;
    if (!tap) {
      *error = "DPDKUDP_CAPTURE=" + config.capture + ": " + why;
      return nullptr;
    }
    e->capture_backend_ = tap.get();
    e->backend_ = std::move(tap);
    e->backend_description_ += (e->backend_description_.empty() ? "" : "; ") + std::string("capturing");
    log(LogLevel::kInfo, "DPDKUDP_CAPTURE: writing every frame to %s (at most %llu bytes)", config.capture.c_str(),
        static_cast<unsigned long long>(config.capture_limit));
  }

  e->stack_ = std::make_unique<stack::Stack>(*e->backend_, std::move(stack_config), e->clock_);
  if (e->steering_) {
    e->stack_->set_port_steering(e->steering_.get());
  } else if (iface) {
    e->join_shared_ports(iface->ifindex);
  }
  // Multicast between the processes on the interface (group_peers.h): on
  // AF_XDP the table serves for that alone, its program settling ports.
  if (iface && e->backend_->capabilities().rx_multicast && !config.vlan.enabled()) {
    if (e->steering_ && !e->shared_ports_) {
      std::string why;
      e->shared_ports_ = SharedPorts::join(SharedPorts::name_for(iface->ifindex), &why, /*groups_only=*/true);
      if (!e->shared_ports_) {
        log(LogLevel::kWarn,
            "%s: other processes' members of a group on %s get no IP_MULTICAST_LOOP copies "
            "from this one, nor the group datagrams the interface gives it",
            why.c_str(), iface->name.c_str());
      }
    }
    if (e->shared_ports_) {
      e->group_peers_ =
          std::make_unique<GroupPeersImpl>(*e->shared_ports_, *e->stack_, e->kind_ == BackendKind::kAfXdp);
      e->stack_->set_group_peers(e->group_peers_.get());
      e->add_tick_hook([peers = e->group_peers_.get()](uint64_t) { peers->on_tick(); });
    }
  }
  seed_neighbors(*e->stack_, config, e->clock_.monotonic_ns());
  if (config.mode == DeploymentMode::kDedicated && !config.iface.empty()) e->watch_foreign_destinations();
  // IP_MULTICAST_LOOP to the host's kernel sockets. Not where the groups'
  // memberships are the kernel's own (a backend that cannot receive group
  // traffic: our sockets' kernel fds hold them, and would get the copy
  // back), nor on a VLAN (the kernel's interface for it may not exist).
  if (iface && e->backend_->capabilities().rx_multicast && !config.vlan.enabled()) {
    e->host_loop_ = std::make_unique<HostMulticastLoopImpl>(iface->name, iface->ifindex);
    e->stack_->set_host_multicast_loop(e->host_loop_.get());
    e->add_tick_hook([loop = e->host_loop_.get()](uint64_t now) { loop->on_tick(now); });
  }
  if (config.mode == DeploymentMode::kShared) {
    e->stack_->set_port_reserver(&e->reserver_);
    if (!e->reserve_tunnel_ports(error)) return nullptr;
  }

  e->make_pollers();
  e->open_live_stats();
  e->install_tick_hook();
  for (auto& p : e->pollers_) p->start();
  e->stack_->start();
  e->warn_ignored_settings();
  if (config.announce && config.log != LogLevel::kQuiet) {
    // Said at the error level so the default level (warn) shows it.
    log(LogLevel::kError, "bypass up: %s", e->banner().c_str());
  } else {
    log(LogLevel::kInfo, "started: %s", e->banner().c_str());
  }
  return e;
}

void Engine::join_shared_ports(int ifindex) {
  // Every process on the interface sees every frame (no steering of the
  // backend's own): settle with the others which datagrams are whose.
  std::string why;
  shared_ports_ = SharedPorts::join(SharedPorts::name_for(ifindex), &why);
  if (!shared_ports_) {
    log(LogLevel::kWarn, "%s: other processes on %s sharing a port with SO_REUSEPORT may take the same datagrams",
        why.c_str(), config_.iface.c_str());
    return;
  }
  stack_->set_port_steering(shared_ports_.get());
  stack_->set_port_sharing(shared_ports_.get());
}

void Engine::make_pollers() {
  PollerConfig pc;
  // Spinning on an RX that costs a system call per look burns them: such
  // a backend's threads sleep on its wait fd at once.
  pc.busy_poll_ns = backend_->capabilities().rx_costs_syscall ? 0 : uint64_t{config_.busy_poll_us} * 1000;
  pc.yield_to_app = config_.wait == WaitModel::kInline;
  uint16_t queues = std::max<uint16_t>(backend_->capabilities().rx_queues, 1);
  drivers_ = std::make_unique<Drivers>(*stack_, queues);
  for (uint16_t q = 0; q < queues; ++q) {
    pollers_.push_back(std::make_unique<Poller>(*stack_, *backend_, *drivers_, q, pc));
  }
  stack_->set_poller_waker(pollers_[0].get());
  drivers_->set_poller_kick([this](uint16_t q) { pollers_[q]->kick(); });
}

void Engine::open_live_stats() {
  std::vector<Poller*> pollers;
  for (auto& p : pollers_) pollers.push_back(p.get());
  live_stats_ = std::make_unique<LiveStats>(*stack_, *backend_, pollers, kernel_path_, config_.perf_interval_s);
  if (!config_.stats) return;
  StatsIdentity id;
  id.backend = std::string(to_string(kind_));
  id.mode = std::string(to_string(config_.mode));
  id.iface = config_.iface;
  id.address = stack_->config().address.to_string();
  for (const stack::Stack::Address6& a : stack_->addresses6()) {
    if (!id.address6.empty()) id.address6.push_back(' ');
    id.address6.append(a.cidr.to_string());
    if (a.duplicate) id.address6.append("(duplicate)");
  }
  id.description = backend_description_;
  id.mtu = stack_->mtu();
  std::string stats_error;
  if (!live_stats_->open_region(id, &stats_error)) {
    log(LogLevel::kWarn, "DPDKUDP_STATS: %s; dpdkudp-stat will not see this process (DPDKUDP_STATS=0 turns this off)",
        stats_error.c_str());
  }
}

void Engine::install_tick_hook() {
  // Shared AF_XDP leaves ARP to the kernel, so the stack never sees the
  // answers: while an address is being resolved, take it from the
  // kernel's table (which learns it from the peer's own ARP).
  bool import_arp = config_.mode == DeploymentMode::kShared && kind_ == BackendKind::kAfXdp && !config_.iface.empty();
  std::string ifname = import_arp ? config_.iface : std::string();
  pollers_[0]->set_timer_hook([this, ifname, ticks = uint32_t{0}]() mutable {
    uint64_t tick = clock_.monotonic_ns();
    live_stats_->on_tick(tick);
    // The first tick holds our liveness mutex on this thread (the engine's
    // longest-lived); every fourth (200 ms) forgets dead processes.
    if (shared_ports_ && ticks++ == 0) shared_ports_->hold_membership();
    if (shared_ports_ && ticks % 4 == 0) shared_ports_->refresh();
    {
      std::lock_guard lock(tick_hooks_lock_);
      for (auto& hook : tick_hooks_) hook(tick);
    }
    if (ifname.empty()) return;
    bool resolving = false;
    for (const auto& n : stack_->neighbors().snapshot()) resolving |= n.state == stack::NeighborState::kIncomplete;
    if (resolving) {
      if (auto arp = stack::read_proc_net_arp(kProcArp, ifname)) {
        for (const auto& entry : *arp) stack_->neighbors().insert(entry.ip, entry.mac, tick, false);
      }
    }
    // The same for NDP (the kernel keeps it here too), from its table over
    // rtnetlink.
    if (!stack_->ipv6_enabled()) return;
    bool resolving6 = false;
    for (const auto& n : stack_->neighbors6().snapshot()) resolving6 |= n.state == stack::NeighborState::kIncomplete;
    if (!resolving6) return;
    if (auto ndp = read_kernel_neighbors6(static_cast<int>(stack_->config().ifindex))) {
      for (const KernelNeighbor6& n : *ndp) stack_->neighbors6().insert(n.ip, n.mac, tick, false);
    }
  });
}

// Settings this build accepts but the chosen backend cannot honour are
// said once, never silently dropped.
void Engine::warn_ignored_settings() const {
  const auto queues = static_cast<uint16_t>(pollers_.size());
  const std::string backend(to_string(kind_));
  if (config_.queues > queues) {
    log(LogLevel::kWarn, "DPDKUDP_QUEUES=%u: backend %s has %u queue(s); using %u", config_.queues, backend.c_str(),
        queues, queues);
  }
  if ((!config_.eal_args.empty() || config_.dpdk_port != 0) && kind_ != BackendKind::kDpdk) {
    log(LogLevel::kWarn, "DPDKUDP_EAL_ARGS/DPDKUDP_DPDK_PORT: only used by the dpdk backend; ignored with %s",
        backend.c_str());
  }
  if (config_.xdp_mode != XdpMode::kAuto && kind_ != BackendKind::kAfXdp) {
    log(LogLevel::kWarn, "DPDKUDP_XDP_MODE: only used by the af_xdp backend; ignored with %s", backend.c_str());
  }
}

Engine::~Engine() {
  stop();
  stack_.reset();
  backend_.reset();
  for (uintptr_t token : tunnel_port_tokens_) reserver_.release(token);
}

bool Engine::reserve_tunnel_ports(std::string* error) {
  for (size_t i = 0; i < stack_->tunnel_count(); ++i) {
    const stack::TunnelConfig& t = stack_->tunnel(i).config();
    const stack::Endpoint local = t.outer_v6
                                      ? stack::Endpoint::ipv6(t.local6.value_or(wire::Ipv6Addr()), t.outer_port())
                                      : stack::Endpoint{t.local.value_or(wire::Ipv4Addr::any()), t.outer_port()};
    // Tunnels sharing a port (different VNIs) take it once.
    bool taken = false;
    for (size_t j = 0; j < i; ++j) {
      const stack::TunnelConfig& o = stack_->tunnel(j).config();
      taken |= o.outer_port() == t.outer_port() && o.outer_v6 == t.outer_v6;
    }
    if (taken) continue;
    uintptr_t token = 0;
    int rc = reserver_.reserve_port(local, true, false, false, &token);
    if (rc < 0) {
      *error = "DPDKUDP_TUNNEL: tunnel " + std::to_string(i + 1) + ": outer UDP port " +
               std::to_string(t.outer_port()) + " cannot be taken on the host: " + std::strerror(-rc) +
               (rc == -EADDRINUSE ? " (a kernel tunnel device or another program has it)" : "");
      return false;
    }
    tunnel_port_tokens_.push_back(token);
  }
  return true;
}

void Engine::stop() {
  if (group_peers_) group_peers_->stop();  // no more copies into the stack
  if (stack_) stack_->set_poller_waker(nullptr);
  for (auto& p : pollers_) p->stop();
  if (live_stats_) live_stats_->close_region();  // after the pollers: nothing publishes any more
  if (shared_ports_) shared_ports_->leave();     // the others take our share of the ports at once
  if (faults_ != nullptr && !faults_reported_) {
    faults_reported_ = true;
    log(LogLevel::kWarn, "DPDKUDP_FAULTS: injected %s", describe(faults_->counts()).c_str());
  }
  if (capture_backend_ != nullptr && !capture_reported_) {
    capture_reported_ = true;
    uint64_t written = 0, left_out = 0;
    capture_->counts(*capture_backend_, &written, &left_out);
    if (left_out != 0) {
      log(LogLevel::kWarn,
          "DPDKUDP_CAPTURE: %s: %llu frames written, %llu left out (DPDKUDP_CAPTURE_LIMIT=%llu reached)",
          config_.capture.c_str(), static_cast<unsigned long long>(written), static_cast<unsigned long long>(left_out),
          static_cast<unsigned long long>(config_.capture_limit));
    } else {
      log(LogLevel::kInfo, "DPDKUDP_CAPTURE: %s: %llu frames written", config_.capture.c_str(),
          static_cast<unsigned long long>(written));
    }
  }
}

void Engine::watch_foreign_destinations() {
  // Dedicated mode: the program's sockets answer on the stack's address
  // alone. Datagrams for another of the interface's kernel addresses are
  // dropped by the stack (and by the kernel fd's filter): say so once,
  // instead of a server that looks deaf to clients of the kernel address.
  add_tick_hook([this, seen = uint32_t{0}, said = false](uint64_t) mutable {
    const stack::Ipv4Addr dst = stack_->last_foreign_destination();
    if (said || dst.value == seen) return;
    seen = dst.value;
    for (const stack::Ipv4Addr& a : kernel_ipv4_addresses(config_.iface)) {
      if (a != dst) continue;
      said = true;
      log(LogLevel::kWarn,
          "datagrams for %s, the kernel's address on %s, reach the bypass and no socket here: in dedicated mode the "
          "program answers on %s only (DPDKUDP_IP); send to it, or use DPDKUDP_MODE=shared to serve the kernel's "
          "address",
          dst.to_string().c_str(), config_.iface.c_str(), stack_->config().address.addr.to_string().c_str());
    }
  });
}

void Engine::add_tick_hook(std::function<void(uint64_t)> hook) {
  std::lock_guard lock(tick_hooks_lock_);
  tick_hooks_.push_back(std::move(hook));
}

std::string Engine::banner() const {
  std::string s = "backend=" + std::string(to_string(kind_)) + " iface=" + config_.iface +
                  " ip=" + stack_->config().address.to_string() + " mac=" + wire::mac_to_string(stack_->mac()) +
                  " mtu=" + std::to_string(stack_->mtu()) + " mode=" + std::string(to_string(config_.mode)) +
                  " queues=" + std::to_string(pollers_.size());
  if (stack_->config().gateway) s += " gateway=" + stack_->config().gateway->to_string();
  for (const stack::Stack::Address6& a : stack_->addresses6()) {
    s.append(" ip6=").append(a.cidr.to_string());
    if (a.duplicate) s.append("(duplicate)");
  }
  if (stack_->config().gateway6) s += " gateway6=" + stack_->config().gateway6->to_string();
  if (!backend_description_.empty()) s += " (" + backend_description_ + ")";
  std::string extra = config_.describe_non_defaults();
  if (!extra.empty()) s += " (settings: " + extra + ")";
  return s;
}

}  // namespace dpdkudp::engine
