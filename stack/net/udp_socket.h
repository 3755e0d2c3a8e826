// A UDP socket of the userspace stack: the object the shim maps a POSIX
// socket onto.
//
// Receive side: pollers push datagrams (the backend's packets, by
// reference) onto a lock-free queue, charging each against rcvbuf like
// Linux's SO_RCVBUF; app threads pop them and copy the payload out once,
// then the packet goes back to the backend. The socket rings its notifier on
// the empty -> non-empty transition and clears it when a reader drains the
// queue, so the app's fd can serve as a level-triggered doorbell.
//
// Every call returns a value >= 0 or a negative errno, as Linux would.
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>

#include "backends/api/packet.h"
#include "stack/net/counters.h"
#include "stack/net/endpoint.h"
#include "stack/net/hooks.h"
#include "stack/net/mpsc_queue.h"
#include "stack/wire/bytes.h"

namespace dpdkudp::stack {

using wire::Ipv4Addr;
using wire::Ipv6Addr;

class UdpSocket;

// Copies len bytes from src into the scatter list; returns bytes copied
// (fewer when the list is shorter).
size_t copy_to_iov(std::span<const iovec> iov, const uint8_t* src, size_t len);

// One datagram of a sendmmsg-style batch (UdpSocket::send_batch).
struct SendSlot {
  std::span<const iovec> iov;
  const Endpoint* dst = nullptr;
  int64_t result = 0;
  // IPV6_PKTINFO's source address for an IPv6 datagram (nullptr: chosen by
  // the route); it must be one of ours (-EINVAL otherwise, as Linux).
  const Ipv6Addr* src6 = nullptr;
};

// What a socket's calls need from the stack that owns it: the socket
// forwards bind/connect/send/close here, and gives received packets back.
// The Stack implements it; the socket knows nothing else of the Stack.
// From app threads; release() from any thread.
class SocketOwner {
 public:
  virtual int socket_bind(UdpSocket& s, Endpoint local) = 0;
  virtual int socket_connect(UdpSocket& s, Endpoint remote) = 0;
  virtual int socket_disconnect(UdpSocket& s) = 0;
  virtual int64_t socket_send(UdpSocket& s, std::span<const iovec> iov, const Endpoint* dst) = 0;
  virtual int64_t socket_send_batch(UdpSocket& s, std::span<SendSlot> msgs) = 0;
  virtual void socket_close(UdpSocket& s) = 0;
  virtual void release_packets(std::span<Packet* const> pkts) = 0;

