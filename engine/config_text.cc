#include "engine/config_text.h"

namespace dpdkudp::engine::text {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    size_t pos = s.find(sep);
    parts.push_back(s.substr(0, pos));
    if (pos == std::string_view::npos) return parts;
    s.remove_prefix(pos + 1);
  }
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    s = trim(s);
    if (s.empty()) return out;
    size_t end = 0;
    while (end < s.size() && !is_space(s[end])) ++end;
    out.push_back(s.substr(0, end));
    s.remove_prefix(end);
  }
}

std::optional<uint64_t> parse_number(std::string_view s, uint64_t lo, uint64_t hi) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > hi) return std::nullopt;  // also keeps v far from overflow
  }
  if (v < lo) return std::nullopt;
  return v;
}

}  // namespace dpdkudp::engine::text
