#include "engine/engine.h"

#include <algorithm>

#include "backends/af_packet/af_packet.h"
#ifdef DPDKUDP_HAVE_DPDK
#include "backends/dpdk/dpdk.h"
#endif
#ifdef DPDKUDP_HAVE_AF_XDP
#include "backends/af_xdp/af_xdp.h"
#endif
#include "engine/host.h"
#include "engine/log.h"
#include "stack/net/proc_net.h"

namespace dpdkudp::engine {
namespace {

constexpr const char* kProcRoute = "/proc/net/route";
constexpr const char* kProcArp = "/proc/net/arp";
constexpr const char* kPortRange = "/proc/sys/net/ipv4/ip_local_port_range";

std::unique_ptr<Backend> open_packet_socket(const Config& config, wire::Ipv4Cidr address, bool mmap,
                                            std::string* error) {
  AfPacketConfig c;
  c.iface = config.iface;
  c.mmap = mmap;
  c.filter_ipv4 = {address.addr.value, address.directed_broadcast().value};
  if (config.rx_ring) c.rx_block_count = std::max<uint32_t>(8, *config.rx_ring / 16);
  if (config.tx_ring) c.tx_frame_count = *config.tx_ring;
  return open_af_packet(c, error);
}

#ifdef DPDKUDP_HAVE_AF_XDP
// The XDP program's port map, as the stack's steering hook.
class XdpSteering final : public stack::PortSteeringHook {
 public:
  explicit XdpSteering(PortSteering* s) : s_(s) {}
  int steer(wire::Ipv4Addr addr, uint16_t port, bool on, bool reuse_port) override {
    return s_->steer(addr.value, port, on, reuse_port);
  }

 private:
  PortSteering* s_;
};

OpenedBackend open_af_xdp_backend(const Config& config, wire::Ipv4Cidr address, std::string* error) {
  AfXdpConfig c;
  c.iface = config.iface;
  c.mode = config.xdp_mode == XdpMode::kNative    ? dpdkudp::XdpMode::kNative
           : config.xdp_mode == XdpMode::kGeneric ? dpdkudp::XdpMode::kGeneric
                                                  : dpdkudp::XdpMode::kAuto;
  c.queues = config.queues;
  if (config.rx_ring) c.ring_size = *config.rx_ring;
  c.dedicated = config.mode == DeploymentMode::kDedicated;
  c.ipv4 = address.addr.value;
  AfXdpOpened opened = open_af_xdp(c, error);
  OpenedBackend out;
  if (!opened.backend) return out;
  out.backend = std::move(opened.backend);
  out.kind = BackendKind::kAfXdp;
  out.steering = std::make_unique<XdpSteering>(opened.steering);
  out.description = opened.mode_description;
  return out;
}
#endif

#ifdef DPDKUDP_HAVE_DPDK
std::unique_ptr<Backend> open_dpdk_backend(const Config& config, std::string* error) {
  DpdkConfig c;
  c.eal_args = config.eal_args;
  c.port = config.dpdk_port;
  c.queues = config.queues;
  if (config.rx_ring) c.rx_ring = *config.rx_ring;
  if (config.tx_ring) c.tx_ring = *config.tx_ring;
  if (config.mtu) c.mtu = *config.mtu;
  // EAL's start-up calls (socket, ioctl, ...) must reach libc directly.
  c.eal_thread_init = mark_this_thread_engine;
  c.log = [](DpdkLogLevel level, const std::string& line) {
    log(level == DpdkLogLevel::kError ? LogLevel::kError
        : level == DpdkLogLevel::kWarn ? LogLevel::kWarn
                                       : LogLevel::kInfo,
        "%s", line.c_str());
  };
  return open_dpdk(c, error);
}
#endif

}  // namespace

OpenedBackend open_backend(const Config& config, wire::Ipv4Cidr address, std::string* error) {
  switch (config.backend) {
    case BackendKind::kAfPacket:
      return {open_packet_socket(config, address, false, error), BackendKind::kAfPacket, nullptr, {}};
    case BackendKind::kAfPacketMmap:
      return {open_packet_socket(config, address, true, error), BackendKind::kAfPacketMmap, nullptr, {}};
    case BackendKind::kDpdk:
#ifdef DPDKUDP_HAVE_DPDK
      return {open_dpdk_backend(config, error), BackendKind::kDpdk, nullptr, {}};
#else
      *error = "DPDKUDP_BACKEND=dpdk: not built into this library (libdpdk-dev missing at build time)";
      return {};
#endif
    case BackendKind::kAfXdp:
#ifdef DPDKUDP_HAVE_AF_XDP
      return open_af_xdp_backend(config, address, error);
#else
      *error = "DPDKUDP_BACKEND=af_xdp: not built into this library (libbpf-dev/libxdp-dev/clang missing at build time)";
      return {};
#endif
    case BackendKind::kAuto: {
      // DPDK and AF_XDP come first once built in. Between the AF_PACKET
      // variants the plain socket wins: TPACKET_V3 holds a lone datagram
      // until its block times out (~1 ms), and measured no faster here.
      std::string why;
#ifdef DPDKUDP_HAVE_DPDK
      // EAL cannot be undone and probes every PCI device: only when the
      // configuration asks for DPDK (EAL arguments or a port) is it tried.
      if (!config.eal_args.empty() || config.dpdk_port != 0) {
        if (auto b = open_dpdk_backend(config, &why)) return {std::move(b), BackendKind::kDpdk, nullptr, {}};
        log(LogLevel::kInfo, "%s; trying af_packet", why.c_str());
      }
#endif
      if (config.iface.empty()) {
        *error = "DPDKUDP_IFACE is not set: no interface to drive";
        return {};
      }
#ifdef DPDKUDP_HAVE_AF_XDP
      if (auto x = open_af_xdp_backend(config, address, &why); x.backend) return x;
      log(LogLevel::kInfo, "%s; trying af_packet", why.c_str());
#endif
      if (auto b = open_packet_socket(config, address, false, &why)) return {std::move(b), BackendKind::kAfPacket, nullptr, {}};
      *error = "no backend could start: " + why;
      return {};
    }
    case BackendKind::kOff:
      *error = "DPDKUDP_BACKEND=off";
      return {};
  }
  return {};
}

std::unique_ptr<Engine> Engine::start(const Config& config, std::string* error) {
  set_log_level(config.log);
  if (config.backend == BackendKind::kOff) {
    *error = "DPDKUDP_BACKEND=off: using the kernel";
    return nullptr;
  }
  // DPDK drives a NIC the kernel may no longer see: the interface is
  // optional there, and the address must then be configured.
  const bool dpdk = config.backend == BackendKind::kDpdk;
  if (config.iface.empty() && !dpdk && !(config.backend == BackendKind::kAuto && !config.eal_args.empty())) {
    *error = "DPDKUDP_IFACE is not set: no interface to drive";
    return nullptr;
  }
  std::optional<InterfaceInfo> iface;
  if (!config.iface.empty()) {
    iface = query_interface(config.iface, error);
    if (!iface && !dpdk) return nullptr;
    if (iface && !iface->up && !dpdk) {
      *error = "interface " + config.iface + ": is down";
      return nullptr;
    }
  }

  // Our address: configuration first, else the kernel's on the interface.
  std::optional<wire::Ipv4Cidr> address = config.ip;
  if (!address && iface) address = iface->ipv4;
  if (!address) {
    *error = config.iface.empty() ? "DPDKUDP_IP is not set"
                                  : "DPDKUDP_IP is not set and interface " + config.iface + " has no IPv4 address";
    return nullptr;
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
      return nullptr;
    }
  }