 protected:
  ~SocketOwner() = default;
};

// What recv() learned about the datagram it returned.
struct RecvInfo {
  Endpoint source;            // IPv6 (v6 set) for a datagram that came over IPv6
  Ipv4Addr destination;       // for IP_PKTINFO (IPv4 datagrams)
  Ipv6Addr destination6;      // for IPV6_PKTINFO (IPv6 datagrams)
  uint64_t timestamp_ns = 0;  // CLOCK_REALTIME at reception
  uint32_t datagram_len = 0;  // full payload length
  bool truncated = false;     // did not fit: MSG_TRUNC
  uint8_t tos = 0;            // IPv4 TOS, or the IPv6 traffic class
  uint8_t ttl = 0;            // IPv4 TTL, or the IPv6 hop limit
};

enum RecvFlags : int {
  kRecvPeek = 1 << 0,        // MSG_PEEK: leave it queued
  kRecvRealLength = 1 << 1,  // MSG_TRUNC on input: return the full length
  kRecvKeepError = 1 << 2,   // leave a pending error queued (not the application's read)
};

// An ICMP or ICMPv6 error matched to this socket (IP_RECVERR,
// IPV6_RECVERR / SO_ERROR).
struct SocketError {
  int error = 0;  // errno value
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;
  bool icmp6 = false;    // an ICMPv6 message (SO_EE_ORIGIN_ICMP6)
  uint32_t info = 0;     // next-hop MTU for EMSGSIZE
  Ipv4Addr offender;     // who sent the ICMP (ICMPv4)
  Ipv6Addr offender6;    // who sent the ICMPv6
  Endpoint destination;  // where the original datagram was going
};

struct SocketStats {
  uint64_t rx_datagrams = 0;
  uint64_t rx_bytes = 0;
  uint64_t rx_drops = 0;  // receive buffer full
  uint64_t tx_datagrams = 0;
  uint64_t tx_bytes = 0;
  uint64_t tx_drops = 0;
  uint64_t queued_bytes = 0;
  uint64_t queued_datagrams = 0;
};

class UdpSocket {
 public:
  // Linux's defaults: net.core.rmem_default, SOCK_MIN_RCVBUF.
  static constexpr uint32_t kDefaultRcvbuf = 212992;
  static constexpr uint32_t kMinRcvbuf = 2304;
  // Each queued datagram is charged its payload plus this, standing in for
  // Linux's skb truesize overhead: it bounds how many buffers a socket pins.
  static constexpr uint32_t kDatagramOverhead = 256;
  static constexpr uint32_t charge_of(const PacketRxMeta& m) { return uint32_t{m.payload_len} + kDatagramOverhead; }
  static constexpr size_t kMaxErrorQueue = 16;

  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  // ---- the API the shim maps POSIX calls onto ----
  // An IPv6 socket (AF_INET6) takes IPv6 endpoints, v4-mapped ones naming
  // IPv4 peers and addresses; an IPv4 socket only IPv4 ones.
  int bind(Endpoint local);      // port 0: ephemeral; EADDRINUSE, EINVAL
  int connect(Endpoint remote);  // autobinds; ENETUNREACH without a route
  int disconnect();              // connect(AF_UNSPEC)
  // Sends one datagram gathered from iov; dst nullptr: the connected peer.
  // Returns the payload length or -errno.
  int64_t send(std::span<const iovec> iov, const Endpoint* dst);
  // The same from a given IPv6 source address (sendmsg's IPV6_PKTINFO).
  int64_t send_from(std::span<const iovec> iov, const Endpoint* dst, const Ipv6Addr& src6);
  // sendmmsg: up to 32 datagrams, handed to the backend in one burst.
  // Returns how many were sent (results filled in), or -errno when the
  // first one failed.
  using SendSlot = stack::SendSlot;
  int64_t send_batch(std::span<SendSlot> msgs);
  // Receives one datagram into iov; -EAGAIN when none is queued.
  int64_t recv(std::span<const iovec> iov, RecvInfo* info, int flags);
  // recvmmsg: up to msgs.size() datagrams under one lock; returns how many
  // (>= 1), or -EAGAIN / the pending error when none.
  struct RecvSlot {
    std::span<const iovec> iov;
    RecvInfo* info = nullptr;
    int64_t result = 0;  // bytes (or full length with kRecvRealLength)
  };
  int64_t recv_batch(std::span<RecvSlot> msgs, int flags);
  // FIONREAD: the payload size of the next datagram, or -1 when none.
  int64_t next_datagram_size();
  void close();  // unbinds; the stack frees the object when safe

  // ---- state ----
  std::optional<Endpoint> local() const { return load_endpoint(local_packed_, local6_); }
  std::optional<Endpoint> remote() const { return load_endpoint(remote_packed_, remote6_); }
  bool readable() const { return has_data() || pending_error_.load(std::memory_order_acquire) != 0; }
  // Split for poll(): data queued (POLLIN), an error pending (POLLERR:
  // SO_ERROR set, or IP_RECVERR's queue not empty).
  bool has_data() const { return queued_count(queued_.load(std::memory_order_acquire)) > 0; }
  bool has_error() const {
    return pending_error_.load(std::memory_order_acquire) != 0 || error_count_.load(std::memory_order_acquire) != 0;
  }
  // Datagrams (and errors) ever queued: an edge-triggered waiter reports
  // again only when this moved.
  uint64_t arrivals() const { return arrivals_.load(std::memory_order_acquire); }
  // SO_ERROR: returns and clears the pending error.
  int take_error() { return pending_error_.exchange(0, std::memory_order_acq_rel); }
  // IP_RECVERR's queue (MSG_ERRQUEUE): oldest first.
  std::optional<SocketError> pop_error();
  void set_notifier(SocketNotifier* n) { notifier_.store(n, std::memory_order_release); }
  // Ring on every delivery, not only on empty -> non-empty: an edge-
  // triggered epoll waiter expects an event per arrival, as Linux gives.
  void set_notify_every_arrival(bool on) { notify_every_arrival_.store(on, std::memory_order_relaxed); }

