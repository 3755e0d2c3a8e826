// Link-layer address types. They live below every layer because both the
// backends (a NIC's MAC) and the stack (frames, the neighbor cache) need
// them, and neither may include the other for it.
#pragma once

#include <array>
#include <cstdint>

namespace dpdkudp {

using MacAddr = std::array<uint8_t, 6>;

}  // namespace dpdkudp
