// One offloaded UDP socket as the application sees it.
//
// The application's fd is a real kernel UDP socket (so fstat, SO_TYPE,
// SO_DOMAIN and every option the shim does not handle answer natively). It
// plays three parts (design decisions 1 and 2):
//  - it reserves the port on the host: the stack's binds go through it;
//  - it carries what the bypass path cannot: loopback, the host's own
//    addresses, destinations routed through other interfaces. A socket
//    filter drops what arrives on the bypass interface, so nothing comes in
//    twice;
//  - it is the doorbell: when the stack's receive queue goes from empty to
//    non-empty, the engine sends it a small datagram from a private
//    loopback address, which makes it readable for unmodified
//    poll/select/epoll. The receive path discards doorbells and, when the
//    stack's queue drains, removes those still queued. A doorbell names
//    the socket it is for: in an SO_REUSEPORT group (of this process or
//    of several) the kernel may queue it on a sibling, which passes it on
//    from another source port until it lands (take_doorbell).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "engine/engine.h"
#include "stack/net/udp_socket.h"

namespace dpdkudp::preload {

// This thread's buffer for one datagram read from or handed off through a
// kernel fd (sizeof(HandoffHeader) + kMaxHandoffPayload bytes, and more
// than any UDP datagram on loopback: 65536 + 128).
inline constexpr size_t kKernelScratch = 65536 + 128;
uint8_t* handoff_scratch();

class ShimSocket final : public stack::SocketNotifier {
 public:
  ShimSocket(engine::Engine& engine, stack::UdpSocket* socket, int fd);
  // A forked child's own copy of `old` (its parent's socket, inherited at
  // fd) on the child's engine: the options, the binding (the kernel fd
  // already holds the port) and the peer. The processes holding it share
  // its port (SharedPorts::share_inherited). nullptr when the stack has no
  // room.
  static ShimSocket* adopt(engine::Engine& engine, const ShimSocket& old, int fd);

