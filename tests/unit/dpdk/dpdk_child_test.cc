// What can happen only once per process (EAL failing to start, a start
// with the defaults) runs in a child: dpdk_eal_probe (dpdk_eal_probe.cc).
// Each case checks the one error line, that nothing else reached the
// program's stdout/stderr, and that no /var/run/dpdk/<prefix> is left.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/dpdk/dpdk_test_env.h"

namespace dpdkudp::test {
namespace {

struct ChildResult {
  int status = -1;  // exit status, -1 when killed or not run
  std::string out;
  std::string err;
  long pid = 0;
};

ChildResult run_probe(const std::vector<std::string>& args) {
  ChildResult r;
  const std::string probe = eal_probe_path();
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe";
    return r;
  }
  std::vector<std::string> argv_store{probe};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::execv(probe.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  r.pid = pid;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (open_fds > 0 && std::chrono::steady_clock::now() < deadline) {
    if (::poll(fds, 2, 1000) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  if (open_fds > 0) {
    ::kill(pid, SIGKILL);
    ADD_FAILURE() << "probe did not finish within 60 s";
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The probe's own lines ("probe: ..."), prefix removed; everything else
// on stderr is a leak from EAL and fails the test.
// With allow_dpdk_log, DPDK's own log lines (labelled "dpdkudp: dpdk: ",
// the default DpdkConfig::log) are allowed too.
std::vector<std::string> probe_lines(const ChildResult& r, bool allow_dpdk_log = false) {
  std::vector<std::string> out;
  for (const std::string& line : lines(r.err)) {
    if (line.rfind("probe: ", 0) == 0) {
      out.push_back(line.substr(7));
    } else if (allow_dpdk_log && line.rfind("dpdkudp: dpdk: ", 0) == 0) {
      continue;
    } else {
      ADD_FAILURE() << "unexpected stderr line: " << line;
    }
  }
  return out;
}

std::string runtime_root() {
  if (::geteuid() == 0) return "/var/run/dpdk/";
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  return std::string(xdg != nullptr ? xdg : "/tmp") + "/dpdk/";
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string prefix(const std::string& name) { return "dpdkudp-child-" + name + "-" + std::to_string(::getpid()); }

std::string base_args(const std::string& name) { return "--no-huge -m 64 --no-pci --file-prefix=" + prefix(name); }

TEST(DpdkEalChild, BadArgumentsGiveOneLineAndNoUsageText) {
  const ChildResult r = run_probe({"open", base_args("bad") + " --bogus-option"});
  EXPECT_EQ(r.status, 1);
  // EAL's usage text went nowhere near the program's stdout.
  EXPECT_EQ(r.out, "probe-stdout-marker\nprobe-stdout-end\n");
  const auto got = probe_lines(r);
  ASSERT_EQ(got.size(), 2u) << r.err;
  EXPECT_EQ(got[0].rfind("error: dpdk: EAL start failed: unrecognized option '--bogus-option' (EAL arguments: ", 0), 0u)
      << got[0];
  // EAL cannot be started twice: the second open says so at once.
  EXPECT_NE(got[1].find("an earlier start failed"), std::string::npos) << got[1];
  EXPECT_FALSE(exists(runtime_root() + prefix("bad")));
}

TEST(DpdkEalChild, BadCoreList) {
  const ChildResult r = run_probe({"open", base_args("lcore") + " -l 1023"});
  EXPECT_EQ(r.status, 1);
  const auto got = probe_lines(r);
  ASSERT_GE(got.size(), 1u) << r.err;
  EXPECT_EQ(got[0].rfind("error: dpdk: EAL start failed: ", 0), 0u) << got[0];
  EXPECT_NE(got[0].find("1023"), std::string::npos) << got[0];
  EXPECT_FALSE(exists(runtime_root() + prefix("lcore")));
}

TEST(DpdkEalChild, NoPorts) {
  const ChildResult r = run_probe({"open", base_args("noports")});
  EXPECT_EQ(r.status, 1);
  const auto got = probe_lines(r);
  ASSERT_EQ(got.size(), 2u) << r.err;
  EXPECT_EQ(got[0], "error: dpdk: no DPDK ports (did you pass --vdev or bind a NIC with dpdk-devbind.py?)");
  EXPECT_EQ(got[1], got[0]);  // EAL reused, still no ports
  EXPECT_FALSE(exists(runtime_root() + prefix("noports")));
}

TEST(DpdkEalChild, BadPortNumber) {
  const ChildResult r = run_probe({"open", base_args("badport") + " --vdev=net_null0", "3"});
  EXPECT_EQ(r.status, 1);
  const auto got = probe_lines(r);
  ASSERT_EQ(got.size(), 2u) << r.err;
  EXPECT_EQ(got[0], "error: dpdk: DPDKUDP_DPDK_PORT=3: only 1 port(s) (ids 0)");
}

TEST(DpdkEalChild, OpensAndLeavesNothingBehind) {
  const ChildResult r = run_probe({"open", base_args("ok") + " --vdev=net_null0"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "probe-stdout-marker\nprobe-stdout-end\n");
  const auto got = probe_lines(r);
  ASSERT_EQ(got.size(), 2u) << r.err;
  EXPECT_EQ(got[0].rfind("opened: port 0 (net_null0, net_null), 1 queue(s)", 0), 0u) << got[0];
  EXPECT_EQ(got[1], got[0]);  // closed and opened again, same pool
  EXPECT_FALSE(exists(runtime_root() + prefix("ok")));
}

TEST(DpdkEalChild, DefaultArguments) {
  // Nothing given: our defaults alone. Only listed, never opened: on a
  // machine with a NIC bound to DPDK this must not start it. PCI is
  // probed, and DPDK logs (at error level, labelled) the devices the
  // kernel holds, e.g. "EAL: Requested device 0000:00:03.0 cannot be used".
  const ChildResult r = run_probe({"list", ""});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "probe-stdout-marker\n");
  const auto got = probe_lines(r, true);
  ASSERT_FALSE(got.empty()) << r.err;
  EXPECT_NE(got.back().find(" port(s)"), std::string::npos) << got.back();
  EXPECT_FALSE(exists(runtime_root() + "dpdkudp-" + std::to_string(r.pid)));
}

TEST(DpdkEalChild, ListPorts) {
  const ChildResult r = run_probe({"list", base_args("list") + " --vdev=net_null0 --vdev=net_ring0"});
  EXPECT_EQ(r.status, 0) << r.err;
  const auto got = probe_lines(r);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back(), "2 port(s)");
  EXPECT_NE(r.err.find("port 0: net_null0 (driver net_null)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("port 1: net_ring0 (driver net_ring)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dpdkudp::test
