// Per-packet cost of the stack over the in-memory pair backend.
//
// RX: a burst of frames arrives on the backend -> poll() parses, verifies
//     checksums and queues each datagram on its socket -> the app's recv
//     copies the payload into its buffer and the buffer goes back to the
//     pool. The "NIC" part (pool alloc + ring hand-off) is included; no
//     frame bytes are written per packet (every pool buffer is prefilled
//     with the frame, as DMA would have done).
// TX: the app's send() routes, resolves (cached), builds the frame with the
//     payload copied once and software checksums, and hands it to the
//     backend; the "wire" side drains and frees the buffers.
//
// family:6 rows run the same over IPv6 (an AF_INET6 socket bound to [::]).
// BM_RxTunnel/BM_TxTunnel: 64-byte datagrams (batched calls) to and from an
// inner address through each tunnel kind over IPv4 (tunnel:0 is the plain
// path in the same run): decapsulate+deliver, encapsulate+send.
//
// BM_RxShared: the RX rows with a port-sharing table (AF_PACKET's).
//
// Run: build/tests/bench/stack_bench --benchmark_min_time=1
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "backends/pair/pair_backend.h"
#include "engine/shared_ports.h"
#include "stack/net/stack.h"
#include "stack/wire/arp.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv6.h"
#include "stack/wire/tunnel.h"
#include "stack/wire/udp.h"

namespace dpdkudp {
namespace {

using stack::Endpoint;
using wire::Ipv4Addr;

constexpr Ipv4Addr kIpA{198, 18, 0, 1};
constexpr Ipv4Addr kIpB{198, 18, 0, 2};
const wire::Ipv6Addr kIp6A(0x2001, 2, 0, 0, 0, 0, 0, 1);
const wire::Ipv6Addr kIp6B(0x2001, 2, 0, 0, 0, 0, 0, 2);
constexpr MacAddr kMacA = {0x02, 0, 0, 0, 0, 0x0a};
constexpr MacAddr kMacB = {0x02, 0, 0, 0, 0, 0x0b};
constexpr Ipv4Addr kInnerA{198, 19, 0, 1};
constexpr Ipv4Addr kInnerB{198, 19, 0, 2};
constexpr uint16_t kPort = 9000;
constexpr size_t kBurst = stack::Stack::kBurst;

std::vector<uint8_t> udp_frame(size_t payload_len) {
  std::vector<uint8_t> f(14 + 20 + 8 + payload_len);
  wire::EthernetRepr{kMacA, kMacB, wire::ethertype::kIpv4, std::nullopt}.emit({f.data(), 14});
  for (size_t i = 0; i < payload_len; ++i) f[42 + i] = static_cast<uint8_t>(i);
  wire::UdpRepr{40000, kPort}.emit({f.data() + 34, 8 + payload_len}, kIpB, kIpA, wire::ChecksumMode::kFull);
  wire::Ipv4Repr{kIpB, kIpA, wire::ip_proto::kUdp, static_cast<uint16_t>(8 + payload_len)}.emit({f.data() + 14, 20});
  return f;
}

std::vector<uint8_t> udp6_frame(size_t payload_len) {
  std::vector<uint8_t> f(14 + 40 + 8 + payload_len);
  wire::EthernetRepr{kMacA, kMacB, wire::ethertype::kIpv6, std::nullopt}.emit({f.data(), 14});
  for (size_t i = 0; i < payload_len; ++i) f[62 + i] = static_cast<uint8_t>(i);
  wire::UdpRepr{40000, kPort}.emit({f.data() + 54, 8 + payload_len}, kIp6B, kIp6A, wire::ChecksumMode::kFull);
  wire::Ipv6Repr{kIp6B, kIp6A, wire::ip_proto::kUdp, static_cast<uint16_t>(8 + payload_len)}.emit({f.data() + 14, 40});
  return f;
}

struct Bench {
  stack::SystemClock clock;
  BackendPair pair;
  std::unique_ptr<engine::SharedPorts> shared;  // outlives the stack
  std::unique_ptr<stack::Stack> a;
  stack::UdpSocket* socket = nullptr;

