#include "engine/stats_shm.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "base/process.h"

namespace dpdkudp::engine::stats {

namespace {

std::string shm_name(pid_t pid) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "/%s%d", kShmPrefix, static_cast<int>(pid));
  return buf;
}

// "/dev/shm/dpdkudp.<pid>: <what>" (snprintf: GCC 12 misreports chains of
// std::string operator+ under -Werror=restrict).
std::string path_error(const std::string& name, const std::string& what) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "%s%s: %s", kShmDir, name.c_str(), what.c_str());
  return buf;
}

}  // namespace

DropClass drop_class(std::string_view reason) {
  struct Entry {
    std::string_view name;
    DropClass cls;
  };
  static constexpr Entry kTable[] = {
      {"eth_truncated", DropClass::kMalformed},
      {"arp_malformed", DropClass::kMalformed},
      {"ip_malformed", DropClass::kMalformed},
      {"udp_malformed", DropClass::kMalformed},
      {"icmp_malformed", DropClass::kMalformed},
      {"ip_martian_source", DropClass::kMalformed},
      {"ip_checksum", DropClass::kChecksum},
      {"udp_checksum", DropClass::kChecksum},
      {"icmp_checksum", DropClass::kChecksum},
      {"eth_not_for_us", DropClass::kNotForUs},
      {"ip_not_ours", DropClass::kNotForUs},
      {"vlan_mismatch", DropClass::kNotForUs},
      {"eth_unsupported", DropClass::kUnsupported},
      {"ip_unknown_protocol", DropClass::kUnsupported},
      {"icmp_unhandled", DropClass::kUnsupported},
      {"ip_fragment", DropClass::kFragment},
      {"udp_no_socket", DropClass::kNoSocket},
      {"socket_buffer_full", DropClass::kSocketBufferFull},
      {"arp_unresolved", DropClass::kArpUnresolved},
      {"tx_no_buffer", DropClass::kTxFailed},
      {"tx_ring_full", DropClass::kTxFailed},
      {"tx_no_route", DropClass::kTxFailed},
      {"ip6_extension_header", DropClass::kMalformed},
      {"ndp_malformed", DropClass::kMalformed},
      {"udp_zero_checksum", DropClass::kChecksum},
      {"ndp_unresolved", DropClass::kArpUnresolved},
      {"tunnel_malformed", DropClass::kMalformed},
      {"tunnel_no_match", DropClass::kNotForUs},
      {"tunnel_unsupported", DropClass::kUnsupported},
      {"udp_other_process", DropClass::kNotForUs},
      {"igmp_malformed", DropClass::kMalformed},
      {"mld_malformed", DropClass::kMalformed},
      {"group_copy_lost", DropClass::kSocketBufferFull},
  };
  for (const Entry& e : kTable) {
    if (e.name == reason) return e.cls;
  }
  return DropClass::kUnclassified;
}

Writer::~Writer() { close(); }

namespace {

// Who owns the object `name`: -1 when there is none (or it cannot be
// looked at). shm_open never follows a symbolic link (glibc opens with
// O_NOFOLLOW), here or anywhere below.
int64_t region_owner(const std::string& name) {
  int fd = shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct stat st {};
  int64_t uid = fstat(fd, &st) == 0 ? static_cast<int64_t>(st.st_uid) : -1;
  ::close(fd);
  return uid;
}

}  // namespace

