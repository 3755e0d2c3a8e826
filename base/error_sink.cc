#include "base/error_sink.h"

#include <cstring>
#include <utility>

namespace dpdkudp::base {

ErrorSink::ErrorSink(std::string_view backend, std::string iface, std::string* out)
    : ErrorSink(Prefixed{}, std::string(backend) + ": interface \"" + iface + "\": ", iface, out) {}

ErrorSink ErrorSink::with_prefix(std::string prefix, std::string iface, std::string* out) {
  return ErrorSink(Prefixed{}, std::move(prefix), std::move(iface), out);
}

bool ErrorSink::fail(const std::string& reason) const {
  if (out_ != nullptr) {
    *out_ = prefix_ + reason;
  }
  return false;
}

bool ErrorSink::fail_errno(const std::string& what, int err) const {
  return fail(what + ": " + std::strerror(err < 0 ? -err : err));
}

}  // namespace dpdkudp::base