  void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  // The last reference closes the stack socket at once and frees this
  // object later (release()).
  void unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) release();
  }
  // The fds that name this socket (dup), for the doorbell's clear().
  void add_fd(int fd);
  void remove_fd(int fd);  // the last one: the stack socket closes

  // SocketNotifier (ring: a poller thread; clear: an app thread).
  void ring() override;
  void clear() override;

  // The POSIX calls, with libc's conventions (-1 and errno).
  int bind(int fd, const sockaddr* addr, socklen_t len);
  int connect(int fd, const sockaddr* addr, socklen_t len);
  ssize_t sendmsg(int fd, const msghdr* msg, int flags);
  int sendmmsg(int fd, mmsghdr* msgs, unsigned int n, int flags);
  ssize_t recvmsg(int fd, msghdr* msg, int flags);
  int recvmmsg(int fd, mmsghdr* msgs, unsigned int n, int flags, timespec* timeout);
  int shutdown(int fd, int how);
  int getsockname(int fd, sockaddr* addr, socklen_t* len);
  int getpeername(int fd, sockaddr* addr, socklen_t* len);
  // After the kernel accepted the option: mirror what the stack needs.
  void mirror_setsockopt(int fd, int level, int name, const void* value, socklen_t len);
  // IP_MULTICAST_IF and the membership options (multicast_opts.h), before
  // the kernel sees them: true when handled here (*rc: the call's result,
  // errno set), false when they are the kernel fd's (another interface).
  bool set_multicast_option(int fd, int name, const void* value, socklen_t len, int* rc);
  // getsockopt(IP_MULTICAST_IF) for an interface of ours; false: the kernel's.
  bool get_multicast_if(void* value, socklen_t* len) const;
  // The IPv6 membership options (level IPPROTO_IPV6, multicast_opts.h) of
  // an AF_INET6 socket, as set_multicast_option. IPV6_MULTICAST_IF needs no
  // such step: the kernel fd takes it (it knows every index and answers
  // getsockopt) and mirror_setsockopt notes it.
  bool set_multicast_option6(int name, const void* value, socklen_t len, int* rc);
  // SO_ERROR: the stack's pending error first. True when answered.
  bool take_so_error(int* out);
  // IP_MTU: the path MTU to the stack-connected peer. True when answered.
  bool ip_mtu(int* out);
  // FIONREAD: true when the stack had a datagram (size in *out).
  bool fionread(int fd, int* out);

  // Called by the port reserver from inside the stack's bind.
  int reserve_port(const stack::Endpoint& local);
  void release_port();

  // Every call on this socket goes to the kernel (connected to, or bound
  // on, something only the kernel reaches).
  bool kernel_only() const {
    return kernel_bound_.load(std::memory_order_acquire) || kernel_connected_.load(std::memory_order_acquire) ||
           kernel_placed_.load(std::memory_order_acquire);
  }
  // The fd was added to an epoll set with EPOLLET (thread model: the
  // doorbell rings per arrival).
  void set_edge_triggered() { socket_->set_notify_every_arrival(true); }

  // ---- for interposed waits (run to completion) ----
  // poll(2) events the stack gives: POLLIN when a datagram is queued,
  // POLLERR when an ICMP error is pending, POLLOUT when asked (the bypass
  // path never blocks a send), POLLRDHUP|POLLIN after SHUT_RD.
  short stack_events(short requested) const;
  // All of the socket's fds are closed.
  bool closed() const { return closing_.load(std::memory_order_acquire); }
  uint64_t arrivals() const { return socket_->arrivals(); }
  // Someone looked at the socket's readiness or read it (the watchdog
  // leaves such a socket alone).
  void note_serviced(uint64_t now_ns) {
    if (!reading_announced_.load(std::memory_order_relaxed)) [[unlikely]] {
      announce_reading();
    }
    uint64_t a = socket_->arrivals();
    if (serviced_arrivals_.load(std::memory_order_relaxed) != a) serviced_arrivals_.store(a, std::memory_order_relaxed);
    if (last_service_ns_.load(std::memory_order_relaxed) != now_ns) {
      last_service_ns_.store(now_ns, std::memory_order_relaxed);
    }
  }
  // fork() in this process, which keeps the socket: until this process
  // reads or waits on it again, what the stack queues for it goes on
  // through the kernel fd (hand_off) to whichever holder reads first.
  void arm_handoff();
  // Before asking the kernel about fd: doorbells left in it with nothing
  // queued in the stack would read as data; drop them.
  void drop_stale_doorbells(int fd);

 private:
  ~ShimSocket() override = default;  // only through release()
  void release();

  enum class Path { kStack, kKernel };
  Path path_for(const stack::Endpoint& dst) const;
  Path path_for(stack::Ipv4Addr dst) const;
  // Is the interface named by index (0: none) or address (0.0.0.0: the
  // route's) the bypass interface?
  bool on_bypass_interface(int ifindex, stack::Ipv4Addr addr) const;
  // Do group memberships go to the kernel fd: the backend does not receive
  // group traffic (DPDK without a multicast list).
  bool groups_in_kernel() const;
  // IP_MULTICAST_IF: another interface (group sends take the kernel path),
  // and the address given (host order; 0: none).
  std::atomic<bool> mcast_if_kernel_{false};
  std::atomic<uint32_t> mcast_if_addr_{0};
  // IPV6_MULTICAST_IF: the index (0: none, the route's choice).
  std::atomic<int> mcast6_if_{0};
  bool mcast6_if_kernel() const;  // another interface's
  // An IPv4 address the stack binds (ours, the wildcard, broadcast, multicast).
  bool is_ours(stack::Ipv4Addr a) const;
  // A sendto destination in the socket's family's rules (addressing.h).
  int parse_any_dest(const void* name, socklen_t len, stack::Endpoint* out, bool* no_dest) const;
  // An endpoint as the application sees it: sockaddr_in, or sockaddr_in6
  // (IPv4 v4-mapped) on an AF_INET6 socket.
  sockaddr_storage to_app_sockaddr(const stack::Endpoint& e, socklen_t* len) const;
  // stack_only: a later datagram of a recvmmsg batch, which takes only what
  // the stack has queued (no kernel-fd probe).
  ssize_t recv_once(int fd, msghdr* msg, int flags, bool stack_only = false);
  void note_doorbell_taken();
  // A doorbell read from our kernel fd: ours (counted), or a sibling's in
  // an SO_REUSEPORT group, passed on.
  void take_doorbell(const void* msg);
  // Takes the doorbell at the head of fd's queue: 1 when one was there, 0
  // when the head is something else, -1 (errno set) when nothing is queued.
  int take_queued_doorbell(int fd);
  void send_doorbell(const void* msg, int from_fd);  // from_fd: a doorbell sender
  // Sends data[0..len) from a doorbell sender to the kernel fd; false when
  // it was not sent (no target yet, no sender, the send failed).
  bool send_to_kernel_fd(const void* data, size_t len, int from_fd);

 public:
  // The watchdog, at the engine tick (every socket): the stack holds data
  // that nothing has looked at for 100 ms, so whatever should have said so
  // was lost or is invisible to us (a wait the shim does not see, an edge
  // lost in the thread model, a doorbell lost among SO_REUSEPORT
  // siblings): ring the doorbell, from the next sender when one is already
  // pending. Readiness is level-triggered by construction.
  void check_doorbell(uint64_t now_ns);

 private:
  void send_own_doorbell(bool fresh_sender = false);
  // Passes what the stack queued on through the kernel fd (HandoffHeader)
  // while handoff_ is set; one thread at a time (handing_off_).
  void hand_off();
  void hand_off_queued();
  std::atomic<bool> handoff_{false};
  std::atomic<bool> handing_off_{false};
  // The first read of or wait on a bound socket: tells the port-sharing
  // table that this process reads the port (SharedPorts::note_reading).
  void announce_reading();
  std::atomic<bool> reading_announced_{false};
  // Where doorbells go, from the kernel fd's bound address.
  void publish_doorbell_target(const sockaddr_storage& bound);
  void start_watchdog();  // joins the watchdog's list (shim_socket_doorbell.cc)
  void stop_watchdog();
  ssize_t fill_from_stack(msghdr* msg, int flags, int64_t n, const stack::RecvInfo& info);
  void drain_doorbells(int fd);
  bool wait_readable(int fd);  // a blocking receive's wait; false: errno set (EAGAIN/EINTR)

  engine::Engine& engine_;
  stack::UdpSocket* const socket_;
  std::atomic<int> refs_{0};
  std::mutex fds_lock_;
  std::vector<int> fds_;
  std::atomic<int> any_fd_;
  std::atomic<bool> kernel_bound_{false};      // bound where only the kernel reaches (127.0.0.1, ...)
  std::atomic<bool> kernel_connected_{false};  // connected to such a destination
  // DPDKUDP_OFFLOAD (engine/offload_rules.h): the socket was placed, at its
  // first bind, connect or send; kernel_placed_: on the kernel, for good.
  std::atomic<bool> placed_{false};
  std::atomic<bool> kernel_placed_{false};
  // Places the socket by the rules if it is not yet placed; true when it
  // is (now or already) on the kernel.
  bool placed_on_kernel(int fd, const engine::PlacementQuery& q);
  // The same for a send on a socket never bound or connected, by its
  // destination; true when the send goes to the kernel.
  bool placed_for_send(int fd, const msghdr* msg);
  std::atomic<bool> closing_{false};
  std::atomic<bool> shut_rd_{false};  // recv returns 0 once the queue is empty
  std::atomic<bool> shut_wr_{false};  // send fails with EPIPE
  // Where doorbells go: the kernel fd's bound address (127.0.0.1 when it
  // is bound to the wildcard). Set when the port is reserved.
  std::atomic<uint64_t> doorbell_target_{0};  // addr << 16 | port, 0: none
  // An AF_INET6 kernel fd's doorbells go to doorbell_addr6 (written before
  // the target is published) from a ::1 sender.
  static constexpr uint64_t kDoorbellTargetV6 = uint64_t{1} << 63;
  std::atomic<uint64_t> doorbell_addr6_hi_{0}, doorbell_addr6_lo_{0};
  bool doorbell_v6() const { return (doorbell_target_.load(std::memory_order_relaxed) & kDoorbellTargetV6) != 0; }
  // Doorbells sent and not yet drained (counted before the send, so never
  // fewer than are queued): draining stops at zero without a probe. At
  // most kMaxPendingDoorbells are sent ahead of the reader: an
  // edge-triggered waiter in the thread model gets one per arrival, and a
  // kernel queue left full of them would drop the next one unseen (a
  // loopback sendto succeeds whether or not the receiver had room) and
  // with it the edge that should wake the waiter.
  static constexpr int kMaxPendingDoorbells = 8;
  std::atomic<int> doorbells_{0};
  // Names our doorbells (pid << 32 | serial); which doorbell sender's
  // source port the kernel hashes to us (moved on when ours arrive only
  // after a detour through a sibling).
  const uint64_t token_;
  std::atomic<unsigned> sender_{0};
  // Watchdog retries since ours last came back to us: past
  // kDoorbellSenders, each leaves from a fresh port.
  std::atomic<unsigned> astray_retries_{0};
  std::atomic<uint64_t> last_ring_ns_{0};
  std::atomic<uint64_t> last_service_ns_{0};
  // arrivals() when last serviced: what the application has been shown.
  // The watchdog rings only for arrivals since (an edge-triggered or
  // one-shot waiter that was told and chose not to read is left alone).
  std::atomic<uint64_t> serviced_arrivals_{0};
  // Threads asleep in a blocking recv on the kernel fd: the driver rings
  // the doorbell for them (inline model).
  std::atomic<int> blocked_readers_{0};

  // Options the receive path needs (the kernel keeps its own copy).
  std::atomic<bool> want_pktinfo_{false};
  std::atomic<bool> want_timestamp_{false};
  std::atomic<bool> want_timestampns_{false};
  std::atomic<bool> want_tos_{false};
  std::atomic<bool> want_ttl_{false};
  std::atomic<bool> want_pktinfo6_{false};
  std::atomic<bool> want_hoplimit6_{false};
  std::atomic<bool> want_tclass6_{false};
};

// The stack's PortReserver for the shim: binds the socket's own kernel fd.
class ShimPortReserver final : public stack::PortReserver {
 public:
  int reserve(const stack::UdpSocket& socket, const stack::Endpoint& local, bool reuse_addr, bool reuse_port,
              uintptr_t* token) override;
  void release(uintptr_t token) override;
};

}  // namespace dpdkudp::preload
