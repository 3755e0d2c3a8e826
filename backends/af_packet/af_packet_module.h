// The two AF_PACKET backends as modules (backends/api/backend_module.h).
// Linked into libdpdkudp.so: they need nothing beyond the kernel.
#pragma once

#include "backends/api/backend_module.h"

namespace dpdkudp {

const BackendModule* af_packet_module();       // plain socket, recvmmsg/sendmmsg
const BackendModule* af_packet_mmap_module();  // TPACKET rings

}  // namespace dpdkudp
