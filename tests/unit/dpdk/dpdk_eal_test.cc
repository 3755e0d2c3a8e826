// EAL started by the test Environment: the host program (this test) must
// not notice it. Its threads keep their affinity and signal handlers, EAL's
// threads take no signals, no telemetry socket, no runtime directory left,
// and a second start reuses the first.
#include <dirent.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "backends/dpdk/dpdk.h"
#include "backends/dpdk/rte.h"
#include "tests/unit/dpdk/dpdk_test_env.h"

namespace dpdkudp::test {
namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// "SigBlk:" of a task, as the hex mask.
std::string status_field(const std::string& task_dir, const std::string& field) {
  std::ifstream in(task_dir + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) {
      std::string value = line.substr(field.size() + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return {};
}

std::string comm(const std::string& task_dir) {
  std::ifstream in(task_dir + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

TEST(DpdkEal, StartedWithTheMergedArguments) {
  const auto argv = dpdk_eal_argv_in_use();
  ASSERT_FALSE(argv.empty());
  EXPECT_EQ(argv[0], "dpdkudp-eal");
  auto has = [&](const std::string& a) { return std::find(argv.begin(), argv.end(), a) != argv.end(); };
  EXPECT_TRUE(has("--no-telemetry"));
  EXPECT_TRUE(has("--log-level=error"));
  EXPECT_TRUE(has("--vdev=net_ring0"));
  EXPECT_TRUE(has("--file-prefix=dpdkudp-test-" + std::to_string(::getpid())));
  EXPECT_EQ(rte_eal_has_hugepages(), 0);
}

TEST(DpdkEal, SecondStartReusesTheFirst) {
  std::string error;
  EXPECT_TRUE(init_dpdk_eal(dpdk_env().eal_args, {}, {}, &error)) << error;
  // Different arguments: still fine, with a warning that they were ignored.
  std::vector<std::string> warnings;
  EXPECT_TRUE(init_dpdk_eal(
      "--vdev=net_null9", {}, [&](DpdkLogLevel, const std::string& line) { warnings.push_back(line); }, &error))
      << error;
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("ignored"), std::string::npos) << warnings[0];
  uint16_t unused = 0;
  EXPECT_NE(rte_eth_dev_get_port_by_name("net_null9", &unused), 0);
}

TEST(DpdkEal, NoRuntimeDirectoryLeft) {
  const std::string dir = dpdk_env().runtime_dir;
  ASSERT_FALSE(dir.empty());
  EXPECT_NE(dir.find("dpdkudp-test-" + std::to_string(::getpid())), std::string::npos) << dir;
  EXPECT_FALSE(exists(dir)) << dir << " left behind";
  EXPECT_FALSE(exists(dir + "/dpdk_telemetry.v2"));
}

TEST(DpdkEal, CallerAffinityUnchanged) {
  cpu_set_t now;
  CPU_ZERO(&now);
  ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof now, &now), 0);
  EXPECT_TRUE(CPU_EQUAL(&now, &dpdk_env().affinity_before))
      << "EAL pinned the calling thread: " << CPU_COUNT(&now) << " CPU(s) now, "
      << CPU_COUNT(&dpdk_env().affinity_before) << " before";
  // A thread started now inherits the program's affinity, not lcore 0's.
  cpu_set_t child;
  CPU_ZERO(&child);
  std::thread([&] { pthread_getaffinity_np(pthread_self(), sizeof child, &child); }).join();
  EXPECT_TRUE(CPU_EQUAL(&child, &dpdk_env().affinity_before));
}

TEST(DpdkEal, SignalHandlersUnchanged) {
  struct sigaction now {};
  ASSERT_EQ(sigaction(SIGUSR1, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, dpdk_env().sigusr1_before.sa_handler);
  // Every disposition as it was before EAL (a sanitizer's own SIGSEGV
  // handler included).
  int compared = 0;
  for (int sig = 1; sig < NSIG; ++sig) {
    const auto i = static_cast<size_t>(sig);
    if (!dpdk_env().signal_valid[i] || sigaction(sig, nullptr, &now) != 0) {
      continue;
    }
    ++compared;
    const struct sigaction& before = dpdk_env().signals_before[i];
    EXPECT_EQ(now.sa_handler, before.sa_handler) << "signal " << sig << " (" << strsignal(sig) << ")";
    EXPECT_EQ(now.sa_flags, before.sa_flags) << "signal " << sig;
  }
  EXPECT_GE(compared, 60);
}

TEST(DpdkEal, EalThreadsBlockEverySignal) {
  // EAL's threads (named eal-*, rte_*, ...) must not take signals meant
  // for the program.
  const std::string self = std::to_string(::gettid());
  DIR* dir = ::opendir("/proc/self/task");
  ASSERT_NE(dir, nullptr);
  int eal_threads = 0;
  while (dirent* e = ::readdir(dir)) {
    const std::string tid = e->d_name;
    if (tid == "." || tid == ".." || tid == self) {
      continue;
    }
    const std::string task = "/proc/self/task/" + tid;
    const std::string name = comm(task);
    const std::string blocked = status_field(task, "SigBlk");
    const bool eal_made = name.rfind("eal-", 0) == 0 || name.rfind("rte", 0) == 0 || name.rfind("dpdk", 0) == 0 ||
                          name.rfind("telemetry", 0) == 0;
    if (!eal_made) {
      continue;  // e.g. a sanitizer's own thread
    }
    ++eal_threads;
    // All 64 signals but SIGKILL/SIGSTOP (which cannot be blocked) and
    // glibc's two internal ones: fffffffe7ffbfeff or wider.
    EXPECT_EQ(blocked, "fffffffe7ffbfeff") << "thread " << tid << " (" << name << ") blocks only " << blocked;
  }
  ::closedir(dir);
  EXPECT_GE(eal_threads, 1) << "EAL's interrupt thread not found";
}

TEST(DpdkEal, LogGoesThroughTheCallbackNotStdout) {
  // A DPDK error log line goes to the callback the first start gave.
  const size_t before = logged_lines().size();
  RTE_LOG(ERR, USER1, "dpdkudp-test-marker %d\n", 42);
  const auto lines = logged_lines();
  ASSERT_GT(lines.size(), before);
  EXPECT_NE(lines.back().find("dpdkudp-test-marker 42"), std::string::npos) << lines.back();
  // Below the level in force (error): dropped.
  RTE_LOG(INFO, USER1, "dpdkudp-test-quiet\n");
  EXPECT_EQ(logged_lines().size(), lines.size());
}

}  // namespace
}  // namespace dpdkudp::test
