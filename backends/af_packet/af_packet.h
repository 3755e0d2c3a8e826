// AF_PACKET backends: kernel-bypass-lite over any Ethernet interface.
//
// Two variants behind one factory:
//  - plain (AfPacketBackend): one SOCK_RAW packet socket, recvmmsg/sendmmsg
//    in batches. Works everywhere, one copy each way (kernel <-> buffer).
//  - mmap (AfPacketMmapBackend): a TPACKET_V3 RX ring and a TPACKET_V2 TX
//    ring shared with the kernel (Documentation/networking/packet_mmap.rst).
//    No syscall per RX burst, one send() per TX burst.
//
//   dpdkudp::AfPacketConfig config;
//   config.iface = "eth1";
//   config.mmap = true;
//   config.filter_ipv4 = {0xc6120002};  // 198.18.0.2, host order
//   std::string error;
//   auto backend = dpdkudp::open_af_packet(config, &error);
//   if (!backend) { fprintf(stderr, "%s\n", error.c_str()); }
//
// Both attach a classic BPF filter (bpf_filter.h) so the kernel copies only
// ARP and the IPv4 UDP/ICMP traffic addressed to us, and both need
// CAP_NET_RAW.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/api/backend.h"

namespace dpdkudp {

struct AfPacketConfig {
  std::string iface;  // interface name, e.g. "eth1"
  bool mmap = false;  // false: AfPacketBackend; true: AfPacketMmapBackend

  // mmap RX ring (TPACKET_V3): blocks the kernel fills and hands over whole.
  // Default 64 x 128 KiB = 8 MiB. A block goes to us when it is full or
  // after rx_block_timeout_ms, whichever comes first, so that timeout is
  // the latency a lone datagram sees: measured 1.0 ms here (kernel 6.18),
  // against ~5 us for the plain socket. Request/response traffic at low
  // rates is therefore better served by the plain variant.
  uint32_t rx_block_size = 128 * 1024;  // a multiple of the page size
  uint32_t rx_block_count = 64;
  uint32_t rx_block_timeout_ms = 1;  // 1..1000

  // mmap TX ring (TPACKET_V2): fixed-size slots. tx_frame_size 0 picks the
  // smallest power of two >= 2048 that holds the slot header plus a frame of
  // mtu + 18 bytes. Default 1024 x 2 KiB = 2 MiB.
  uint32_t tx_frame_size = 0;
  uint32_t tx_frame_count = 1024;  // >= 8

  // Plain socket: SO_RCVBUF/SO_SNDBUF in bytes (SO_*BUFFORCE first, so
  // root is not capped by net.core.rmem_max). 0 keeps the kernel default.
  // 32 MiB: ~8,000 veth-sized frames, tens of milliseconds of a poller
  // kept off its CPU at line rate (scripts/bench, receive capacity).
  uint32_t socket_buffer_bytes = 32u << 20;

  // Packet buffers handed to the stack (shared by RX and TX).
  uint32_t pool_size = 8192;

  // Our IPv4 addresses, host byte order, for the BPF filter: IPv4 UDP/ICMP
  // is accepted when its destination is one of these or 255.255.255.255
  // (put a directed broadcast or a multicast group here to receive it).
  // Empty: every ARP and IPv4 frame is accepted.
  std::vector<uint32_t> filter_ipv4;
  bool filter_ipv6 = false;  // take IPv6 (UDP, ICMPv6, extension headers) too

  // Puts the interface in promiscuous mode for the socket's lifetime and
  // accepts frames addressed to other MACs (otherwise dropped in the
  // filter).
  bool promiscuous = false;
};

// Opens the backend config.mmap asks for. On failure returns nullptr and,
// when error is given, sets it to one line naming the interface and the
// reason (no such interface, interface down, permission denied: needs
// CAP_NET_RAW, bad ring geometry, ...).
std::unique_ptr<Backend> open_af_packet(const AfPacketConfig& config, std::string* error);

}  // namespace dpdkudp
