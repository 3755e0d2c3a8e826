// The capture wrapper as a module: libdpdkudp-pcap.so's one exported
// symbol (backends/api/backend_module.h, CaptureModule).
#include <exception>

#include "backends/api/backend_module.h"
#include "backends/pcap/pcap_tap.h"

namespace dpdkudp {
namespace {

std::unique_ptr<Backend> wrap(std::unique_ptr<Backend> inner, const std::string& path, uint64_t limit_bytes,
                              std::string* error) {
  try {
    return std::make_unique<PcapTap>(std::move(inner), path, limit_bytes);
  } catch (const std::exception& e) {
    *error = e.what();
    return nullptr;
  }
}

void counts(const Backend& wrapper, uint64_t* written, uint64_t* left_out) {
  const auto& tap = static_cast<const PcapTap&>(wrapper);
  *written = tap.frames_written();
  *left_out = tap.frames_left_out();
}

const CaptureModule kModule{kBackendModuleAbi, DPDKUDP_VERSION, wrap, counts};

}  // namespace
}  // namespace dpdkudp

extern "C" __attribute__((visibility("default"))) const dpdkudp::CaptureModule* dpdkudp_capture_module() {
  return &dpdkudp::kModule;
}