  // ---- family ----
  bool ipv6() const { return ipv6_; }  // an AF_INET6 socket
  // IPV6_V6ONLY: before bind only (-EINVAL after), as Linux. Off by default
  // (net.ipv6.bindv6only = 0): one socket serves IPv4 peers too.
  int set_v6only(bool on);
  bool v6only() const { return v6only_.load(std::memory_order_relaxed); }

  // ---- options ----
  void set_rcvbuf(uint32_t bytes) { rcvbuf_.store(bytes < kMinRcvbuf ? kMinRcvbuf : bytes, std::memory_order_relaxed); }
  uint32_t rcvbuf() const { return rcvbuf_.load(std::memory_order_relaxed); }
  void set_broadcast(bool on) { broadcast_.store(on, std::memory_order_relaxed); }
  bool broadcast() const { return broadcast_.load(std::memory_order_relaxed); }
  void set_reuse_addr(bool on) { reuse_addr_ = on; }
  bool reuse_addr() const { return reuse_addr_; }
  void set_reuse_port(bool on) { reuse_port_ = on; }
  bool reuse_port() const { return reuse_port_; }
  void set_ttl(uint8_t ttl) { ttl_.store(ttl, std::memory_order_relaxed); }
  uint8_t ttl() const { return ttl_.load(std::memory_order_relaxed); }
  void set_tos(uint8_t tos) { tos_.store(tos, std::memory_order_relaxed); }
  uint8_t tos() const { return tos_.load(std::memory_order_relaxed); }
  void set_recv_err(bool on) { recv_err_.store(on, std::memory_order_relaxed); }
  bool recv_err() const { return recv_err_.load(std::memory_order_relaxed); }
  // IP_MULTICAST_TTL (1), IP_MULTICAST_LOOP (on: a copy of what it sends
  // to a group goes to the stack's own members too) and IP_MULTICAST_ALL
  // (on: group traffic to its port from any group the interface joined,
  // unless it has a membership of its own for the group), Linux's defaults.
  void set_multicast_ttl(uint8_t ttl) { mcast_ttl_.store(ttl, std::memory_order_relaxed); }
  uint8_t multicast_ttl() const { return mcast_ttl_.load(std::memory_order_relaxed); }
  void set_multicast_loop(bool on) { mcast_loop_.store(on, std::memory_order_relaxed); }
  bool multicast_loop() const { return mcast_loop_.load(std::memory_order_relaxed); }
  void set_multicast_all(bool on) { mcast_all_.store(on, std::memory_order_relaxed); }
  bool multicast_all() const { return mcast_all_.load(std::memory_order_relaxed); }
  // IPV6_MULTICAST_HOPS (-1: the default, 1), IPV6_MULTICAST_LOOP and
  // IPV6_MULTICAST_ALL: the IPv6 options, apart from the IPv4 ones as on
  // Linux, with the same meaning and defaults.
  void set_multicast_hops(int hops) { mcast_hops_.store(static_cast<int16_t>(hops), std::memory_order_relaxed); }
  int multicast_hops() const { return mcast_hops_.load(std::memory_order_relaxed); }
  void set_multicast_loop6(bool on) { mcast_loop6_.store(on, std::memory_order_relaxed); }
  bool multicast_loop6() const { return mcast_loop6_.load(std::memory_order_relaxed); }
  void set_multicast_all6(bool on) { mcast_all6_.store(on, std::memory_order_relaxed); }
  bool multicast_all6() const { return mcast_all6_.load(std::memory_order_relaxed); }
  // IPV6_MULTICAST_IF: the interface (index) a link-scope group without a
  // scope id in the destination is sent on; 0: none named.
  void set_multicast_ifindex6(uint32_t ifindex) { mcast_ifindex6_.store(ifindex, std::memory_order_relaxed); }
  uint32_t multicast_ifindex6() const { return mcast_ifindex6_.load(std::memory_order_relaxed); }
  // IPV6_UNICAST_HOPS (-1: the route's default, 64) and IPV6_TCLASS.
  void set_hop_limit(int hops) { hop_limit_.store(static_cast<int16_t>(hops), std::memory_order_relaxed); }
  int hop_limit() const { return hop_limit_.load(std::memory_order_relaxed); }
  void set_tclass(uint8_t tclass) { tclass_.store(tclass, std::memory_order_relaxed); }
  uint8_t tclass() const { return tclass_.load(std::memory_order_relaxed); }

