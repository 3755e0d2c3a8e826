#include "tests/support/netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace dpdkudp::test {
namespace {

// ---- crash-safe registry of the namespaces this process made ----
//
// Fixed-size, lock-free from a signal handler's point of view: a slot is
// claimed by writing its name and then setting `used`.
constexpr size_t kMaxNamespaces = 16;
constexpr size_t kPathLen = 96;
struct Slot {
  std::atomic<bool> used{false};
  char path[kPathLen] = {};
};
std::array<Slot, kMaxNamespaces> g_slots;
std::mutex g_slots_mutex;  // normal (non-signal) registration only

void unmount_all_registered() {
  for (Slot& slot : g_slots) {
    if (slot.used.exchange(false)) {
      ::umount2(slot.path, MNT_DETACH);
      ::unlink(slot.path);
    }
  }
}

void on_fatal_signal(int sig) {
  unmount_all_registered();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void install_cleanup_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::atexit(unmount_all_registered);
    for (int sig : {SIGINT, SIGTERM, SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) {
      struct sigaction sa {};
      sa.sa_handler = on_fatal_signal;
      sigemptyset(&sa.sa_mask);
      ::sigaction(sig, &sa, nullptr);
    }
  });
}

std::string netns_path(const std::string& name) { return "/var/run/netns/" + name; }

void register_namespace(const std::string& name) {
  install_cleanup_once();
  std::lock_guard<std::mutex> lock(g_slots_mutex);
  for (Slot& slot : g_slots) {
    if (!slot.used.load()) {
      std::snprintf(slot.path, kPathLen, "%s", netns_path(name).c_str());
      slot.used.store(true);
      return;
    }
  }
}

void unregister_namespace(const std::string& name) {
  std::lock_guard<std::mutex> lock(g_slots_mutex);
  const std::string path = netns_path(name);
  for (Slot& slot : g_slots) {
    if (slot.used.load() && path == slot.path) {
      slot.used.store(false);
    }
  }
}

std::atomic<unsigned> g_counter{0};

}  // namespace

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    result.output = "popen failed: " + std::string(std::strerror(errno));
    return result;
  }
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) {
    result.output += buf;
  }
  const int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

bool in_netns(const std::string& ns, const std::function<void()>& fn) {
  bool entered = false;
  std::thread worker([&] {
    const int fd = ::open(netns_path(ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return;
    }
    entered = ::setns(fd, CLONE_NEWNET) == 0;
    ::close(fd);
    if (entered) {
      fn();
    }
  });
  worker.join();
  return entered;
}

std::string mac_to_string(const MacAddr& mac) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return buf;
}

VethPair::VethPair() {
  const unsigned pid = static_cast<unsigned>(::getpid());
  const unsigned n = g_counter.fetch_add(1);
  const std::string tag = std::to_string(pid) + "-" + std::to_string(n);
  server_ns = "dpdkudp-afp-" + tag + "-s";
  client_ns = "dpdkudp-afp-" + tag + "-c";
  subnet = static_cast<uint8_t>((pid + n) % 250 + 1);
  // Locally administered, unicast; the pid's low bytes keep them apart.
  server_mac = {0x02, 0xaf, static_cast<uint8_t>(pid >> 8), static_cast<uint8_t>(pid), static_cast<uint8_t>(n), 0x02};
  client_mac = {0x02, 0xaf, static_cast<uint8_t>(pid >> 8), static_cast<uint8_t>(pid), static_cast<uint8_t>(n), 0x01};
  server_ip = wire::Ipv4Addr(198, 18, subnet, 2);
  client_ip = wire::Ipv4Addr(198, 18, subnet, 1);
  directed_broadcast = wire::Ipv4Addr(198, 18, subnet, 255);
}

VethPair::~VethPair() { destroy(); }