bool Writer::open(std::string* error) {
  for (pid_t pid : list_regions()) remove_if_stale(pid);
  owner_ = getpid();
  name_ = shm_name(owner_);
  // A region left by an earlier process of ours with this pid (it died
  // without cleaning up) is replaced. One of another user's is not touched:
  // its process may be alive with this pid in another pid namespace.
  if (int64_t uid = region_owner(name_); uid >= 0 && uid != static_cast<int64_t>(geteuid())) {
    *error = path_error(name_, "exists and belongs to uid " + std::to_string(uid) +
                                   " (another user's process of this pid, in another pid namespace?); left alone");
    return false;
  }
  shm_unlink(name_.c_str());
  int fd = shm_open(name_.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = path_error(name_, std::strerror(errno));
    return false;
  }
  if (ftruncate(fd, sizeof(Region)) != 0) {
    *error = path_error(name_, std::string("ftruncate: ") + std::strerror(errno));
    ::close(fd);
    shm_unlink(name_.c_str());
    return false;
  }
  void* p = mmap(nullptr, sizeof(Region), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) {
    *error = path_error(name_, std::string("mmap: ") + std::strerror(errno));
    shm_unlink(name_.c_str());
    return false;
  }
  region_ = static_cast<Region*>(p);
  // ftruncate gave zeroes; the magic goes last, so a reader never accepts
  // a half-made header.
  region_->version = kVersion;
  region_->size = sizeof(Region);
  region_->pid = owner_;
  region_->start_ticks = base::process_start_time(owner_);
  std::atomic_ref<uint64_t>(region_->magic).store(kMagic, std::memory_order_release);
  return true;
}

