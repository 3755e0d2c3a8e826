// Starting EAL once per process without the host program noticing (see
// dpdk.h, "EAL arguments"). Internal to backends/dpdk/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "backends/dpdk/dpdk.h"

namespace dpdkudp::dpdk {

// Splits on whitespace; no quoting.
std::vector<std::string> split_eal_args(std::string_view args);

// What the defaults depend on, so build_eal_argv() is a pure function.
struct EalHostFacts {
  int cpu = 0;             // first CPU the caller may run on
  bool hugepages = false;  // free hugepages exist
  long pid = 0;
  // PCI devices bound to a driver DPDK can drive (vfio-pci, uio_pci_generic,
  // igb_uio, and the bifurcated mlx4/mlx5 ones): the only ones EAL probes
  // when the arguments name none, so a host NIC the kernel drives is never
  // touched (nor its probe failure printed).
  std::vector<std::string> pci_usable;
};
EalHostFacts current_host_facts();
// argv[0] ("dpdkudp-eal"), then the defaults eal_args lacks, then eal_args.
std::vector<std::string> build_eal_argv(const std::string& eal_args, const EalHostFacts& facts);

// Emits one line through log, or to stderr when log is empty.
void emit_log(const DpdkLogFn& log, DpdkLogLevel level, const std::string& line);

// What EAL printed while it failed, boiled down to the reason:
// getopt's complaint or EAL's own specific line, generic lines dropped.
// Exposed for the tests.
std::string summarize_eal_failure(const std::vector<std::string>& lines, int rte_err);

}  // namespace dpdkudp::dpdk
