#include "engine/backend_registry.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "backends/af_packet/af_packet_module.h"

namespace dpdkudp::engine {
namespace {

struct Registered {
  BackendKind kind;
  std::string_view name;
  const BackendModule* (*built_in)();  // nullptr: a loadable module
  bool built;                          // this build produced it
};

#ifdef DPDKUDP_BUILT_DPDK_MODULE
constexpr bool kDpdkBuilt = true;
#else
constexpr bool kDpdkBuilt = false;
#endif
#ifdef DPDKUDP_BUILT_AF_XDP_MODULE
constexpr bool kAfXdpBuilt = true;
#else
constexpr bool kAfXdpBuilt = false;
#endif

constexpr Registered kBackends[] = {
    {BackendKind::kDpdk, "dpdk", nullptr, kDpdkBuilt},
    {BackendKind::kAfXdp, "af_xdp", nullptr, kAfXdpBuilt},
    {BackendKind::kAfPacket, "af_packet", af_packet_module, true},
    {BackendKind::kAfPacketMmap, "af_packet_mmap", af_packet_mmap_module, true},
};

const Registered* lookup(BackendKind kind) {
  for (const Registered& r : kBackends) {
    if (r.kind == kind) return &r;
  }
  return nullptr;
}

// The directory of the object this code was linked into, made absolute
// when that object is loaded: LD_PRELOAD may name it by a relative path,
// and a daemon may chdir() before its first socket().
std::string resolve_own_directory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&resolve_own_directory), &info) == 0 || info.dli_fname == nullptr) return {};
  char resolved[PATH_MAX];
  if (realpath(info.dli_fname, resolved) == nullptr) return {};
  std::string path = resolved;
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

const std::string& own_directory() {
  static const std::string dir = resolve_own_directory();
  return dir;
}
// Evaluated at load, before the program runs.
[[maybe_unused]] const std::string& g_own_directory_at_load = own_directory();

// Whether a module's abi and version are this build's; *why otherwise.
bool same_build(uint32_t abi, const char* version, std::string* why) {
  if (abi == kBackendModuleAbi && std::strcmp(version, DPDKUDP_VERSION) == 0) return true;
  *why = std::string("is from dpdkudp ") + version + " (module ABI " + std::to_string(abi) + "), libdpdkudp.so from " +
         DPDKUDP_VERSION + " (ABI " + std::to_string(kBackendModuleAbi) + "): install them together";
  return false;
}

// Checks what a loaded object says it is; nullptr and *why otherwise.
const BackendModule* check_module(void* handle, std::string_view name, std::string* why) {
  auto entry = reinterpret_cast<BackendModuleEntry>(dlsym(handle, kBackendModuleSymbol));
  if (entry == nullptr) {
    *why = std::string("has no ") + kBackendModuleSymbol + " entry";
    return nullptr;
  }
  const BackendModule* m = entry();
  if (m == nullptr || m->open == nullptr || name != m->name) {
    *why = "is not the " + std::string(name) + " module";
    return nullptr;
  }
  return same_build(m->abi, m->version, why) ? m : nullptr;
}

const CaptureModule* check_capture_module(void* handle, std::string_view /*name*/, std::string* why) {
  auto entry = reinterpret_cast<CaptureModuleEntry>(dlsym(handle, kCaptureModuleSymbol));
  const CaptureModule* m = entry != nullptr ? entry() : nullptr;
  if (m == nullptr || m->wrap == nullptr || m->counts == nullptr) {
    *why = std::string("has no ") + kCaptureModuleSymbol + " entry";
    return nullptr;
  }
  return same_build(m->abi, m->version, why) ? m : nullptr;
}

// Loads libdpdkudp-<name>.so from module_dir, else beside this object,
// else by the dynamic linker's search, and checks it with check; what
// names it in errors is `what` ("backend af_xdp").
template <typename Module>
const Module* load(std::string_view name, std::string_view what, const std::string& module_dir,
                   const Module* (*check)(void*, std::string_view, std::string*), std::string* error) {
  const std::string file = backend_module_file(name);
  std::vector<std::string> candidates;
  if (!module_dir.empty()) {
    candidates.push_back(module_dir + "/" + file);
  } else {
    if (const std::string& own = own_directory(); !own.empty()) candidates.push_back(own + "/" + file);
    candidates.push_back(file);  // the dynamic linker's search
  }
  std::string tried;
  for (const std::string& path : candidates) {
    // RTLD_LOCAL: the module's own symbols never interpose anyone's.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      if (!tried.empty()) tried += "; ";
      tried += why != nullptr ? why : path + ": not loadable";
      continue;
    }
    std::string why;
    if (const Module* m = check(handle, name, &why)) return m;
    dlclose(handle);
    *error = std::string(what) + ": " + path + " " + why;
    return nullptr;
  }
  *error = std::string(what) + ": module " + file + " not found (" + tried + ")" +
           (module_dir.empty() ? "; install it beside libdpdkudp.so or set DPDKUDP_MODULE_DIR" : "");
  return nullptr;
}

}  // namespace

std::string backend_module_file(std::string_view name) { return "libdpdkudp-" + std::string(name) + ".so"; }

bool backend_built(BackendKind kind) {
  const Registered* r = lookup(kind);
  return r != nullptr && r->built;
}

const BackendModule* find_backend_module(BackendKind kind, const std::string& module_dir, std::string* error) {
  const Registered* r = lookup(kind);
  if (r == nullptr) {
    *error = "backend " + std::string(to_string(kind)) + ": no module";
    return nullptr;
  }
  if (r->built_in != nullptr) return r->built_in();
  if (!r->built) {
    *error = "DPDKUDP_BACKEND=" + std::string(r->name) + ": not built (" +
             (kind == BackendKind::kDpdk ? "libdpdk-dev" : "libbpf-dev/libxdp-dev/clang") + " missing at build time)";
    return nullptr;
  }
  // One load per module and directory for the life of the process.
  static std::mutex lock;
  static auto* loaded = new std::map<std::string, const BackendModule*>();  // never destroyed: pollers run at exit
  std::lock_guard guard(lock);
  const std::string key = std::string(r->name) + "\n" + module_dir;
  if (auto it = loaded->find(key); it != loaded->end()) return it->second;
  const BackendModule* m = load(r->name, "backend " + std::string(r->name), module_dir, check_module, error);
  if (m != nullptr) loaded->emplace(key, m);
  return m;
}

const CaptureModule* find_capture_module(const std::string& module_dir, std::string* error) {
  static std::mutex lock;
  static auto* loaded = new std::map<std::string, const CaptureModule*>();  // never destroyed, as above
  std::lock_guard guard(lock);
  if (auto it = loaded->find(module_dir); it != loaded->end()) return it->second;
  const CaptureModule* m = load<CaptureModule>("pcap", "DPDKUDP_CAPTURE", module_dir, check_capture_module, error);
  if (m != nullptr) loaded->emplace(module_dir, m);
  return m;
}

}  // namespace dpdkudp::engine
