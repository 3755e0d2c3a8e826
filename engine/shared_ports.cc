#include "engine/shared_ports.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "base/process.h"
#include "base/random.h"
#include "stack/net/udp_table.h"

namespace dpdkudp::engine {
namespace {

constexpr uint64_t kMagic = 0x7374726f70647564ull;  // "dudports", little-endian
constexpr uint32_t kVersion = 3;
constexpr uint32_t kPorts = 65536;
constexpr uint32_t kNoSlot = 0xff;
// A reader that finds an entry changing this many times in a row takes
// the datagram (a duplicate is better than a loss); writes take
// microseconds, so it does not happen in practice.
constexpr int kReadAttempts = 1000;

// One (member, family, address) serving a port. meta: slot | v6 << 8 |
// reuse_port << 9; addr: network order, IPv4 in the first word; all
// zeros: any address. Words are atomics so that readers may look while a
// writer changes them (the sequence count says whether what they read
// held together).
constexpr uint32_t kMetaV6 = 1u << 8;
constexpr uint32_t kMetaReusePort = 1u << 9;
// The socket came down a fork: its holders share it as an SO_REUSEPORT
// group would (set on every record of the port by the child that adopts it).
constexpr uint32_t kMetaInherited = 1u << 10;
// The process has read (or waited on) its socket on the port: among the
// sharers, those that read take the traffic.
constexpr uint32_t kMetaReading = 1u << 11;
// The socket has SO_REUSEADDR: among sharers that all have it (and not all
// SO_REUSEPORT), the record made last takes unicast, as Linux gives it to
// the socket bound last.
constexpr uint32_t kMetaReuseAddr = 1u << 12;
struct Record {
  std::atomic<uint32_t> meta;
  std::atomic<uint32_t> addr[4];
};

struct PortEntry {
  std::atomic<uint32_t> seq;  // odd while a writer changes the entry
  std::atomic<uint32_t> count;
  Record rec[SharedPorts::kMaxSharers];
};

// A member that keeps only group records (AF_XDP): it never answers for
// the host and records no port.
constexpr uint32_t kMemberGroupsOnly = 1u << 0;

struct Member {
  uint32_t pid;  // 0: free slot
  uint32_t flags;
  uint64_t start;
  // Held (robust, process-shared) by the member's poller thread for the
  // engine's life: when the process ends, however (exit, _exit, a signal),
  // the kernel marks it owner-dead at once, which the others read in
  // userspace on the receive path, before any refresh finds the pid gone.
  pthread_mutex_t alive;
};

// Whether the member's holder thread has ended (FUTEX_OWNER_DIED in the
// robust mutex's futex word, set by the kernel as the thread exits).
bool holder_died(const Member& m) {
  auto& word = const_cast<int&>(m.alive.__data.__lock);
  return (std::atomic_ref<int>(word).load(std::memory_order_relaxed) & FUTEX_OWNER_DIED) != 0;
}

bool default_alive(const SharedPorts::Identity& who) { return base::process_running(who.pid, who.start); }

// A member slot whose process is gone: its holder thread ended, or the
// process is not running any more by `alive`'s measure. False for a free slot.
bool member_gone(const Member& m, SharedPorts::LivenessCheck alive) {
  return m.pid != 0 && (holder_died(m) || !alive(SharedPorts::Identity{m.pid, m.start}));
}

// A member's (group, port) records and its inbox (a loopback UDP port; 0:
// none). Read and written under the region's lock.
struct GroupRecord {
  uint8_t addr[16];
  uint16_t port;
  uint8_t v6;
  uint8_t pad;
};

struct GroupSet {
  uint32_t inbox;
  uint32_t count;
  GroupRecord rec[SharedPorts::kMaxGroups];
};

struct Snapshot {
  uint32_t count = 0;
  uint32_t meta[SharedPorts::kMaxSharers];
  uint32_t addr[SharedPorts::kMaxSharers][4];
};

}  // namespace

struct SharedPorts::Region {
  uint64_t magic;  // set last by the maker (atomic_ref), once the rest is ready
  uint32_t version;
  uint32_t removed;  // set under the lock by the last member, before unlinking
  pthread_mutex_t mutex;
  uint32_t writing;  // port + 1 whose entry a writer is changing (repair after its death)
  Member members[kMaxMembers];
  uint64_t key;                      // the maker's random bits (GroupPeers' copies carry them)
  std::atomic<uint64_t> groups_gen;  // moves on every change of `groups`
  GroupSet groups[kMaxMembers];
  std::atomic<uint64_t> in_use[kPorts / 64];  // ports with records: readers look here first
  PortEntry ports[kPorts];                    // untouched entries cost no memory (the object is sparse)
};

namespace {

using Region = SharedPorts::Region;

bool read_entry(const PortEntry& e, Snapshot* out) {
  for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
    const uint32_t before = e.seq.load(std::memory_order_acquire);
    if ((before & 1) != 0) continue;
    out->count = std::min(e.count.load(std::memory_order_relaxed), SharedPorts::kMaxSharers);
    for (uint32_t i = 0; i < out->count; ++i) {
      out->meta[i] = e.rec[i].meta.load(std::memory_order_relaxed);
      for (int w = 0; w < 4; ++w) out->addr[i][w] = e.rec[i].addr[w].load(std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (e.seq.load(std::memory_order_relaxed) == before) return true;
  }
  return false;
}

// Writers hold the region's lock and bracket their changes with these.
void begin_write(Region* r, uint32_t port) {
  r->writing = port + 1;
  PortEntry& e = r->ports[port];
  e.seq.store(e.seq.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
}

void end_write(Region* r, uint32_t port) {
  PortEntry& e = r->ports[port];
  e.seq.store(e.seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  r->writing = 0;
}

void set_in_use(Region* r, uint32_t port, bool on) {
  const uint64_t bit = uint64_t{1} << (port % 64);
  if (on) {
    r->in_use[port / 64].fetch_or(bit, std::memory_order_release);
  } else {
    r->in_use[port / 64].fetch_and(~bit, std::memory_order_release);
  }
}

// Removes record i of the entry; the later ones move down, so the records
// stay in the order they were made (SO_REUSEADDR's last one takes unicast).
void remove_record(PortEntry& e, uint32_t i) {
  const uint32_t last = e.count.load(std::memory_order_relaxed) - 1;
  for (uint32_t k = i; k < last; ++k) {
    e.rec[k].meta.store(e.rec[k + 1].meta.load(std::memory_order_relaxed), std::memory_order_relaxed);
    for (int w = 0; w < 4; ++w) {
      e.rec[k].addr[w].store(e.rec[k + 1].addr[w].load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
  }
  e.count.store(last, std::memory_order_relaxed);
}

// Spreads a flow over n sharers with other bits than the in-process
// reuseport pick (which takes the hash modulo the group): both levels
// then spread independently.
uint32_t spread(uint32_t h, uint32_t n) {
  h ^= h >> 16;
  h *= 0x7feb352du;
  h ^= h >> 15;
  h *= 0x846ca68bu;
  h ^= h >> 16;
  return static_cast<uint32_t>((uint64_t{h} * n) >> 32);
}

std::string errno_line(const std::string& name, const char* what, int err) {
  return "port-sharing table /dev/shm" + name + ": " + what + ": " + std::strerror(err);
}

void init_mutex(pthread_mutex_t* m) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(m, &attr);
  pthread_mutexattr_destroy(&attr);
}

// Maps the object, making it when there is none. nullptr with *error; a
// null error with nullptr: a half-made or removed object met, try again.
Region* map_region(const std::string& name, std::string* error) {
  bool maker = true;
  int fd = shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) {
    maker = false;
    fd = shm_open(name.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0 && errno == ENOENT) return nullptr;  // removed meanwhile
  }
  if (fd < 0) {
    *error = errno_line(name, "cannot open", errno);
    return nullptr;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
    ::close(fd);
    *error = "port-sharing table /dev/shm" + name + " is not a private file of uid " + std::to_string(geteuid()) +
             " (remove it)";
    return nullptr;
  }
  if (maker && ftruncate(fd, sizeof(Region)) != 0) {
    const int err = errno;
    ::close(fd);
    shm_unlink(name.c_str());
    *error = errno_line(name, "cannot size", err);
    return nullptr;
  }
  // A joiner may meet the maker between shm_open and ftruncate: wait a
  // little for the size, then take the object for abandoned.
  for (int i = 0; !maker && st.st_size == 0 && i < 1000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    fstat(fd, &st);
  }
  if (!maker && static_cast<size_t>(st.st_size) != sizeof(Region)) {
    ::close(fd);
    if (st.st_size == 0) {
      shm_unlink(name.c_str());
      return nullptr;
    }
    *error = "port-sharing table /dev/shm" + name + " has another layout (a process of another dpdkudp build " +
             "shares the interface)";
    return nullptr;
  }
  void* p = mmap(nullptr, sizeof(Region), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int err = errno;
  ::close(fd);
  if (p == MAP_FAILED) {
    *error = errno_line(name, "cannot map", err);
    return nullptr;
  }
  auto* r = static_cast<Region*>(p);
  std::atomic_ref<uint64_t> magic(r->magic);
  if (maker) {
    r->version = kVersion;
    r->key = base::random_key();
    init_mutex(&r->mutex);
    magic.store(kMagic, std::memory_order_release);
    return r;
  }
  for (int i = 0; magic.load(std::memory_order_acquire) != kMagic && i < 1000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (magic.load(std::memory_order_acquire) != kMagic || r->version != kVersion) {
    const bool abandoned = magic.load(std::memory_order_acquire) == 0;
    munmap(r, sizeof(Region));
    if (abandoned) {
      shm_unlink(name.c_str());
      return nullptr;
    }
    *error = "port-sharing table /dev/shm" + name + " has another version";
    return nullptr;
  }
  return r;
}

// Removes the tables of this user whose members are all gone (killed
// together, or in a network namespace that no longer exists): each is
// looked at under its lock and marked removed first, as a last member
// leaving does. At most a few dozen per call.
void sweep_stale(const std::string& own_name) {
  const std::string prefix = "dpdkudp-ports-" + std::to_string(geteuid()) + "-";
  DIR* dir = opendir("/dev/shm");
  if (dir == nullptr) return;
  std::vector<std::string> names;
  while (const dirent* d = readdir(dir)) {
    if (std::strncmp(d->d_name, prefix.c_str(), prefix.size()) == 0 && own_name != std::string("/") + d->d_name) {
      names.push_back(std::string("/") + d->d_name);
    }
    if (names.size() >= 64) break;
  }
  closedir(dir);
  for (const std::string& name : names) {
    const int fd = shm_open(name.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) continue;
    struct stat st {};
    const bool ours = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
                      static_cast<size_t>(st.st_size) == sizeof(Region);
    void* p = ours ? mmap(nullptr, sizeof(Region), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
    ::close(fd);
    if (p == MAP_FAILED) continue;
    auto* r = static_cast<Region*>(p);
    if (std::atomic_ref<uint64_t>(r->magic).load(std::memory_order_acquire) == kMagic && r->version == kVersion) {
      if (pthread_mutex_lock(&r->mutex) == EOWNERDEAD) pthread_mutex_consistent(&r->mutex);
      bool live = false;
      for (const Member& m : r->members) live |= m.pid != 0 && !member_gone(m, default_alive);
      if (!live && r->removed == 0) {
        r->removed = 1;
        shm_unlink(name.c_str());
      }
      pthread_mutex_unlock(&r->mutex);
    }
    munmap(r, sizeof(Region));
  }
}

}  // namespace

std::string SharedPorts::name_for(int ifindex) {
  struct stat ns {};
  const uint64_t netns = stat("/proc/self/ns/net", &ns) == 0 ? static_cast<uint64_t>(ns.st_ino) : 0;
  return "/dpdkudp-ports-" + std::to_string(geteuid()) + "-" + std::to_string(netns) + "-" + std::to_string(ifindex);
}

std::unique_ptr<SharedPorts> SharedPorts::join(const std::string& name, std::string* error, bool groups_only) {
  sweep_stale(name);
  const auto pid = static_cast<uint32_t>(getpid());
  return join_as(name, Identity{pid, base::process_start_time(pid)}, default_alive, error, groups_only);
}

std::unique_ptr<SharedPorts> SharedPorts::join_as(const std::string& name, Identity self, LivenessCheck alive,
                                                  std::string* error, bool groups_only) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    error->clear();
    Region* r = map_region(name, error);
    if (r == nullptr) {
      if (!error->empty()) return nullptr;
      continue;
    }
    std::unique_ptr<SharedPorts> t(new SharedPorts(r, self, alive, kNoSlot, name, groups_only));
    t->lock();
    if (r->removed != 0) {  // its last member left while we mapped it
      t->unlock();
      t->slot_.store(kNoSlot, std::memory_order_relaxed);
      continue;  // the destructor unmaps
    }
    for (uint32_t i = 0; i < kMaxMembers; ++i) {
      const Member& m = r->members[i];
      if (member_gone(m, alive)) t->forget_member_locked(i);
    }
    for (uint32_t i = 0; i < kMaxMembers && t->slot() == kNoSlot; ++i) {
      if (r->members[i].pid == 0) {
        r->members[i].pid = self.pid;
        r->members[i].start = self.start;
        r->members[i].flags = groups_only ? kMemberGroupsOnly : 0;
        r->groups[i].inbox = 0;
        r->groups[i].count = 0;
        init_mutex(&r->members[i].alive);
        t->slot_.store(i, std::memory_order_relaxed);
      }
    }
    if (t->slot() == kNoSlot) {
      t->unlock();
      *error = "port-sharing table /dev/shm" + name + ": " + std::to_string(kMaxMembers) +
               " processes already share the interface";
      return nullptr;
    }
    t->settle_leader_locked();
    t->unlock();
    return t;
  }
  *error = "port-sharing table /dev/shm" + name + ": removed or abandoned while joining, four times";
  return nullptr;
}

SharedPorts::SharedPorts(Region* region, Identity self, LivenessCheck alive, uint32_t slot, std::string name,
                         bool groups_only)
    : region_(region),
      self_(self),
      alive_(alive),
      slot_(slot),
      name_(std::move(name)),
      created_by_(static_cast<uint32_t>(getpid())),
      groups_only_(groups_only) {}

SharedPorts::~SharedPorts() {
  leave();
  munmap(region_, sizeof(Region));
}

void SharedPorts::leave() {
  const std::lock_guard<std::mutex> guard(local_mutex_);
  // A forked child's copy of a member's table: the parent still uses it.
  if (slot_ == kNoSlot || created_by_ != static_cast<uint32_t>(getpid())) return;
  lock();
  // Our slot is still ours unless another member took us for dead (a
  // process stopped for longer than a refresh, or a test's made-up one).
  const Member& mine = region_->members[slot_];
  if (mine.pid == self_.pid && mine.start == self_.start) forget_member_locked(slot_);
  bool last = true;
  for (const Member& m : region_->members) last &= m.pid == 0;
  if (last) {
    region_->removed = 1;
    shm_unlink(name_.c_str());
  } else {
    settle_leader_locked();
  }
  unlock();
  slot_.store(kNoSlot, std::memory_order_relaxed);
  held_.clear();
  leader_.store(false, std::memory_order_relaxed);
}

void SharedPorts::lock() const {
  const int r = pthread_mutex_lock(&region_->mutex);
  if (r == EOWNERDEAD) {
    // A member died holding the lock: finish the entry it was writing (its
    // records stay until a refresh finds it dead and removes them).
    if (region_->writing != 0) {
      PortEntry& e = region_->ports[region_->writing - 1];
      if (e.count.load(std::memory_order_relaxed) > kMaxSharers) e.count.store(kMaxSharers, std::memory_order_relaxed);
      if ((e.seq.load(std::memory_order_relaxed) & 1) != 0) end_write(region_, region_->writing - 1);
      region_->writing = 0;
    }
    pthread_mutex_consistent(&region_->mutex);
  }
}

void SharedPorts::unlock() const { pthread_mutex_unlock(&region_->mutex); }

void SharedPorts::forget_member_locked(uint32_t slot) {
  for (uint32_t word = 0; word < kPorts / 64; ++word) {
    uint64_t bits = region_->in_use[word].load(std::memory_order_relaxed);
    while (bits != 0) {
      const uint32_t port = word * 64 + static_cast<uint32_t>(__builtin_ctzll(bits));
      bits &= bits - 1;
      PortEntry& e = region_->ports[port];
      begin_write(region_, port);
      for (uint32_t i = e.count.load(std::memory_order_relaxed); i-- > 0;) {
        if ((e.rec[i].meta.load(std::memory_order_relaxed) & 0xff) == slot) remove_record(e, i);
      }
      end_write(region_, port);
      if (e.count.load(std::memory_order_relaxed) == 0) set_in_use(region_, port, false);
    }
  }
  if (region_->groups[slot].count != 0 || region_->groups[slot].inbox != 0) {
    region_->groups[slot].count = 0;
    region_->groups[slot].inbox = 0;
    region_->groups_gen.fetch_add(1, std::memory_order_release);
  }
  region_->members[slot].pid = 0;
  region_->members[slot].start = 0;
  region_->members[slot].flags = 0;
}

void SharedPorts::settle_leader_locked() {
  uint32_t leader = 0;
  for (uint32_t i = 0; i < kMaxMembers && leader == 0; ++i) {
    const Member& m = region_->members[i];
    if (m.pid != 0 && (m.flags & kMemberGroupsOnly) == 0) leader = i + 1;
  }
  leader_.store(leader == slot_ + 1, std::memory_order_relaxed);
}

void SharedPorts::refresh() {
  lock();
  for (uint32_t i = 0; i < kMaxMembers; ++i) {
    const Member& m = region_->members[i];
    if (i != slot_ && member_gone(m, alive_)) forget_member_locked(i);
  }
  settle_leader_locked();
  unlock();
}

void SharedPorts::hold_membership() {
  const uint32_t me = slot();
  if (me == kNoSlot || created_by_ != static_cast<uint32_t>(getpid())) return;
  if (pthread_mutex_lock(&region_->members[me].alive) == EOWNERDEAD) {
    pthread_mutex_consistent(&region_->members[me].alive);
  }
}

uint32_t SharedPorts::members() const {
  lock();
  uint32_t n = 0;
  for (const Member& m : region_->members) n += m.pid != 0 ? 1 : 0;
  unlock();
  return n;
}

int SharedPorts::claim(bool v6, const uint8_t* addr, uint16_t port, bool on, bool reuse_port, bool reuse_addr) {
  std::array<uint8_t, 16> a{};
  std::memcpy(a.data(), addr, v6 ? 16 : 4);
  const auto key = std::make_tuple(v6, a, port);
  uint32_t words[4] = {};
  std::memcpy(words, a.data(), sizeof words);
  const uint32_t meta =
      slot_ | (v6 ? kMetaV6 : 0) | (reuse_port ? kMetaReusePort : 0) | (reuse_addr ? kMetaReuseAddr : 0);
  const auto same = [&](const Record& r) {
    if ((r.meta.load(std::memory_order_relaxed) & (0xff | kMetaV6)) != (meta & (0xff | kMetaV6))) return false;
    for (int w = 0; w < 4; ++w) {
      if (r.addr[w].load(std::memory_order_relaxed) != words[w]) return false;
    }
    return true;
  };

  const std::lock_guard<std::mutex> guard(local_mutex_);
  if (slot_ == kNoSlot) return 0;  // left: the process is exiting
  auto it = held_.find(key);
  PortEntry& e = region_->ports[port];
  if (on) {
    if (it != held_.end()) {
      ++it->second;  // another socket of ours on the same address and port
      return 0;
    }
    lock();
    // Records of members that died since the last refresh make no room.
    for (bool again = true; again;) {
      again = false;
      for (uint32_t i = 0; i < e.count.load(std::memory_order_relaxed) && !again; ++i) {
        const uint32_t s = e.rec[i].meta.load(std::memory_order_relaxed) & 0xff;
        if (s != slot_ && member_gone(region_->members[s], alive_)) {
          forget_member_locked(s);
          again = true;
        }
      }
    }
    const uint32_t n = e.count.load(std::memory_order_relaxed);
    if (n >= kMaxSharers) {
      unlock();
      return EADDRINUSE;
    }
    begin_write(region_, port);
    e.rec[n].meta.store(meta, std::memory_order_relaxed);
    for (int w = 0; w < 4; ++w) e.rec[n].addr[w].store(words[w], std::memory_order_relaxed);
    e.count.store(n + 1, std::memory_order_relaxed);
    end_write(region_, port);
    set_in_use(region_, port, true);
    unlock();
    held_.emplace(key, 1);
    return 0;
  }
  if (it == held_.end()) return ENOENT;
  if (--it->second > 0) return 0;
  held_.erase(it);
  lock();
  begin_write(region_, port);
  for (uint32_t i = 0; i < e.count.load(std::memory_order_relaxed); ++i) {
    if (same(e.rec[i])) {
      remove_record(e, i);
      break;
    }
  }
  end_write(region_, port);
  if (e.count.load(std::memory_order_relaxed) == 0) set_in_use(region_, port, false);
  unlock();
  return 0;
}

void SharedPorts::mark_port(uint16_t port, uint32_t bit, bool ours_only) {
  lock();
  PortEntry& e = region_->ports[port];
  begin_write(region_, port);
  for (uint32_t i = 0; i < e.count.load(std::memory_order_relaxed); ++i) {
    const uint32_t meta = e.rec[i].meta.load(std::memory_order_relaxed);
    if (!ours_only || (meta & 0xff) == slot_) e.rec[i].meta.store(meta | bit, std::memory_order_relaxed);
  }
  end_write(region_, port);
  unlock();
}

bool SharedPorts::publish_groups(uint16_t inbox_port, std::span<const stack::GroupKey> groups) {
  const std::lock_guard<std::mutex> guard(local_mutex_);
  if (slot_ == kNoSlot) return true;
  const auto n = static_cast<uint32_t>(std::min<size_t>(groups.size(), kMaxGroups));
  lock();
  GroupSet& mine = region_->groups[slot_];
  mine.inbox = inbox_port;
  for (uint32_t i = 0; i < n; ++i) {
    std::memcpy(mine.rec[i].addr, groups[i].addr.data(), 16);
    mine.rec[i].port = groups[i].port;
    mine.rec[i].v6 = groups[i].v6 ? 1 : 0;
    mine.rec[i].pad = 0;
  }
  mine.count = n;
  region_->groups_gen.fetch_add(1, std::memory_order_release);
  unlock();
  return n == groups.size();
}

uint64_t SharedPorts::groups_generation() const { return region_->groups_gen.load(std::memory_order_acquire); }

std::vector<SharedPorts::GroupPeer> SharedPorts::group_peers() const {
  std::vector<GroupPeer> out;
  const uint32_t me = slot();
  lock();
  for (uint32_t m = 0; m < kMaxMembers; ++m) {
    const GroupSet& set = region_->groups[m];
    if (m == me || region_->members[m].pid == 0 || set.inbox == 0 || member_gone(region_->members[m], alive_)) {
      continue;
    }
    for (uint32_t i = 0; i < std::min(set.count, kMaxGroups); ++i) {
      GroupPeer p;
      std::memcpy(p.key.addr.data(), set.rec[i].addr, 16);
      p.key.port = set.rec[i].port;
      p.key.v6 = set.rec[i].v6 != 0;
      p.inbox_port = static_cast<uint16_t>(set.inbox);
      out.push_back(p);
    }
  }
  unlock();
  return out;
}

uint64_t SharedPorts::key() const { return region_->key; }

void SharedPorts::share_inherited(uint16_t port) {
  const std::lock_guard<std::mutex> guard(local_mutex_);
  if (slot_ != kNoSlot) mark_port(port, kMetaInherited, false);
}

void SharedPorts::note_reading(uint16_t port) {
  const std::lock_guard<std::mutex> guard(local_mutex_);
  if (slot_ != kNoSlot) mark_port(port, kMetaReading, true);
}

int SharedPorts::steer(wire::Ipv4Addr addr, uint16_t port, bool on, uint32_t share) {
  const uint32_t be = htonl(addr.value);
  return claim(false, reinterpret_cast<const uint8_t*>(&be), port, on, (share & kShareReusePort) != 0,
               (share & kShareReuseAddr) != 0);
}

int SharedPorts::steer6(const wire::Ipv6Addr& addr, uint16_t port, bool on, uint32_t share) {
  return claim(true, addr.octets.data(), port, on, (share & kShareReusePort) != 0, (share & kShareReuseAddr) != 0);
}

SharedPorts::Owner SharedPorts::decide(bool v6, const uint8_t* dst, uint16_t dst_port, uint32_t flow_hash) const {
  if ((region_->in_use[dst_port / 64].load(std::memory_order_acquire) & (uint64_t{1} << (dst_port % 64))) == 0) {
    return Owner::kNobody;
  }
  Snapshot snap;
  if (!read_entry(region_->ports[dst_port], &snap)) return Owner::kUs;
  const uint32_t me = slot();
  uint32_t want[4] = {};
  std::memcpy(want, dst, v6 ? 16 : 4);
  // As Linux: a record on the datagram's own address outranks one on any
  // address; among the best, the SO_REUSEPORT (or inherited) records share
  // by hash, those of processes that read first.
  int best = -1;
  uint32_t sharers[kMaxSharers];
  bool reads[kMaxSharers] = {};
  uint32_t n_sharers = 0;
  bool ours = false;
  bool all_reuse = true;
  bool all_reuse_addr = true;
  uint32_t last_slot = kNoSlot;  // the slot of the best records' last
  for (uint32_t i = 0; i < snap.count; ++i) {
    if (((snap.meta[i] & kMetaV6) != 0) != v6) continue;
    const bool any = snap.addr[i][0] == 0 && snap.addr[i][1] == 0 && snap.addr[i][2] == 0 && snap.addr[i][3] == 0;
    const bool exact = std::memcmp(snap.addr[i], want, sizeof want) == 0;
    if (!any && !exact) continue;
    const int score = exact && !any ? 1 : 0;
    if (score > best) {
      best = score;
      n_sharers = 0;
      ours = false;
      all_reuse = true;
      all_reuse_addr = true;
    } else if (score < best) {
      continue;
    }
    const uint32_t slot = snap.meta[i] & 0xff;
    // A member that has ended takes nothing, from the moment it ended.
    if (slot != me && slot < kMaxMembers && holder_died(region_->members[slot])) continue;
    ours |= slot == me;
    all_reuse &= (snap.meta[i] & (kMetaReusePort | kMetaInherited)) != 0;
    all_reuse_addr &= (snap.meta[i] & kMetaReuseAddr) != 0;
    last_slot = slot;
    uint32_t k = 0;
    while (k < n_sharers && sharers[k] != slot) ++k;
    if (k == n_sharers) sharers[n_sharers++] = slot;
    reads[k] |= (snap.meta[i] & kMetaReading) != 0;
  }
  if (best < 0) return Owner::kNobody;
  if (!ours) return Owner::kOtherProcess;
  if (n_sharers <= 1) return Owner::kUs;
  if (!all_reuse) {
    // SO_REUSEADDR sharers: the last bound takes unicast (groups reach
    // every process: the stack does not ask for them).
    if (all_reuse_addr) return last_slot == me ? Owner::kUs : Owner::kOtherProcess;
    return Owner::kUs;
  }
  // A sharer that never reads (a pre-forking parent that only supervises)
  // would black-hole its share: once any sharer reads, only readers share.
  uint32_t readers[kMaxSharers];
  uint32_t n_readers = 0;
  for (uint32_t k = 0; k < n_sharers; ++k) {
    if (reads[k]) readers[n_readers++] = sharers[k];
  }
  const uint32_t* pool = n_readers != 0 ? readers : sharers;
  const uint32_t n = n_readers != 0 ? n_readers : n_sharers;
  return pool[spread(flow_hash, n)] == me ? Owner::kUs : Owner::kOtherProcess;
}

SharedPorts::Owner SharedPorts::owner(wire::Ipv4Addr dst, uint16_t dst_port, wire::Ipv4Addr src,
                                      uint16_t src_port) const {
  const uint32_t be = htonl(dst.value);
  return decide(false, reinterpret_cast<const uint8_t*>(&be), dst_port, stack::source_hash(src, src_port));
}

SharedPorts::Owner SharedPorts::owner6(const wire::Ipv6Addr& dst, uint16_t dst_port, const wire::Ipv6Addr& src,
                                       uint16_t src_port) const {
  return decide(true, dst.octets.data(), dst_port, stack::source_hash6(src, src_port));
}

}  // namespace dpdkudp::engine
