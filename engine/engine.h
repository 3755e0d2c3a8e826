// The engine: one per process (design decision 4). It turns a Config into
// a running stack: picks and opens the backend, works out the address,
// routes and neighbours (configuration first, then the interface and
// /proc), builds the Stack, and starts a poller per RX queue.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backends/api/backend.h"
#include "backends/fault/fault_backend.h"
#include "engine/config.h"
#include "engine/driver.h"
#include "engine/poller.h"
#include "engine/port_reserver.h"
#include "engine/shared_ports.h"
#include "engine/stats.h"
#include "stack/net/clock.h"
#include "stack/net/stack.h"

namespace dpdkudp::engine {

class HostMulticastLoopImpl;
class GroupPeersImpl;

// Opens the backend a config asks for ("auto" tries each available one in
// order of speed). On failure: nullptr and one line in *error.
struct OpenedBackend {
  std::unique_ptr<Backend> backend;
  BackendKind kind = BackendKind::kOff;
  std::unique_ptr<stack::PortSteeringHook> steering;  // AF_XDP: which ports are ours
  std::string description;                            // e.g. "native copy"
};
OpenedBackend open_backend(const Config& config, wire::Ipv4Cidr address, const std::vector<wire::Ipv6Cidr>& addresses6,
                           std::string* error);

class Engine {
 public:
  // Starts everything, or returns nullptr with one line in *error naming
  // what failed (key, value, interface, reason).
  static std::unique_ptr<Engine> start(const Config& config, std::string* error);
  ~Engine();  // stops the pollers, then frees the stack and backend
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  stack::Stack& stack() { return *stack_; }
  Backend& backend() { return *backend_; }
  const Config& config() const { return config_; }
  BackendKind backend_kind() const { return kind_; }
  // "backend=af_packet_mmap iface=veth1 ip=198.18.0.2/24 mode=dedicated ..."
  std::string banner() const;
  // Stops the pollers and removes the live-stats region (idempotent); the
  // stack stays usable but nothing drives it any more.
  void stop();
  // The shim counts datagrams its bypass sockets move through the kernel.
  KernelPathCounters& kernel_path() { return kernel_path_; }
  // Who drives each queue (run to completion: application threads while
  // they wait, the pollers otherwise).
  Drivers& drivers() { return *drivers_; }
  bool inline_waits() const { return config_.wait == WaitModel::kInline; }
  // Runs hook(now_ns) on queue 0's poller at every timer tick (50 ms),
  // after the stack's timers. Any thread, any time; hooks are never removed.
  void add_tick_hook(std::function<void(uint64_t)> hook);
  // The interface's port-sharing table (shared_ports.h); nullptr when the
  // backend steers ports itself or the table could not be joined.
  SharedPorts* shared_ports() { return shared_ports_.get(); }

 private:
  Engine() = default;
  // The steps of start(), in order, once the stack exists.
  void make_pollers();
  void open_live_stats();
  void install_tick_hook();
  void warn_ignored_settings() const;
  // Joins the interface's port-sharing table (shared_ports.h) when the
  // backend does not steer ports itself; a warning when it cannot.
  void join_shared_ports(int ifindex);
  // Shared mode: the tunnels' outer ports taken on the host, so no other
  // program (or kernel tunnel device) has them and the kernel answers no
  // port-unreachable for them.
  bool reserve_tunnel_ports(std::string* error);
  // Dedicated mode: one warning when datagrams for another of the
  // interface's kernel addresses reach the stack (a tick hook).
  void watch_foreign_destinations();

  Config config_;
  BackendKind kind_ = BackendKind::kOff;
  stack::SystemClock clock_;
  std::unique_ptr<Backend> backend_;
  FaultBackend* faults_ = nullptr;  // backend_ when DPDKUDP_FAULTS is set
  bool faults_reported_ = false;
  // DPDKUDP_CAPTURE: the module and its wrapper (backend_), nullptr when off.
  const CaptureModule* capture_ = nullptr;
  const Backend* capture_backend_ = nullptr;
  bool capture_reported_ = false;
  std::unique_ptr<stack::PortSteeringHook> steering_;
  std::unique_ptr<SharedPorts> shared_ports_;  // AF_PACKET, DPDK; AF_XDP for its groups: see shared_ports.h
  std::string backend_description_;
  KernelPortReserver reserver_;
  std::vector<uintptr_t> tunnel_port_tokens_;
  std::unique_ptr<HostMulticastLoopImpl> host_loop_;  // before stack_: the stack uses it until destroyed
  std::unique_ptr<GroupPeersImpl> group_peers_;       // likewise
  std::unique_ptr<stack::Stack> stack_;
  std::unique_ptr<Drivers> drivers_;
  std::vector<std::unique_ptr<Poller>> pollers_;
  KernelPathCounters kernel_path_;
  std::unique_ptr<LiveStats> live_stats_;
  std::mutex tick_hooks_lock_;
  std::vector<std::function<void(uint64_t)>> tick_hooks_;
};

}  // namespace dpdkudp::engine