void Writer::begin_update() {
  std::atomic_ref<uint64_t> seq(region_->seq);
  seq.store(seq.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
}

void Writer::end_update() {
  std::atomic_ref<uint64_t> seq(region_->seq);
  seq.store(seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

void Writer::close() {
  if (region_ == nullptr) return;
  munmap(region_, sizeof(Region));
  region_ = nullptr;
  // A forked child inherits the mapping, not the region: only the process
  // that made it removes it.
  if (getpid() == owner_) shm_unlink(name_.c_str());
}

Snapshot read_region(pid_t pid) {
  Snapshot snap;
  std::string name = shm_name(pid);
  int fd = shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) {
    snap.status = errno == ENOENT ? ReadStatus::kMissing : ReadStatus::kError;
    snap.error = path_error(name, std::strerror(errno));
    return snap;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || static_cast<size_t>(st.st_size) < offsetof(Region, seq) + sizeof(uint64_t)) {
    ::close(fd);
    snap.status = ReadStatus::kBadVersion;
    snap.error = path_error(name, "too small to be a dpdkudp stats region");
    return snap;
  }
  // A live process's region is made as its filesystem uid: one of another
  // user's is not its region (a process of the same pid in another pid
  // namespace that shares /dev/shm, or a forgery).
  if (int64_t uid = base::process_fs_uid(static_cast<uint32_t>(pid));
      uid >= 0 && static_cast<int64_t>(st.st_uid) != uid) {
    ::close(fd);
    snap.status = ReadStatus::kError;
    snap.error = path_error(name, "belongs to uid " + std::to_string(st.st_uid) + " but process " +
                                      std::to_string(pid) + " runs as uid " + std::to_string(uid) +
                                      ": not its region (another pid namespace's process of this pid?)");
    return snap;
  }
  size_t map_len = static_cast<size_t>(st.st_size);
  void* p = mmap(nullptr, map_len, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) {
    snap.status = ReadStatus::kError;
    snap.error = path_error(name, std::string("mmap: ") + std::strerror(errno));
    return snap;
  }
  snap = snapshot_of(p, map_len, name);
  munmap(p, map_len);
  if (snap.status != ReadStatus::kOk) return snap;
  uint64_t ticks = base::process_start_time(pid);
  snap.status = (ticks == 0 || ticks != snap.region->start_ticks) ? ReadStatus::kStale : ReadStatus::kOk;
  if (snap.status == ReadStatus::kStale) snap.error = "the process is gone";
  return snap;
}

namespace {

// Ends a text field within its array, whatever the writer (or a corrupt
// object) left in it.
template <size_t N>
void terminate(char (&field)[N]) {
  field[N - 1] = '\0';
}

}  // namespace

Snapshot snapshot_of(const void* mapped, size_t map_len, const std::string& name) {
  Snapshot snap;
  auto* shared = static_cast<Region*>(const_cast<void*>(mapped));
  if (map_len < offsetof(Region, seq) + sizeof(uint64_t)) {
    snap.status = ReadStatus::kBadVersion;
    snap.error = path_error(name, "too small to be a dpdkudp stats region");
    return snap;
  }
  uint64_t magic = std::atomic_ref<uint64_t>(shared->magic).load(std::memory_order_acquire);
  if (magic == 0) {  // created a moment ago: the header is not written yet
    snap.status = ReadStatus::kBusy;
    snap.error = path_error(name, "being created; try again");
    return snap;
  }
  uint32_t version = magic == kMagic ? shared->version : 0;
  if (magic != kMagic || version != kVersion || map_len < sizeof(Region) || shared->size != sizeof(Region)) {
    snap.status = ReadStatus::kBadVersion;
    snap.error = path_error(name, "written by another version of dpdkudp (region version " + std::to_string(version) +
                                      ", this tool reads " + std::to_string(kVersion) + ")");
    return snap;
  }
  auto copy = std::make_unique<Region>();
  bool consistent = false;
  for (int attempt = 0; attempt < 1000 && !consistent; ++attempt) {
    std::atomic_ref<uint64_t> seq(shared->seq);
    uint64_t before = seq.load(std::memory_order_acquire);
    if (before & 1) {
      std::this_thread::yield();
      continue;
    }
    std::memcpy(static_cast<void*>(copy.get()), shared, sizeof(Region));
    std::atomic_thread_fence(std::memory_order_acquire);
    consistent = seq.load(std::memory_order_relaxed) == before;
  }
  if (!consistent) {
    snap.status = ReadStatus::kBusy;
    snap.error = path_error(name, "the writer never paused long enough to take a consistent copy");
    return snap;
  }
  Region& r = *copy;
  terminate(r.comm);
  terminate(r.backend);
  terminate(r.mode);
  terminate(r.iface);
  terminate(r.address);
  terminate(r.address6);
  terminate(r.description);
  for (auto& n : r.drop_names) terminate(n);
  for (TunnelSlot& t : r.tunnels) terminate(t.describe);
  snap.status = ReadStatus::kOk;
  snap.region = std::move(copy);
  return snap;
}

std::vector<pid_t> list_regions() {
  std::vector<pid_t> out;
  DIR* d = opendir(kShmDir);
  if (d == nullptr) return out;
  const size_t prefix = std::strlen(kShmPrefix);
  while (dirent* e = readdir(d)) {
    if (std::strncmp(e->d_name, kShmPrefix, prefix) != 0) continue;
    char* end = nullptr;
    long v = std::strtol(e->d_name + prefix, &end, 10);
    if (end == e->d_name + prefix || *end != '\0' || v <= 0) continue;
    out.push_back(static_cast<pid_t>(v));
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

bool remove_if_stale(pid_t pid) {
  std::string name = shm_name(pid);
  int fd = shm_open(name.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return false;
  uint64_t recorded = 0;
  struct stat st {};
  // Only our own user's: another user's process may be alive with this pid
  // in another pid namespace (and root could unlink it).
  if (fstat(fd, &st) != 0 || st.st_uid != geteuid()) {
    ::close(fd);
    return false;
  }
  if (static_cast<size_t>(st.st_size) >= sizeof(Region)) {
    void* p = mmap(nullptr, sizeof(Region), PROT_READ, MAP_SHARED, fd, 0);
    if (p != MAP_FAILED) {
      recorded = static_cast<Region*>(p)->start_ticks;
      munmap(p, sizeof(Region));
    }
  }
  ::close(fd);
  uint64_t now = base::process_start_time(pid);
  // Alive and the same process: keep. A region too new to have its start
  // time yet (recorded 0) belongs to a live process if the pid exists.
  if (now != 0 && (recorded == 0 || recorded == now)) return false;
  return shm_unlink(name.c_str()) == 0;
}

}  // namespace dpdkudp::engine::stats
