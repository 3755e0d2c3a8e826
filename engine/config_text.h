// The text pieces of the configuration's parsers (config.cc, and
// offload_rules.cc for DPDKUDP_OFFLOAD's entries): one definition of what
// a blank, a word and a number are in a setting.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace dpdkudp::engine::text {

// Space, tab, CR, LF, VT, FF.
bool is_space(char c);
std::string_view trim(std::string_view s);
// Splits on sep, keeping empty pieces (callers skip them).
std::vector<std::string_view> split(std::string_view s, char sep);
// The words of s, split on blanks.
std::vector<std::string_view> words(std::string_view s);
// Decimal digits only (no sign, no base prefix), lo..hi.
std::optional<uint64_t> parse_number(std::string_view s, uint64_t lo, uint64_t hi);

}  // namespace dpdkudp::engine::text