  std::unique_ptr<Engine> e(new Engine());
  e->config_ = config;
  OpenedBackend opened = open_backend(config, *address, error);
  if (!opened.backend) return nullptr;
  e->backend_ = std::move(opened.backend);
  e->kind_ = opened.kind;
  e->steering_ = std::move(opened.steering);
  e->backend_description_ = opened.description;

  stack::StackConfig sc;
  sc.address = *address;
  sc.gateway = config.gateway;
  sc.dedicated = config.mode == DeploymentMode::kDedicated;
  sc.vlan_id = config.vlan;
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
  e->stack_ = std::make_unique<stack::Stack>(*e->backend_, sc, e->clock_);
  if (e->steering_) e->stack_->set_port_steering(e->steering_.get());

  uint64_t now = e->clock_.monotonic_ns();
  for (const NeighborSpec& n : config.neighbors) e->stack_->neighbors().insert(n.ip, n.mac, now, true);
  if (auto arp = config.iface.empty() ? std::nullopt : stack::read_proc_net_arp(kProcArp, config.iface)) {
    for (const auto& entry : *arp) e->stack_->neighbors().insert(entry.ip, entry.mac, now, false);
  }
  if (config.mode == DeploymentMode::kShared) e->stack_->set_port_reserver(&e->reserver_);