  SocketStats stats() const;
  uint64_t id() const { return id_; }
  // The owner's pointer (the shim's per-fd object), for hooks such as the
  // PortReserver that get the socket back.
  void set_user_data(void* p) { user_data_ = p; }
  void* user_data() const { return user_data_; }
  // For dpdkudp-stat, as the shim saw them: the application's fd for this
  // socket (-1: none known) and the thread (tid) that last took a datagram
  // from it (0: none yet). Plain relaxed values; the stats tick reads them.
  void set_owner_fd(int fd) { owner_fd_.store(fd, std::memory_order_relaxed); }
  int owner_fd() const { return owner_fd_.load(std::memory_order_relaxed); }
  // On every receive: a load, and a store only when the reader changed.
  void note_reader(int32_t tid) {
    if (last_reader_tid_.load(std::memory_order_relaxed) != tid) {
      last_reader_tid_.store(tid, std::memory_order_relaxed);
    }
  }
  int32_t last_reader_tid() const { return last_reader_tid_.load(std::memory_order_relaxed); }

 private:
  // The stack and its port table manage a socket's addressing and receive
  // queue (the poller side below); everything else goes through the
  // public calls above.
  friend class Stack;
  friend class UdpTable;
  UdpSocket(SocketOwner& owner, uint64_t id, uint8_t ttl, bool ipv6);

  // Poller side: queue a chain of datagrams (linked through next, meta
  // filled in) that the caller has already fit into rcvbuf with
  // admit(). One atomic update and one queue exchange per chain.
  void deliver_chain(Packet* first, Packet* last, uint32_t count, uint64_t bytes);
  // Current charge, for the caller's admission arithmetic.
  uint64_t queued_charge() const { return queued_bytes(queued_.load(std::memory_order_relaxed)); }
  void count_rx_drop() { rx_drops_.add(); }
  // An ICMP error for this socket. `fatal` as Linux's icmp_err_convert:
  // only fatal errors reach a connected socket without IP_RECVERR.
  void report_error(const SocketError& err, bool fatal);
  // Releases every queued packet (close, or final free).
  void purge();
  void notify_ring();

  SocketOwner& owner_;
  const uint64_t id_;
  const bool ipv6_;
  uint32_t scope_id_ = 0;  // the interface index, for link-local peers (set by the stack)
  void* user_data_ = nullptr;

  // Receive queue. queued_ packs the datagram count (high 24 bits) and the
  // charged bytes (low 40 bits) so both move with one atomic add. It is
  // bumped before the push, so a reader may briefly see a count the queue
  // has not linked yet, never the reverse. Readers serialise on read_lock_.
  static constexpr unsigned kCountShift = 40;
  static constexpr uint64_t queued_pack(uint64_t count, uint64_t bytes) { return (count << kCountShift) | bytes; }
  static constexpr uint64_t queued_count(uint64_t q) { return q >> kCountShift; }
  static constexpr uint64_t queued_bytes(uint64_t q) { return q & ((uint64_t{1} << kCountShift) - 1); }
  Packet* pop_linked();  // with read_lock_ held; waits out a half-linked push
  void after_dequeue(uint64_t count, uint64_t bytes);
  PacketMpscQueue queue_;
  std::atomic<uint64_t> queued_{0};
  std::mutex read_lock_;

  std::atomic<SocketNotifier*> notifier_{nullptr};
  std::atomic<bool> notify_every_arrival_{false};
  std::atomic<int> pending_error_{0};
  std::atomic<uint64_t> arrivals_{0};
  mutable std::mutex error_lock_;
  SocketError errors_[kMaxErrorQueue];
  size_t error_head_ = 0;
  // Written under error_lock_; read without it by has_error().
  std::atomic<size_t> error_count_{0};

