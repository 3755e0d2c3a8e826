// 64 random bits for a key that tells our own messages from anyone
// else's (the doorbell's, the shared table's).
#pragma once

#include <cstdint>

namespace dpdkudp::base {

// From getrandom(2); where a seccomp filter refuses it, the clock and the
// pid, mixed: not secret, but still never the shape of an application's
// bytes.
uint64_t random_key();

}  // namespace dpdkudp::base
