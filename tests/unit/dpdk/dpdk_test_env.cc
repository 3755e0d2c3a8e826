#include "tests/unit/dpdk/dpdk_test_env.h"

#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

#include "backends/dpdk/rte.h"

namespace dpdkudp::test {

namespace {

DpdkTestEnv g_env;
std::mutex g_log_mutex;
std::vector<std::string> g_log_lines;

void record_log(DpdkLogLevel /*level*/, const std::string& line) {
  std::lock_guard lock(g_log_mutex);
  g_log_lines.push_back(line);
}

// rte_eth_from_rings() lives in the net_ring driver, which EAL loaded as a
// plugin; linking it ourselves would load a second copy of the driver.
using FromRings = int (*)(const char*, rte_ring* const[], unsigned, rte_ring* const[], unsigned, unsigned);

int make_crossed_pair(uint16_t* a, uint16_t* b, std::string* why) {
  void* lib = dlopen("librte_net_ring.so.23", RTLD_NOW | RTLD_NOLOAD);
  if (lib == nullptr) {
    *why = std::string("net_ring driver not loaded: ") + dlerror();
    return -1;
  }
  auto from_rings = reinterpret_cast<FromRings>(dlsym(lib, "rte_eth_from_rings"));
  if (from_rings == nullptr) {
    *why = "no rte_eth_from_rings in the net_ring driver";
    return -1;
  }
  rte_ring* ab = rte_ring_create("dpdkudp_ab", 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  rte_ring* ba = rte_ring_create("dpdkudp_ba", 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (ab == nullptr || ba == nullptr) {
    *why = "rte_ring_create failed";
    return -1;
  }
  const int pa = from_rings("dpdkudp_a", &ba, 1, &ab, 1, 0);
  const int pb = from_rings("dpdkudp_b", &ab, 1, &ba, 1, 0);
  if (pa < 0 || pb < 0) {
    *why = "rte_eth_from_rings failed";
    return -1;
  }
  *a = static_cast<uint16_t>(pa);
  *b = static_cast<uint16_t>(pb);
  return 0;
}

void ignore_sigusr1(int) {}

class Environment : public ::testing::Environment {
 public:
  void SetUp() override {
    g_env.eal_args = "--no-huge -m 256 --no-pci --no-shconf --file-prefix=dpdkudp-test-" + std::to_string(::getpid()) +
                     " --vdev=net_ring0 --vdev=net_null0";
    pthread_getaffinity_np(pthread_self(), sizeof g_env.affinity_before, &g_env.affinity_before);
    struct sigaction sa {};
    sa.sa_handler = ignore_sigusr1;
    sigaction(SIGUSR1, &sa, nullptr);
    sigaction(SIGUSR1, nullptr, &g_env.sigusr1_before);
    for (int sig = 1; sig < NSIG; ++sig) {
      const auto i = static_cast<size_t>(sig);
      g_env.signal_valid[i] = sigaction(sig, nullptr, &g_env.signals_before[i]) == 0;
    }

    std::string error;
    ASSERT_TRUE(init_dpdk_eal(g_env.eal_args, {}, record_log, &error)) << error;
    g_env.runtime_dir = dpdk_eal_runtime_dir();
    ASSERT_EQ(rte_eth_dev_get_port_by_name("net_ring0", &g_env.ring_port), 0);
    ASSERT_EQ(rte_eth_dev_get_port_by_name("net_null0", &g_env.null_port), 0);
    std::string why;
    ASSERT_EQ(make_crossed_pair(&g_env.pair_a, &g_env.pair_b, &why), 0) << why;
  }
};

const auto* const g_registered = ::testing::AddGlobalTestEnvironment(new Environment);

}  // namespace

const DpdkTestEnv& dpdk_env() {
  (void)g_registered;
  return g_env;
}

std::vector<std::string> logged_lines() {
  std::lock_guard lock(g_log_mutex);
  return g_log_lines;
}

DpdkConfig test_config(uint16_t port) {
  DpdkConfig config;
  config.eal_args = g_env.eal_args;
  config.port = port;
  config.log = record_log;
  config.link_wait_ms = 1000;
  // Small pools: every geometry a test opens stays allocated (see
  // dpdk_backend.cc), in 256 MiB. 512 + 512 + 128 + 384 + 1024 -> 4095.
  config.rx_ring = 512;
  config.tx_ring = 512;
  config.socket_mbufs = 1024;
  return config;
}

std::string eal_probe_path() {
  if (const char* path = std::getenv("DPDKUDP_TEST_EAL_PROBE"); path != nullptr && *path != '\0') {
    return path;
  }
  char self[4096] = {};
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  std::string dir = n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string();
  dir = dir.substr(0, dir.find_last_of('/') + 1);
  return dir + "dpdk_eal_probe";
}

}  // namespace dpdkudp::test