  // Addressing. Writers (bind/connect/close) serialise on addr_lock_ and
  // publish packed copies that the send path reads without a lock: an
  // IPv4 endpoint fits one word; an IPv6 one sets kEndpointV6 there and
  // keeps its address in Published6, under a sequence counter.
  static constexpr uint64_t kEndpointValid = uint64_t{1} << 48;
  static constexpr uint64_t kEndpointV6 = uint64_t{1} << 49;
  static constexpr uint64_t kEndpointAny6 = uint64_t{1} << 50;  // IPv6 and :: (the send path needs only the port)
  static constexpr uint64_t pack(const Endpoint& e) {
    return kEndpointValid | (e.v6 ? kEndpointV6 : 0) | (e.v6 && e.addr6.is_unspecified() ? kEndpointAny6 : 0) |
           (uint64_t{e.addr.value} << 16) | e.port;
  }
  static constexpr std::optional<Endpoint> unpack(uint64_t v) {
    if ((v & kEndpointValid) == 0) return std::nullopt;
    return Endpoint{Ipv4Addr(static_cast<uint32_t>(v >> 16)), static_cast<uint16_t>(v)};
  }
  struct Published6 {
    std::atomic<uint64_t> hi{0}, lo{0};
    std::atomic<uint32_t> scope{0};
    void store(const Endpoint& e);
    void load_into(Endpoint& e) const;
  };
  std::optional<Endpoint> unpack_v6(const std::atomic<uint64_t>& packed, const Published6& v6) const;
  std::optional<Endpoint> load_endpoint(const std::atomic<uint64_t>& packed, const Published6& v6) const {
    uint64_t v = packed.load(std::memory_order_acquire);
    if ((v & kEndpointV6) == 0) return unpack(v);
    return unpack_v6(packed, v6);
  }
  void publish_addresses();  // with addr_lock_ held
  mutable std::mutex addr_lock_;
  std::optional<Endpoint> local_;
  std::optional<Endpoint> remote_;
  bool explicit_addr_ = false;  // bind() named an address (kept on disconnect)
  bool explicit_port_ = false;  // bind() named or asked for a port (kept on disconnect)
  bool closed_ = false;
  uintptr_t reservation_ = 0;  // PortReserver token, 0: none
  bool steered_ = false;       // told the PortSteeringHook about our port (IPv4)
  bool steered6_ = false;      // and for IPv6
  Ipv4Addr steered_addr_;
  Ipv6Addr steered_addr6_;
  std::atomic<uint64_t> local_packed_{0};
  std::atomic<uint64_t> remote_packed_{0};
  std::atomic<uint32_t> addr_seq_{0};  // odd while publish_addresses() writes
  Published6 local6_;
  Published6 remote6_;
  std::atomic<bool> v6only_{false};

  std::atomic<uint32_t> rcvbuf_{kDefaultRcvbuf};
  std::atomic<bool> broadcast_{false};
  bool reuse_addr_ = false;  // read under the table lock only
  bool reuse_port_ = false;
  std::atomic<uint8_t> ttl_{64};
  std::atomic<uint8_t> mcast_ttl_{1};
  std::atomic<bool> mcast_loop_{true};
  std::atomic<bool> mcast_all_{true};
  std::atomic<int16_t> mcast_hops_{-1};
  std::atomic<bool> mcast_loop6_{true};
  std::atomic<bool> mcast_all6_{true};
  std::atomic<uint32_t> mcast_ifindex6_{0};
  std::atomic<uint8_t> tos_{0};
  std::atomic<bool> recv_err_{false};
  std::atomic<int16_t> hop_limit_{-1};
  std::atomic<uint8_t> tclass_{0};
  std::atomic<uint16_t> next_ident_{0};

  // Counters. Datagrams handed to the app are counted by the reader under
  // read_lock_; drops by pollers (rare); tx by app threads.
  LocalCounter rx_datagrams_, rx_bytes_;
  std::atomic<int32_t> owner_fd_{-1};
  std::atomic<int32_t> last_reader_tid_{0};  // beside what the reader writes anyway
  SharedCounter rx_drops_;
  SharedCounter tx_datagrams_, tx_bytes_, tx_drops_;
};

}  // namespace dpdkudp::stack
