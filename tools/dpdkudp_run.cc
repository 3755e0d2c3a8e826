// dpdkudp-run: runs a program under the shim (what `onload ./app` is to
// OpenOnload). Options become DPDKUDP_* variables, which override the
// configuration file key by key; LD_PRELOAD gets libdpdkudp.so.
//
// The whole configuration (file, environment, options) is validated before
// the program starts: a bad option or setting is one line and exit status
// 2. --check also opens the backend, prints what would be used, and exits
// (0, or 1 with the reason).
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#ifdef DPDKUDP_HAVE_DPDK
#include "backends/dpdk/dpdk.h"
#endif
#include "engine/config.h"
#include "engine/engine.h"

namespace fs = std::filesystem;

namespace {

// The library next to this program in a build tree, else the installed one.
std::string find_library() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path in_build = self.parent_path().parent_path() / "preload" / "libdpdkudp.so";
    if (fs::exists(in_build)) return in_build.string();
  }
  return std::string(DPDKUDP_LIBDIR) + "/libdpdkudp.so";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Run PROGRAM with its UDP sockets on the dpdkudp userspace stack (LD_PRELOAD=libdpdkudp.so).\n"
      "Options set the matching DPDKUDP_* variable; anything not given comes from the configuration\n"
      "file (--config, else $DPDKUDP_CONFIG, else /etc/dpdkudp.env). Every key: dpdkudp.env(5), or README.md."};
  std::string config, backend, iface, ip, gateway, ip6, gateway6, mode, log, lib;
  std::string busy_poll_us;  // validated with the configuration, as the file's value would be
  bool require = false;
  std::vector<std::string> command;
  app.add_option("-c,--config", config, "configuration file (DPDKUDP_CONFIG)")->check(CLI::ExistingFile);
  app.add_option("-b,--backend", backend, "auto | dpdk | af_xdp | af_packet | af_packet_mmap | off (DPDKUDP_BACKEND)");
  app.add_option("-i,--iface", iface, "interface to drive (DPDKUDP_IFACE)");
  app.add_option("--ip", ip, "the stack's address, e.g. 198.18.0.2/24 (DPDKUDP_IP)");
  app.add_option("--gateway", gateway, "default gateway (DPDKUDP_GATEWAY)");
  app.add_option("--ip6", ip6, "the stack's IPv6 addresses, e.g. 2001:2::2/64[,...], or off (DPDKUDP_IP6)");
  app.add_option("--gateway6", gateway6, "default IPv6 router, e.g. fe80::1 (DPDKUDP_GATEWAY6)");
  app.add_option("--mode", mode, "dedicated | shared (DPDKUDP_MODE)");
  app.add_option("--busy-poll-us", busy_poll_us, "spin this long before sleeping (DPDKUDP_BUSY_POLL_US)");
  app.add_option("--log", log, "quiet | error | warn | info | debug (DPDKUDP_LOG)");
  std::string profile;
  app.add_option("-p,--profile", profile,
                 "latency | throughput | low-cpu: a named set of settings (DPDKUDP_PROFILE), listed below");
  // A paragraph a profile, indented under a heading (help2man keeps each
  // one apart).
  std::string profiles_footer =
      "Profiles (a key set in the file, the environment or an option wins over its profile):\n  ";
  for (char c : dpdkudp::engine::describe_profiles()) {
    profiles_footer += c;
    if (c == '\n') profiles_footer += "\n  ";
  }
  app.footer(profiles_footer);
  app.add_flag("--require", require, "exit instead of falling back to the kernel (DPDKUDP_REQUIRE=1)");
  app.add_option("--lib", lib, "path of libdpdkudp.so (default: found next to this program or installed)");
  bool list_ports = false;
  std::string eal_args;
  app.add_flag("--list-ports", list_ports, "list the ports DPDK sees (driver, MAC, link, offloads) and exit");
  app.add_option("--eal-args", eal_args, "EAL arguments (DPDKUDP_EAL_ARGS), e.g. \"--vdev=net_af_packet0,iface=eth1\"");
  bool check = false;
  app.add_flag("--check", check,
               "validate the configuration and open the backend without running anything; print what would be "
               "used");
  bool list_keys = false;
  app.add_flag("--list-keys", list_keys, "print every configuration key (DPDKUDP_*), one per line, and exit");
  app.add_option("command", command, "the program and its arguments (after --)");
  app.positionals_at_end();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11's own codes (105, 109, ...) mean nothing to a shell script:
    // every usage error is status 2, as getopt tools give.
    app.exit(e);
    return 2;
  }

  if (list_keys) {
    for (std::string_view key : dpdkudp::engine::config_keys()) {
      std::printf("%.*s\n", static_cast<int>(key.size()), key.data());
    }
    return 0;
  }
  if (eal_args.empty()) {
    if (const char* e = std::getenv("DPDKUDP_EAL_ARGS")) eal_args = e;
  }
  if (list_ports) {
#ifdef DPDKUDP_HAVE_DPDK
    std::string error;
    auto ports = dpdkudp::list_dpdk_ports(eal_args, &error);
    if (!error.empty()) {
      std::fprintf(stderr, "dpdkudp-run: %s\n", error.c_str());
      return 1;
    }
    if (ports.empty()) std::printf("no DPDK ports (pass --eal-args \"--vdev=...\" or bind a NIC: docs/dpdk.md)\n");
    for (const auto& p : ports) std::printf("%s\n", dpdkudp::to_string(p).c_str());
    return 0;
#else
    std::fprintf(stderr, "dpdkudp-run: built without DPDK\n");
    return 1;
#endif
  }
  if (command.empty() && !check) {
    std::fprintf(stderr, "dpdkudp-run: no program given (dpdkudp-run [options] -- program args...)\n");
    return 2;
  }

  auto set = [](const char* key, const std::string& value) {
    if (!value.empty()) setenv(key, value.c_str(), 1);
  };
  set("DPDKUDP_CONFIG", config);
  set("DPDKUDP_BACKEND", backend);
  set("DPDKUDP_IFACE", iface);
  set("DPDKUDP_IP", ip);
  set("DPDKUDP_GATEWAY", gateway);
  set("DPDKUDP_IP6", ip6);
  set("DPDKUDP_GATEWAY6", gateway6);
  set("DPDKUDP_MODE", mode);
  set("DPDKUDP_LOG", log);
  set("DPDKUDP_PROFILE", profile);
  set("DPDKUDP_EAL_ARGS", eal_args);
  set("DPDKUDP_BUSY_POLL_US", busy_poll_us);
  if (require) set("DPDKUDP_REQUIRE", "1");
  // One line when the bypass is up, unless the configuration says otherwise.
  setenv("DPDKUDP_ANNOUNCE", "1", 0);

  // Every key, from the file and the environment with the options above
  // applied, as the shim will read them.
  auto loaded = dpdkudp::engine::load_config_from_process();
  if (!loaded) {
    std::fprintf(stderr, "%s\n", loaded.error().message().c_str());  // "dpdkudp: config: <where>: KEY=...: why"
    return 2;
  }

  if (lib.empty()) lib = find_library();
  if (!fs::exists(lib)) {
    std::fprintf(stderr, "dpdkudp-run: %s: no such file (use --lib)\n", lib.c_str());
    return 127;
  }

  if (check) {
    dpdkudp::engine::Config cfg = loaded.value();
    // The backend modules are beside the library the program would get.
    if (cfg.module_dir.empty()) cfg.module_dir = fs::path(lib).parent_path().string();
    cfg.announce = false;  // the check says it itself, on stdout
    if (cfg.backend == dpdkudp::engine::BackendKind::kOff) {
      std::printf("dpdkudp-run: DPDKUDP_BACKEND=off: the program would run on the kernel\n");
      return 0;
    }
    std::string error;
    auto engine = dpdkudp::engine::Engine::start(cfg, &error);
    if (!engine) {
      std::fprintf(stderr, "dpdkudp-run: check failed: %s\n", error.c_str());
      return 1;
    }
    std::printf("dpdkudp-run: ok: %s (library %s)\n", engine->banner().c_str(), lib.c_str());
    return 0;
  }
  std::string preload = lib;
  if (const char* old = std::getenv("LD_PRELOAD"); old != nullptr && *old != '\0') preload += std::string(":") + old;
  setenv("LD_PRELOAD", preload.c_str(), 1);

  std::vector<char*> args;
  for (auto& a : command) args.push_back(a.data());
  args.push_back(nullptr);
  execvp(args[0], args.data());
  std::fprintf(stderr, "dpdkudp-run: %s: %s\n", args[0], std::strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
