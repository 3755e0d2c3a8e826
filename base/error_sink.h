// Collects the one error line an open (or a lookup) reports, such as
//   af_packet: interface "eth1": <reason>
// Every fail*() returns false so call sites read `return err.fail(...)`.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace dpdkudp::base {

class ErrorSink {
 public:
  // Lines read `<backend>: interface "<iface>": <reason>`.
  ErrorSink(std::string_view backend, std::string iface, std::string* out);
  // Lines read `<prefix><reason>`, for callers with their own wording.
  static ErrorSink with_prefix(std::string prefix, std::string iface, std::string* out);

  bool fail(const std::string& reason) const;
  // Appends ": strerror(err)" to what (err positive or negative: libbpf
  // returns -errno).
  bool fail_errno(const std::string& what, int err) const;
  const std::string& iface() const { return iface_; }

 private:
  struct Prefixed {};  // tells the prefix constructor from the backend one
  ErrorSink(Prefixed, std::string prefix, std::string iface, std::string* out)
      : prefix_(std::move(prefix)), iface_(std::move(iface)), out_(out) {}

  std::string prefix_;
  std::string iface_;
  std::string* out_;
};

}  // namespace dpdkudp::base
