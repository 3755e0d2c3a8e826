// libFuzzer target: the stack's receive path over a fuzzed burst. Each input
// is a fresh stack (IPv4 and IPv6 addresses, a VXLAN and a GUE tunnel with
// inner IPv4 and IPv6, optionally a VLAN trunk and the device's offloads)
// with sockets bound, fed the input's frames; after each frame the clock
// moves and the timers run. Invariants checked after every input:
//   - every frame taken in has a fate: delivered to a socket, consumed by
//     ARP/NDP/ICMP, or dropped under a reason (nothing vanishes uncounted);
//   - no packet buffer leaked: with the sockets drained and closed and the
//     stack gone, every buffer is back in the pool.
// Input: one flags byte, then frames as a 2-byte big-endian length and the
// bytes.
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "backends/pair/pair_backend.h"
#include "stack/net/stack.h"

namespace dpdkudp {
namespace {

using stack::Endpoint;
using wire::Ipv4Addr;
using wire::Ipv6Addr;

constexpr size_t kMaxFrames = 64;
constexpr uint32_t kPool = 256;

void fail(const char* what, uint64_t a, uint64_t b) {
  std::fprintf(stderr, "fuzz_stack_rx: %s (%llu vs %llu)\n", what, static_cast<unsigned long long>(a),
               static_cast<unsigned long long>(b));
  std::abort();
}

stack::StackConfig config(uint8_t flags) {
  stack::StackConfig c;
  c.address = wire::Ipv4Cidr{Ipv4Addr{198, 18, 0, 1}, 24};
  c.gateway = Ipv4Addr{198, 18, 0, 254};
  c.addresses6 = {wire::Ipv6Cidr{Ipv6Addr(0x2001, 2, 0, 0, 0, 0, 0, 1), 64}};
  c.dedicated = (flags & 1) == 0;
  c.neighbor.capacity = 64;  // small tables: a fresh stack per input stays cheap
  stack::TunnelConfig vx;
  vx.kind = stack::TunnelKind::kVxlan;
  vx.vni = 100;
  vx.remote = Ipv4Addr{198, 18, 0, 2};
  vx.inner = wire::Ipv4Cidr{Ipv4Addr{198, 19, 1, 1}, 24};
  vx.inner6 = wire::Ipv6Cidr{Ipv6Addr(0x2001, 2, 0, 0x100, 0, 0, 0, 1), 64};
  stack::TunnelConfig gue;
  gue.kind = stack::TunnelKind::kGue;
  gue.remote = Ipv4Addr{198, 18, 0, 2};
  gue.inner = wire::Ipv4Cidr{Ipv4Addr{198, 19, 2, 1}, 24};
  gue.inner6 = wire::Ipv6Cidr{Ipv6Addr(0x2001, 2, 0, 0x200, 0, 0, 0, 1), 64};
  c.tunnels = {vx, gue};
  if (flags & 2) {
    c.vlan.vid = 100;
    c.vlan.mode = stack::VlanMode::kTrunk;
    c.vlan.allowed = {200};
    c.vlan.native = 10;
  }
  return c;
}

void drain(stack::UdpSocket* s) {
  uint8_t buf[2048];
  iovec iov{buf, sizeof buf};
  for (int i = 0; i < 4 * static_cast<int>(kMaxFrames); ++i) {
    if (s->recv({&iov, 1}, nullptr, 0) < 0) return;
  }
}

size_t drain_wire(PairBackend& b) {
  size_t n = 0, got;
  Packet* pkts[32];
  while ((got = b.rx_burst(0, pkts)) != 0) {
    b.release({pkts, got});
    n += got;
  }
  return n;
}

}  // namespace
}  // namespace dpdkudp

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dpdkudp;
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  PairConfig pc;
  pc.pool_size = kPool;
  pc.ring_size = 256;
  if (flags & 4) pc.a.offloads = PairOffloads::all();
  BackendPair pair = make_pair(pc);
  stack::ManualClock clock;
  auto st = std::make_unique<stack::Stack>(*pair.a, config(flags), clock);
  st->start();
  std::vector<stack::UdpSocket*> sockets;
  auto open = [&](bool v6, const Endpoint& at, uint32_t rcvbuf) {
    stack::UdpSocket* s = st->open_udp(v6);
    s->set_rcvbuf(rcvbuf);
    if (s->bind(at) == 0) {
      sockets.push_back(s);
    } else {
      s->close();
    }
  };
  open(false, Endpoint{Ipv4Addr::any(), 7}, 1u << 20);
  open(true, Endpoint::ipv6(Ipv6Addr(), 53, 0), 4096);  // small: receive-buffer drops
  open(false, Endpoint{Ipv4Addr{198, 19, 1, 1}, 9}, 1u << 20);
  drain_wire(*pair.b);

  const stack::CounterSnapshot before = st->counters();
  size_t pos = 1;
  uint64_t injected = 0;
  for (size_t n = 0; n < kMaxFrames && pos + 2 <= size; ++n) {
    const size_t len = (size_t{data[pos]} << 8 | data[pos + 1]) % 1600;
    pos += 2;
    const size_t take = std::min(len, size - pos);
    if (pair.a->inject({data + pos, take})) ++injected;
    pos += take;
    while (st->poll(0) != 0) {}
    const uint8_t tick = take != 0 ? data[pos - 1] : 0;  // the frame's last byte: 0..2.55 s
    clock.advance(uint64_t{tick} * 10'000'000);
    st->on_timer();
    drain_wire(*pair.b);
  }
  while (st->poll(0) != 0) {}

  // Every frame taken in has a fate.
  const stack::CounterSnapshot after = st->counters();
  const uint64_t frames = after.rx_frames - before.rx_frames;
  if (frames != injected) fail("frames counted != frames injected", frames, injected);
  uint64_t fates = (after.udp_delivered - before.udp_delivered) + (after.arp_received - before.arp_received) +
                   (after.ndp_received - before.ndp_received) + (after.icmp_echo_replies - before.icmp_echo_replies) +
                   (after.icmp_errors_received - before.icmp_errors_received);
  for (size_t i = 0; i < after.drops.size(); ++i) fates += after.drops[i] - before.drops[i];
  if (fates < frames) fail("frames without a fate (delivered, consumed or dropped)", fates, frames);

  for (stack::UdpSocket* s : sockets) {
    drain(s);
    s->close();
  }
  st.reset();
  drain_wire(*pair.b);
  if (pair.a->pool().in_use() != 0) fail("packet buffers leaked", pair.a->pool().in_use(), 0);
  return 0;
}