  PollerConfig pc;
  // Spinning on an RX that costs a system call per look burns them: such
  // a backend's threads sleep on its wait fd at once.
  pc.busy_poll_ns = e->backend_->capabilities().rx_costs_syscall ? 0 : uint64_t{config.busy_poll_us} * 1000;
  pc.yield_to_app = config.wait == WaitModel::kInline;
  uint16_t queues = std::max<uint16_t>(e->backend_->capabilities().rx_queues, 1);
  e->drivers_ = std::make_unique<Drivers>(*e->stack_, queues);
  for (uint16_t q = 0; q < queues; ++q) {
    e->pollers_.push_back(std::make_unique<Poller>(*e->stack_, *e->backend_, *e->drivers_, q, pc));
  }
  e->stack_->set_poller_waker(e->pollers_[0].get());
  {
    Engine* self = e.get();
    e->drivers_->set_poller_kick([self](uint16_t q) { self->pollers_[q]->kick(); });
  }
  std::vector<Poller*> pollers;
  for (auto& p : e->pollers_) pollers.push_back(p.get());
  e->live_stats_ = std::make_unique<LiveStats>(*e->stack_, *e->backend_, pollers, e->kernel_path_,
                                               config.perf_interval_s);
  if (config.stats) {
    StatsIdentity id;
    id.backend = std::string(to_string(e->kind_));
    id.mode = std::string(to_string(config.mode));
    id.iface = config.iface;
    id.address = e->stack_->config().address.to_string();
    id.description = e->backend_description_;
#ifdef DPDKUDP_HAVE_DPDK
    if (e->kind_ == BackendKind::kDpdk) {
      id.description = describe_dpdk_backend(*e->backend_) + " offloads: " + describe_dpdk_offloads(*e->backend_);
    }
#endif
    id.mtu = e->stack_->mtu();
    std::string stats_error;
    if (!e->live_stats_->open_region(id, &stats_error)) {
      log(LogLevel::kWarn, "DPDKUDP_STATS: %s; dpdkudp-stat will not see this process (DPDKUDP_STATS=0 turns this off)",
          stats_error.c_str());
    }
  }
  // Shared AF_XDP leaves ARP to the kernel, so the stack never sees the
  // answers: while an address is being resolved, take it from the
  // kernel's table (which learns it from the peer's own ARP).
  bool import_arp = config.mode == DeploymentMode::kShared && e->kind_ == BackendKind::kAfXdp && !config.iface.empty();
  {
    stack::Stack* st = e->stack_.get();
    LiveStats* live = e->live_stats_.get();
    std::string ifname = import_arp ? config.iface : std::string();
    const stack::Clock* clock = &e->clock_;
    Engine* self = e.get();
    e->pollers_[0]->set_timer_hook([st, live, ifname, clock, self] {
      uint64_t tick = clock->monotonic_ns();
      live->on_tick(tick);
      {
        std::lock_guard lock(self->tick_hooks_lock_);
        for (auto& hook : self->tick_hooks_) hook(tick);
      }
      if (ifname.empty()) return;
      bool resolving = false;
      for (const auto& n : st->neighbors().snapshot()) resolving |= n.state == stack::NeighborState::kIncomplete;
      if (!resolving) return;
      if (auto arp = stack::read_proc_net_arp(kProcArp, ifname)) {
        for (const auto& entry : *arp) st->neighbors().insert(entry.ip, entry.mac, tick, false);
      }
    });
  }
  for (auto& p : e->pollers_) p->start();
  e->stack_->start();
  // Settings this build accepts but the chosen backend cannot honour are
  // said once, never silently dropped.
  if (config.queues > queues) {
    log(LogLevel::kWarn, "DPDKUDP_QUEUES=%u: backend %s has %u queue(s); using %u", config.queues,
        std::string(to_string(e->kind_)).c_str(), queues, queues);
  }
  if ((!config.eal_args.empty() || config.dpdk_port != 0) && e->kind_ != BackendKind::kDpdk) {
    log(LogLevel::kWarn, "DPDKUDP_EAL_ARGS/DPDKUDP_DPDK_PORT: only used by the dpdk backend; ignored with %s",
        std::string(to_string(e->kind_)).c_str());
  }
  if (config.xdp_mode != XdpMode::kAuto && e->kind_ != BackendKind::kAfXdp) {
    log(LogLevel::kWarn, "DPDKUDP_XDP_MODE: only used by the af_xdp backend; ignored with %s",
        std::string(to_string(e->kind_)).c_str());
  }
  log(LogLevel::kInfo, "started: %s", e->banner().c_str());
  return e;
}

Engine::~Engine() {
  stop();
  stack_.reset();
  backend_.reset();
}

void Engine::stop() {
  if (stack_) stack_->set_poller_waker(nullptr);
  for (auto& p : pollers_) p->stop();
  if (live_stats_) live_stats_->close_region();  // after the pollers: nothing publishes any more
}


void Engine::add_tick_hook(std::function<void(uint64_t)> hook) {
  std::lock_guard lock(tick_hooks_lock_);
  tick_hooks_.push_back(std::move(hook));
}

std::string Engine::banner() const {
  std::string s = "backend=" + std::string(to_string(kind_)) + " iface=" + config_.iface +
                  " ip=" + stack_->config().address.to_string() +
                  " mac=" + wire::mac_to_string(stack_->mac()) + " mtu=" + std::to_string(stack_->mtu()) +
                  " mode=" + std::string(to_string(config_.mode)) + " queues=" + std::to_string(pollers_.size());
  if (stack_->config().gateway) s += " gateway=" + stack_->config().gateway->to_string();
  if (!backend_description_.empty()) s += " (" + backend_description_ + ")";
#ifdef DPDKUDP_HAVE_DPDK
  if (kind_ == BackendKind::kDpdk) s += " " + describe_dpdk_backend(*backend_) + " offloads: " + describe_dpdk_offloads(*backend_);
#endif
  std::string extra = config_.describe_non_defaults();
  if (!extra.empty()) s += " (settings: " + extra + ")";
  return s;
}

}  // namespace dpdkudp::engine
