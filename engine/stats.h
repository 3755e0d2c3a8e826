// Live statistics of a running engine: the shared-memory region dpdkudp-stat
// reads (DPDKUDP_STATS=1, the default) and the [PERF] line printed to stderr
// every DPDKUDP_PERF_INTERVAL seconds.
//
// Both run on queue 0's poller at its timer tick (design decision 8: the
// fast path only bumps the stack's own per-thread counters; this copies
// their sums out, a few microseconds twenty times a second).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backends/api/backend.h"
#include "engine/stats_shm.h"
#include "stack/net/counters.h"
#include "stack/net/stack.h"

namespace dpdkudp::engine {

class Poller;

// Datagrams a bypass socket moved through its kernel fd (the shim bumps
// these; the stack never sees such datagrams).
struct KernelPathCounters {
  stack::SharedCounter rx;
  stack::SharedCounter tx;
  // Doorbells the shim's watchdog rang for data nothing had looked at for
  // 100 ms (a wait it cannot see; in the thread model, a lost edge).
  stack::SharedCounter watchdog_rings;
  // Datagrams the stack gave a socket this process did not read after a
  // fork, passed on through the socket's kernel fd to the process that
  // reads it (sent here), received from there (handoff_received), or lost
  // on the way (too long for one loopback datagram, the send failed).
  stack::SharedCounter handoff_sent;
  stack::SharedCounter handoff_received;
  stack::SharedCounter handoff_dropped;
};

// What the engine is, for the region's header.
struct StatsIdentity {
  std::string backend;
  std::string mode;
  std::string iface;
  std::string address;
  std::string address6;
  std::string description;
  uint32_t mtu = 0;
};

class LiveStats {
 public:
  LiveStats(stack::Stack& stack, Backend& backend, const std::vector<Poller*>& pollers,
            const KernelPathCounters& kernel_path, uint32_t perf_interval_s);

  // Creates the shared-memory region. False (with *error) if it cannot;
  // the engine runs on without it.
  bool open_region(const StatsIdentity& id, std::string* error);
  // Removes the region (the engine stops; also at exit).
  void close_region() { writer_.close(); }
  // Queue 0's timer tick.
  void on_tick(uint64_t mono_ns);
  // One [PERF] line: rates over the interval since `prev` (taken
  // interval_ns earlier).
  static std::string perf_line(const stats::Totals& now, const stats::Totals& prev, uint64_t interval_ns,
                               size_t sockets);

 private:
  // The stack's, the backend's, the kernel path's and the pollers' counters.
  void collect(stats::Totals* t) const;
  void publish(const stats::Totals& totals, uint64_t mono_ns);

  stack::Stack& stack_;
  Backend& backend_;
  std::vector<Poller*> pollers_;
  const KernelPathCounters& kernel_path_;
  const uint64_t perf_interval_ns_;
  stats::Writer writer_;
  uint64_t next_perf_ns_ = 0;
  uint64_t last_perf_ns_ = 0;
  stats::Totals last_perf_{};
};

}  // namespace dpdkudp::engine
