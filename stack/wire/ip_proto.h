// IP protocol numbers (IANA "Assigned Internet Protocol Numbers"): the
// IPv4 Protocol field and the IPv6 Next Header field share them.
#pragma once

#include <cstdint>

namespace dpdkudp::wire::ip_proto {

inline constexpr uint8_t kHopByHop = 0;  // IPv6 Hop-by-Hop Options (RFC 8200 §4.3)
inline constexpr uint8_t kIcmp = 1;
inline constexpr uint8_t kIgmp = 2;
inline constexpr uint8_t kIpip = 4;  // IPv4 in IP (GUE's inner IPv4)
inline constexpr uint8_t kTcp = 6;
inline constexpr uint8_t kUdp = 17;
inline constexpr uint8_t kIpv6 = 41;      // IPv6 in IP (GUE's inner IPv6)
inline constexpr uint8_t kRouting = 43;   // IPv6 Routing header (RFC 8200 §4.4)
inline constexpr uint8_t kFragment = 44;  // IPv6 Fragment header (RFC 8200 §4.5)
inline constexpr uint8_t kIcmpv6 = 58;
inline constexpr uint8_t kNoNextHeader = 59;  // RFC 8200 §4.7
inline constexpr uint8_t kDestOptions = 60;   // IPv6 Destination Options (RFC 8200 §4.6)

}  // namespace dpdkudp::wire::ip_proto
