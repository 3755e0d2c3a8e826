// dpdkudp-run: runs a program under the shim (what `onload ./app` is to
// OpenOnload). Options become DPDKUDP_* variables, which override the
// configuration file key by key; LD_PRELOAD gets libdpdkudp.so.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

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
      "file (--config, else $DPDKUDP_CONFIG, else /etc/dpdkudp.env). See README.md for every key."};
  std::string config, backend, iface, ip, gateway, mode, log, lib;
  int busy_poll_us = -1;
  bool require = false;
  std::vector<std::string> command;
  app.add_option("-c,--config", config, "configuration file (DPDKUDP_CONFIG)")->check(CLI::ExistingFile);
  app.add_option("-b,--backend", backend, "auto | dpdk | af_xdp | af_packet | af_packet_mmap | off (DPDKUDP_BACKEND)");
  app.add_option("-i,--iface", iface, "interface to drive (DPDKUDP_IFACE)");
  app.add_option("--ip", ip, "the stack's address, e.g. 198.18.0.2/24 (DPDKUDP_IP)");
  app.add_option("--gateway", gateway, "default gateway (DPDKUDP_GATEWAY)");
  app.add_option("--mode", mode, "dedicated | shared (DPDKUDP_MODE)");
  app.add_option("--busy-poll-us", busy_poll_us, "spin this long before sleeping (DPDKUDP_BUSY_POLL_US)");
  app.add_option("--log", log, "quiet | error | warn | info | debug (DPDKUDP_LOG)");
  app.add_flag("--require", require, "exit instead of falling back to the kernel (DPDKUDP_REQUIRE=1)");
  app.add_option("--lib", lib, "path of libdpdkudp.so (default: found next to this program or installed)");
  app.add_option("command", command, "the program and its arguments (after --)")->required();
  app.positionals_at_end();
  CLI11_PARSE(app, argc, argv);

  auto set = [](const char* key, const std::string& value) {
    if (!value.empty()) setenv(key, value.c_str(), 1);
  };
  set("DPDKUDP_CONFIG", config);
  set("DPDKUDP_BACKEND", backend);
  set("DPDKUDP_IFACE", iface);
  set("DPDKUDP_IP", ip);
  set("DPDKUDP_GATEWAY", gateway);
  set("DPDKUDP_MODE", mode);
  set("DPDKUDP_LOG", log);
  if (busy_poll_us >= 0) set("DPDKUDP_BUSY_POLL_US", std::to_string(busy_poll_us));
  if (require) set("DPDKUDP_REQUIRE", "1");

  if (lib.empty()) lib = find_library();
  if (!fs::exists(lib)) {
    std::fprintf(stderr, "dpdkudp-run: %s: no such file (use --lib)\n", lib.c_str());
    return 127;
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
