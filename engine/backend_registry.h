// Which backends exist and how to reach each one's module
// (backends/api/backend_module.h): AF_PACKET's are linked in, DPDK's and
// AF_XDP's are shared objects loaded on first use (decision 9).
//
// Thread-safe. A loaded module stays loaded for the life of the process
// (its code runs on the pollers until exit).
#pragma once

#include <string>
#include <string_view>

#include "backends/api/backend_module.h"
#include "engine/config.h"

namespace dpdkudp::engine {

// "libdpdkudp-af_xdp.so" for a loadable module's name.
std::string backend_module_file(std::string_view name);

// Whether this build produced the backend (its module may still be missing
// from the installation). kAuto and kOff: false.
bool backend_built(BackendKind kind);

// The backend's module: the built-in one, or the shared object loaded from
//   module_dir when set (DPDKUDP_MODULE_DIR: only there), else
//   the directory libdpdkudp.so (or the program linking the engine) was
//   loaded from, then the dynamic linker's own search (RUNPATH,
//   LD_LIBRARY_PATH, the system's library directories).
// On failure nullptr and one line in *error: the file, where it was looked
// for and why it did not load (missing, not from this build, no entry).
const BackendModule* find_backend_module(BackendKind kind, const std::string& module_dir, std::string* error);

// The capture module (libdpdkudp-pcap.so, DPDKUDP_CAPTURE), looked for as
// a backend module is; nullptr and one line in *error when it is missing.
const CaptureModule* find_capture_module(const std::string& module_dir, std::string* error);

}  // namespace dpdkudp::engine