  // shared: the stack asks a port-sharing table about every datagram, as
  // on AF_PACKET (engine/shared_ports.h): one member, the port its own.
  explicit Bench(bool v6 = false, int tunnel = 0, bool with_table = false) {
    PairConfig pc;
    pc.a.mac = kMacA;
    pc.b.mac = kMacB;
    pc.pool_size = 8192;
    pair = make_pair(pc);
    stack::StackConfig sc;
    sc.address = wire::Ipv4Cidr{kIpA, 24};
    if (v6) sc.addresses6 = {wire::Ipv6Cidr{kIp6A, 64}};
    if (tunnel != 0) {
      stack::TunnelConfig t;
      t.kind = static_cast<stack::TunnelKind>(tunnel - 1);
      t.vni = 100;
      t.remote = kIpB;
      t.inner = wire::Ipv4Cidr{kInnerA, 24};
      sc.tunnels = {t};
    }
    a = std::make_unique<stack::Stack>(*pair.a, sc, clock);
    if (with_table) {
      std::string error;
      const std::string name = "/dpdkudp-ports-bench-" + std::to_string(getpid());
      shared = engine::SharedPorts::join(name, &error);
      if (!shared) std::abort();
      a->set_port_steering(shared.get());
      a->set_port_sharing(shared.get());
    }
    socket = a->open_udp(v6);
    socket->set_rcvbuf(1u << 26);
    Endpoint any = v6 ? Endpoint::ipv6(wire::Ipv6Addr(), kPort) : Endpoint{Ipv4Addr::any(), kPort};
    if (socket->bind(any) != 0) std::abort();
    // b is a known neighbour: the TX path measures a cache hit.
    a->neighbors().insert(kIpB, kMacB, clock.monotonic_ns(), true);
    a->neighbors6().insert(kIp6B, kMacB, clock.monotonic_ns(), true);
    if (tunnel != 0) a->tunnel(0).neighbors().insert(kInnerB, kMacB, clock.monotonic_ns(), true);
  }
  // Prefills every buffer of the pool with the frame ("DMA"): RX rows write
  // no frame bytes per packet.
  void prefill(const std::vector<uint8_t>& frame) {
    std::vector<Packet*> all(8192);
    size_t n = pair.b->alloc(all);
    for (size_t i = 0; i < n; ++i) std::memcpy(all[i]->data, frame.data(), frame.size());
    pair.b->release({all.data(), n});
  }
};

// The RX rows' loop: a burst of `frame` "DMA'd" into the stack, one poll,
// the datagrams read by recvmmsg (batch_recv) or recv one at a time.
void run_rx(benchmark::State& state, Bench& b, const std::vector<uint8_t>& frame, bool batch_recv, size_t payload_len) {
  b.prefill(frame);
  std::vector<uint8_t> app_buf(2048);
  std::vector<iovec> iovs(kBurst, iovec{app_buf.data(), app_buf.size()});
  std::vector<stack::UdpSocket::RecvSlot> slots(kBurst);
  for (size_t i = 0; i < kBurst; ++i) slots[i].iov = {&iovs[i], 1};
  Packet* pkts[kBurst];
  uint64_t delivered = 0;
  for (auto _ : state) {
    size_t n = b.pair.b->alloc(pkts);
    for (size_t i = 0; i < n; ++i) pkts[i]->len = static_cast<uint32_t>(frame.size());
    b.pair.b->tx_burst(0, {pkts, n});
    b.a->poll(0);
    if (batch_recv) {
      int64_t got = b.socket->recv_batch(slots, 0);
      if (got > 0) delivered += static_cast<uint64_t>(got);
    } else {
      stack::RecvInfo info;
      while (b.socket->recv({&iovs[0], 1}, &info, 0) > 0) ++delivered;
    }
    benchmark::DoNotOptimize(app_buf.data());
  }
  if (delivered != state.iterations() * kBurst) state.SkipWithError("not every datagram was delivered");
  state.SetItemsProcessed(static_cast<int64_t>(delivered));
  state.SetBytesProcessed(static_cast<int64_t>(delivered * payload_len));
}

void BM_Rx(benchmark::State& state) {
  const size_t payload_len = static_cast<size_t>(state.range(0));
  const bool v6 = state.range(2) == 6;
  Bench b(v6);
  run_rx(state, b, v6 ? udp6_frame(payload_len) : udp_frame(payload_len), state.range(1) != 0, payload_len);
}
BENCHMARK(BM_Rx)->ArgNames({"payload", "recvmmsg", "family"})->ArgsProduct({{64, 1400}, {1, 0}, {4, 6}});

// BM_Rx's 64-byte batched rows with the port-sharing table every AF_PACKET
// process has (shared:0 is the plain path in the same run).
void BM_RxShared(benchmark::State& state) {
  const bool v6 = state.range(1) == 6;
  Bench b(v6, 0, state.range(0) != 0);
  run_rx(state, b, v6 ? udp6_frame(64) : udp_frame(64), true, 64);
}
BENCHMARK(BM_RxShared)->ArgNames({"shared", "family"})->ArgsProduct({{0, 1}, {4, 6}});

void BM_Tx(benchmark::State& state) {
  const size_t payload_len = static_cast<size_t>(state.range(0));
  const bool batch_send = state.range(1) != 0;
  const bool v6 = state.range(2) == 6;
  Bench b(v6);
  std::vector<uint8_t> payload(payload_len, 0x5a);
  iovec iov{payload.data(), payload.size()};
  Endpoint dst = v6 ? Endpoint::ipv6(kIp6B, kPort) : Endpoint{kIpB, kPort};
  std::vector<stack::UdpSocket::SendSlot> slots(kBurst);
  for (auto& slot : slots) {
    slot.iov = {&iov, 1};
    slot.dst = &dst;
  }
  Packet* pkts[kBurst];
  uint64_t sent = 0;
  for (auto _ : state) {
    if (batch_send) {
      int64_t n = b.socket->send_batch(slots);
      if (n > 0) sent += static_cast<uint64_t>(n);
    } else {
      for (size_t i = 0; i < kBurst; ++i) {
        if (b.socket->send({&iov, 1}, &dst) == static_cast<int64_t>(payload_len)) ++sent;
      }
    }
    size_t n = b.pair.b->rx_burst(0, pkts);  // the wire takes them
    b.pair.b->release({pkts, n});
  }
  if (sent != state.iterations() * kBurst || b.a->counters().tx_frames != sent) {
    state.SkipWithError("not every datagram was sent");
  }
  state.SetItemsProcessed(static_cast<int64_t>(sent));
  state.SetBytesProcessed(static_cast<int64_t>(sent * payload_len));
}
BENCHMARK(BM_Tx)->ArgNames({"payload", "sendmmsg", "family"})->ArgsProduct({{64, 1400}, {1, 0}, {4, 6}});

// A 64-byte datagram from kInnerB to kInnerA inside `tunnel` (0: none).
std::vector<uint8_t> tunnel_frame(int tunnel, size_t payload_len) {
  std::vector<uint8_t> inner(14 + 20 + 8 + payload_len);
  wire::EthernetRepr{kMacA, kMacB, wire::ethertype::kIpv4, std::nullopt}.emit({inner.data(), 14});
  for (size_t i = 0; i < payload_len; ++i) inner[42 + i] = static_cast<uint8_t>(i);
  wire::UdpRepr{40000, kPort}.emit({inner.data() + 34, 8 + payload_len}, kInnerB, kInnerA, wire::ChecksumMode::kFull);
  wire::Ipv4Repr{kInnerB, kInnerA, wire::ip_proto::kUdp, static_cast<uint16_t>(8 + payload_len)}.emit(
      {inner.data() + 14, 20});
  if (tunnel == 0) return udp_frame(payload_len);
  std::vector<uint8_t> body;
  uint16_t port = 0;
  switch (static_cast<stack::TunnelKind>(tunnel - 1)) {
    case stack::TunnelKind::kVxlan:
      body.resize(8);
      wire::emit_vxlan(body.data(), 100);
      body.insert(body.end(), inner.begin(), inner.end());
      port = wire::tunnel_port::kVxlan;
      break;
    case stack::TunnelKind::kGeneve:
      body.resize(8);
      wire::emit_geneve(body.data(), 100, wire::kEtherTypeTeb, {});
      body.insert(body.end(), inner.begin(), inner.end());
      port = wire::tunnel_port::kGeneve;
      break;
    case stack::TunnelKind::kGue:
      body.resize(4);
      wire::emit_gue(body.data(), wire::ip_proto::kIpip);
      body.insert(body.end(), inner.begin() + 14, inner.end());
      port = wire::tunnel_port::kGue;
      break;
  }
  std::vector<uint8_t> f(14 + 20 + 8 + body.size());
  wire::EthernetRepr{kMacA, kMacB, wire::ethertype::kIpv4, std::nullopt}.emit({f.data(), 14});
  std::copy(body.begin(), body.end(), f.begin() + 42);
  wire::UdpRepr{40000, port}.emit({f.data() + 34, 8 + body.size()}, kIpB, kIpA, wire::ChecksumMode::kNone);
  wire::Ipv4Repr{kIpB, kIpA, wire::ip_proto::kUdp, static_cast<uint16_t>(8 + body.size())}.emit({f.data() + 14, 20});
  return f;
}

void BM_RxTunnel(benchmark::State& state) {
  const int tunnel = static_cast<int>(state.range(0));
  Bench b(false, tunnel);
  run_rx(state, b, tunnel_frame(tunnel, 64), true, 64);
}
BENCHMARK(BM_RxTunnel)->ArgNames({"tunnel"})->DenseRange(0, 3);

void BM_TxTunnel(benchmark::State& state) {
  const int tunnel = static_cast<int>(state.range(0));
  Bench b(false, tunnel);
  std::vector<uint8_t> payload(64, 0x5a);
  iovec iov{payload.data(), payload.size()};
  Endpoint dst{tunnel != 0 ? kInnerB : kIpB, kPort};
  std::vector<stack::UdpSocket::SendSlot> slots(kBurst);
  for (auto& slot : slots) {
    slot.iov = {&iov, 1};
    slot.dst = &dst;
  }
  Packet* pkts[kBurst];
  uint64_t sent = 0;
  for (auto _ : state) {
    int64_t n = b.socket->send_batch(slots);
    if (n > 0) sent += static_cast<uint64_t>(n);
    size_t got = b.pair.b->rx_burst(0, pkts);
    b.pair.b->release({pkts, got});
  }
  if (sent != state.iterations() * kBurst || b.a->counters().tx_frames != sent) {
    state.SkipWithError("not every datagram was sent");
  }
  state.SetItemsProcessed(static_cast<int64_t>(sent));
}
BENCHMARK(BM_TxTunnel)->ArgNames({"tunnel"})->DenseRange(0, 3);

// The kernel's cost for the same work, measured in the same run: a burst of
// datagrams through a UDP socket on 127.0.0.1 (sendmmsg, then recvmmsg on
// the receiving socket). One item = one datagram sent AND received, so it
// compares with the stack's TX + RX per-packet costs added together.
void BM_KernelLoopback(benchmark::State& state) {
  const size_t payload_len = static_cast<size_t>(state.range(0));
  int rx = ::socket(AF_INET, SOCK_DGRAM, 0);
  int tx = ::socket(AF_INET, SOCK_DGRAM, 0);
  int big = 8 << 20;
  ::setsockopt(rx, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(rx, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(rx, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::connect(tx, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    state.SkipWithError("cannot set up loopback sockets");
    return;
  }
  std::vector<uint8_t> out(payload_len, 0x5a), in(kBurst * 2048);
  std::vector<iovec> out_iov(kBurst, iovec{out.data(), out.size()});
  std::vector<iovec> in_iov(kBurst);
  std::vector<mmsghdr> out_msgs(kBurst), in_msgs(kBurst);
  for (size_t i = 0; i < kBurst; ++i) {
    in_iov[i] = {in.data() + i * 2048, 2048};
    out_msgs[i].msg_hdr.msg_iov = &out_iov[i];
    out_msgs[i].msg_hdr.msg_iovlen = 1;
    in_msgs[i].msg_hdr.msg_iov = &in_iov[i];
    in_msgs[i].msg_hdr.msg_iovlen = 1;
  }
  uint64_t received = 0;
  for (auto _ : state) {
    int sent = ::sendmmsg(tx, out_msgs.data(), kBurst, 0);
    int got = 0;
    while (sent > 0 && got < sent) {
      int n = ::recvmmsg(rx, in_msgs.data() + got, static_cast<unsigned>(sent - got), MSG_DONTWAIT, nullptr);
      if (n <= 0) break;
      got += n;
    }
    received += static_cast<uint64_t>(got);
  }
  ::close(rx);
  ::close(tx);
  state.SetItemsProcessed(static_cast<int64_t>(received));
  state.SetBytesProcessed(static_cast<int64_t>(received * payload_len));
}
BENCHMARK(BM_KernelLoopback)->ArgName("payload")->Arg(64)->Arg(1400);

}  // namespace
}  // namespace dpdkudp

BENCHMARK_MAIN();
