#include "engine/group_peers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "engine/log.h"
#include "engine/poller.h"
#include "stack/net/stack.h"

namespace dpdkudp::engine {
namespace {

constexpr uint8_t kMagic[4] = {'D', 'U', 'G', 'P'};
constexpr uint8_t kVersion = 1;
// Copies read per system call, and the largest frame a copy carries (a
// jumbo frame and its header).
constexpr unsigned kBatch = 16;
constexpr size_t kMaxCopy = 9216 + kGroupCopyHeaderLen;

}  // namespace

void write_group_copy_header(uint8_t* out, uint64_t key) {
  std::memcpy(out, kMagic, 4);
  out[4] = kVersion;
  out[5] = out[6] = out[7] = 0;
  for (int i = 0; i < 8; ++i) out[8 + i] = static_cast<uint8_t>(key >> (8 * i));
}

std::span<const uint8_t> parse_group_copy(std::span<const uint8_t> datagram, uint64_t key) {
  if (datagram.size() <= kGroupCopyHeaderLen) return {};
  uint8_t want[kGroupCopyHeaderLen];
  write_group_copy_header(want, key);
  if (std::memcmp(datagram.data(), want, kGroupCopyHeaderLen) != 0) return {};
  return datagram.subspan(kGroupCopyHeaderLen);
}

GroupPeersImpl::GroupPeersImpl(SharedPorts& table, stack::Stack& stack, bool forward_received)
    : table_(table), stack_(stack), forward_received_(forward_received), key_(table.key()) {
  base::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (!fd.valid() || ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    log(LogLevel::kWarn,
        "multicast between processes: no loopback socket (%s): other processes on the "
        "interface get no IP_MULTICAST_LOOP copies from this one",
        std::strerror(errno));
    return;
  }
  fd_ = std::move(fd);
  inbox_port_ = ntohs(a.sin_port);
  // Copies come in bursts (a feed's every datagram): room for a few
  // thousand before the thread reads them.
  // (net.core.rmem_max caps SO_RCVBUF; a privileged process passes it.)
  const int rcvbuf = 4 << 20;
  if (::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  // The kernel's count of copies it dropped at the full inbox comes with
  // every read: they are counted as ours (group_copy_lost).
  const int one = 1;
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
}

GroupPeersImpl::~GroupPeersImpl() { stop(); }

void GroupPeersImpl::stop() {
  stopping_.store(true, std::memory_order_release);
  // Wakes the thread's blocking receive (Linux wakes readers of a UDP
  // socket on shutdown even when it is not connected).
  if (fd_.valid()) ::shutdown(fd_.get(), SHUT_RDWR);
  if (inbox_.joinable()) inbox_.join();
}

void GroupPeersImpl::publish() {
  if (!fd_.valid()) return;
  std::lock_guard lock(publish_mutex_);
  std::vector<stack::GroupKey> now = stack_.group_memberships();
  if (published_once_.load(std::memory_order_relaxed) && now == published_) return;
  if (!now.empty() && !inbox_.joinable() && !stopping_.load(std::memory_order_acquire)) {
    inbox_ = std::thread([this] { run_inbox(); });
  }
  if (!table_.publish_groups(inbox_port_, now) && !said_full_) {
    said_full_ = true;
    log(LogLevel::kWarn,
        "multicast between processes: %zu (group, port) pairs, only the first %u are shared with "
        "other processes on the interface",
        now.size(), SharedPorts::kMaxGroups);
  }
  published_ = std::move(now);
  published_once_.store(true, std::memory_order_relaxed);
}

void GroupPeersImpl::on_tick() {
  // Only a process that ever joined has records to keep true.
  if (published_once_.load(std::memory_order_relaxed)) publish();
}

void GroupPeersImpl::refresh_view() {
  const uint64_t gen = table_.groups_generation();
  if (gen == view_gen_.load(std::memory_order_acquire)) return;
  std::vector<SharedPorts::GroupPeer> peers = table_.group_peers();
  std::lock_guard lock(view_mutex_);
  view_ = std::move(peers);
  view_empty_.store(view_.empty(), std::memory_order_relaxed);
  view_gen_.store(gen, std::memory_order_release);
}

bool GroupPeersImpl::member(const stack::GroupKey& key) {
  if (!fd_.valid()) return false;
  refresh_view();
  if (view_empty_.load(std::memory_order_relaxed)) return false;
  std::lock_guard lock(view_mutex_);
  return std::any_of(view_.begin(), view_.end(), [&](const SharedPorts::GroupPeer& p) { return p.key == key; });
}

void GroupPeersImpl::send_copies(const stack::GroupKey& key, const uint8_t* frame, size_t len) {
  if (!fd_.valid() || len + kGroupCopyHeaderLen > kMaxCopy) return;
  uint8_t header[kGroupCopyHeaderLen];
  write_group_copy_header(header, key_);
  iovec iov[2] = {{header, sizeof header}, {const_cast<uint8_t*>(frame), len}};
  uint16_t ports[SharedPorts::kMaxMembers];
  size_t n = 0;
  {
    std::lock_guard lock(view_mutex_);
    for (const SharedPorts::GroupPeer& p : view_) {
      // One copy per process, however many records it has for the key.
      if (p.key == key && n < SharedPorts::kMaxMembers && std::find(ports, ports + n, p.inbox_port) == ports + n) {
        ports[n++] = p.inbox_port;
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(ports[i]);
    msghdr msg{};
    msg.msg_name = &to;
    msg.msg_namelen = sizeof to;
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    if (::sendmsg(fd_.get(), &msg, MSG_DONTWAIT) < 0) {
      // A process that ended since the view was made refuses (its port is
      // closed): nobody lost anything there.
      if (errno != ECONNREFUSED) stack_.count_drop(stack::DropReason::kGroupCopyLost);
    } else {
      sent_.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void GroupPeersImpl::run_inbox() {
  mark_this_thread_engine();
  pthread_setname_np(pthread_self(), "dpdkudp-mcast");
  std::vector<uint8_t> buffers(kBatch * kMaxCopy);
  iovec iov[kBatch];
  mmsghdr msgs[kBatch];
  sockaddr_in from[kBatch];
  alignas(cmsghdr) uint8_t control[kBatch][CMSG_SPACE(sizeof(uint32_t))];
  uint32_t overflows = 0;  // the kernel's count at the last read
  while (!stopping_.load(std::memory_order_acquire)) {
    for (unsigned i = 0; i < kBatch; ++i) {
      iov[i] = {buffers.data() + i * kMaxCopy, kMaxCopy};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      msgs[i].msg_hdr.msg_control = control[i];
      msgs[i].msg_hdr.msg_controllen = sizeof control[i];
    }
    const int n = ::recvmmsg(fd_.get(), msgs, kBatch, MSG_WAITFORONE, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; ++i) {
      for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c != nullptr; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL) continue;
        uint32_t now = 0;
        std::memcpy(&now, CMSG_DATA(c), sizeof now);
        if (now != overflows) {
          stack_.count_drop(stack::DropReason::kGroupCopyLost, static_cast<uint32_t>(now - overflows));
        }
        overflows = now;
      }
      // From this host's loopback, with the table's key: a member's copy.
      if (from[i].sin_addr.s_addr != htonl(INADDR_LOOPBACK) || (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) continue;
      const auto frame = parse_group_copy({static_cast<const uint8_t*>(iov[i].iov_base), msgs[i].msg_len}, key_);
      if (frame.empty()) continue;
      received_.fetch_add(1, std::memory_order_relaxed);
      stack_.inject_looped_frame(frame.data(), frame.size());
    }
  }
}

}  // namespace dpdkudp::engine
