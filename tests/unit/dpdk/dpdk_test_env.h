// The one EAL of a dpdk_tests process, started by a gtest Environment
// before any test (EAL starts once per process; failure paths run in child
// processes, see dpdk_eal_probe.cc). Devices, all virtual, no hugepages:
//   net_ring0  one ring per queue that TX feeds and RX drains: a loopback
//   net_null0  RX makes 64-byte frames from the queue's pool, TX frees
//   net_ring_dpdkudp_a / _b  (rte_eth_from_rings) crossed rings: what one
//              sends the other receives
#pragma once

#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>

#include <array>
#include <string>
#include <vector>

#include "backends/dpdk/dpdk.h"

namespace dpdkudp::test {

struct DpdkTestEnv {
  std::string eal_args;
  std::string runtime_dir;  // EAL's runtime dir (removed after start)
  uint16_t ring_port = 0;   // net_ring0
  uint16_t null_port = 0;   // net_null0
  uint16_t pair_a = 0;      // crossed ring pair
  uint16_t pair_b = 0;
  cpu_set_t affinity_before{};  // the main thread's, before EAL
  struct sigaction sigusr1_before {};
  // Every signal's disposition before EAL (valid where sigaction worked).
  std::array<struct sigaction, NSIG> signals_before{};
  std::array<bool, NSIG> signal_valid{};
};

// Set up by the Environment; valid in every test.
const DpdkTestEnv& dpdk_env();

// What DPDK and the backends logged so far (a copy).
std::vector<std::string> logged_lines();

// A DpdkConfig for port with the environment's EAL args and a log that
// records into dpdk_env().log_lines.
DpdkConfig test_config(uint16_t port);

// The probe executable (DPDKUDP_TEST_EAL_PROBE, or next to this binary).
std::string eal_probe_path();

}  // namespace dpdkudp::test