bool VethPair::client_exec(const std::string& command, std::string* error) const {
  const CommandResult r = run_command("ip netns exec " + client_ns + " " + command);
  if (r.status != 0 && error != nullptr) {
    *error = "`ip netns exec " + client_ns + " " + command + "` failed: " + r.output;
  }
  return r.status == 0;
}

bool VethPair::server_exec(const std::string& command, std::string* error) const {
  const CommandResult r = run_command("ip netns exec " + server_ns + " " + command);
  if (r.status != 0 && error != nullptr) {
    *error = "`ip netns exec " + server_ns + " " + command + "` failed: " + r.output;
  }
  return r.status == 0;
}

bool VethPair::create(std::string* error) {
  auto run = [&](const std::string& command) {
    const CommandResult r = run_command(command);
    if (r.status != 0) {
      *error = "`" + command + "` failed (exit " + std::to_string(r.status) + "): " + r.output;
      if (::geteuid() != 0) {
        *error += " -- these tests need root (network namespaces, CAP_NET_RAW)";
      }
    }
    return r.status == 0;
  };
  for (const std::string* ns : {&server_ns, &client_ns}) {
    if (!run("ip netns add " + *ns)) {
      destroy();
      return false;
    }
    register_namespace(*ns);
    created_ = true;
  }
  const std::string c = client_ip.to_string();
  const std::string s = server_ip.to_string();
  const bool ok =
      run("ip link add name " + server_if + " netns " + server_ns + " address " + mac_to_string(server_mac) +
          " type veth peer name " + client_if + " netns " + client_ns + " address " + mac_to_string(client_mac)) &&
      // No IPv6 on either side: no DAD/MLD/RS frames on the wire.
      run("ip netns exec " + server_ns + " sysctl -qw net.ipv6.conf.all.disable_ipv6=1") &&
      run("ip netns exec " + client_ns + " sysctl -qw net.ipv6.conf.all.disable_ipv6=1") &&
      run("ip -n " + server_ns + " link set " + server_if + " up") && run("ip -n " + client_ns + " link set lo up") &&
      run("ip -n " + client_ns + " addr add " + c + "/24 dev " + client_if) &&
      run("ip -n " + client_ns + " link set " + client_if + " up") &&
      run("ip -n " + client_ns + " neigh replace " + s + " lladdr " + mac_to_string(server_mac) + " dev " + client_if +
          " nud permanent") &&
      // A kernel sender on veth leaves UDP checksums partial otherwise.
      run("ip netns exec " + client_ns + " ethtool -K " + client_if + " tx off");
  if (!ok) {
    destroy();
  }
  return ok;
}

void VethPair::destroy() {
  if (!created_) {
    return;
  }
  created_ = false;
  for (const std::string* ns : {&server_ns, &client_ns}) {
    run_command("ip netns del " + *ns);
    unregister_namespace(*ns);
  }
}

bool VethPair::server_lists_multicast(const MacAddr& mac) const {
  std::string table;
  int ifindex = 0;
  const bool entered = in_netns(server_ns, [&] {
    ifindex = static_cast<int>(::if_nametoindex(server_if.c_str()));
    // thread-self: /proc/net is the namespace of the process's first
    // thread, not this one's.
    std::ifstream in("/proc/thread-self/net/dev_mcast");
    std::ostringstream text;
    text << in.rdbuf();
    table = text.str();
  });
  if (!entered || ifindex == 0) {
    return false;
  }
  std::string want;
  for (uint8_t b : mac) {
    static constexpr char kHex[] = "0123456789abcdef";
    want += kHex[b >> 4];
    want += kHex[b & 0xf];
  }
  // "ifindex name users global-users address" per line.
  std::istringstream lines(table);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    int index = 0;
    std::string name;
    int users = 0;
    int global_users = 0;
    std::string address;
    if (fields >> index >> name >> users >> global_users >> address && index == ifindex && address == want) {
      return true;
    }
  }
  return false;
}

}  // namespace dpdkudp::test
