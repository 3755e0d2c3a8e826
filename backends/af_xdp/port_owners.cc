// AfXdpBackend, the port owners: which process of the group serves an
// {address, port} (the ports map) or a dedicated address (the addrs map),
// settled across processes under the region's steer lock. A dead process
// owns nothing.
#include "backends/af_xdp/af_xdp_backend.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <type_traits>
#include <vector>

#include "base/process.h"

namespace dpdkudp {

namespace {

uint64_t steer_key(uint32_t addr, uint16_t port) { return (uint64_t{addr} << 16) | port; }

// Moves the owners whose process lives, other than `except`, to the front
// of the list; returns how many (owners->count is left as it was).
uint32_t keep_live_owners(af_xdp::PortOwners* owners, uint32_t except) {
  uint32_t kept = 0;
  for (uint32_t i = 0; i < std::min(owners->count, af_xdp::kMaxSharers); ++i) {
    const af_xdp::Owner o = owners->owner[i];
    if (o.pid != except && af_xdp::pid_alive(o.pid)) {
      owners->owner[kept++] = o;
    }
  }
  return kept;
}

// Every key of a BPF hash map, read before any is changed.
template <typename Key>
std::vector<Key> map_keys(int fd) {
  std::vector<Key> keys;
  Key cur{};
  Key next{};
  for (bool first = true; bpf_map_get_next_key(fd, first ? nullptr : &cur, &next) == 0; first = false) {
    cur = next;
    keys.push_back(cur);
  }
  return keys;
}

}  // namespace

void AfXdpBackend::forget_pid(uint32_t pid) {
  // A member died: its ports and its dedicated addresses are nobody's now
  // (the redirects already pass, as its XSKs left the XSKMAP with it).
  region_->lock_steer();
  for (const af_xdp::PortKey& key : map_keys<af_xdp::PortKey>(ports_fd())) {
    drop_port_owner_locked(ports_fd(), key, pid);
  }
  for (const af_xdp::Port6Key& key : map_keys<af_xdp::Port6Key>(ports6_fd())) {
    drop_port_owner_locked(ports6_fd(), key, pid);
  }
  for (const uint32_t addr : map_keys<uint32_t>(addrs_fd())) {
    drop_addr_owner_locked(addr, pid);
  }
  for (const af_xdp::Addr6Key& addr : map_keys<af_xdp::Addr6Key>(addrs6_fd())) {
    af_xdp::Owner owner{};
    if (bpf_map_lookup_elem(addrs6_fd(), &addr, &owner) == 0 && owner.pid == pid) {
      bpf_map_delete_elem(addrs6_fd(), &addr);
    }
  }
  for (const uint32_t group : map_keys<uint32_t>(groups_fd())) {
    drop_port_owner_locked(groups_fd(), group, pid);
  }
  for (const af_xdp::Addr6Key& group : map_keys<af_xdp::Addr6Key>(groups6_fd())) {
    drop_port_owner_locked(groups6_fd(), group, pid);
  }
  drop_resolving_locked<uint32_t>(resolving_fd(), pid);
  drop_resolving_locked<af_xdp::Addr6Key>(resolving6_fd(), pid);
  region_->unlock_steer();
}

// ---- steering ----

template <typename Key>
int AfXdpBackend::claim_port_locked(int fd, const Key& key, uint32_t share) {
  af_xdp::PortOwners owners{};
  if (bpf_map_lookup_elem(fd, &key, &owners) != 0 || owners.count > af_xdp::kMaxSharers) {
    owners = {};
  }
  // Keep the live owners of other processes (a dead one's port, or one
  // left by an earlier backend of this process, is free).
  const uint32_t live = keep_live_owners(&owners, owner_pid_);
  // A forked child holds its parent's socket (the kernel fd is one port
  // reservation): it may share a port only an ancestor holds when it asks
  // with SO_REUSEPORT, as an adopted socket does, and the port is then
  // shared by the whole family.
  const bool reuse_port = (share & kShareReusePort) != 0;
  const bool from_parent = reuse_port && live == 1 && base::is_ancestor(owners.owner[0].pid);
  // Sharing as Linux allows it: every owner with SO_REUSEPORT, or every
  // owner with SO_REUSEADDR.
  const bool shared = (share & owners.reuseport & (kShareReusePort | kShareReuseAddr)) != 0;
  if (live != 0 && !from_parent && (!shared || live == af_xdp::kMaxSharers)) {
    return EADDRINUSE;  // another process of the group serves it
  }
  owners.owner[live] = {owner_pid_, slot_};
  owners.count = live + 1;
  owners.reuseport = live == 0 ? share : (owners.reuseport & share) | (from_parent ? kShareReusePort : 0u);
  const int r = bpf_map_update_elem(fd, &key, &owners, BPF_ANY);
  if (r != 0) {
    return r == -E2BIG ? ENOSPC : -r;
  }
  return 0;
}

int AfXdpBackend::steer(uint32_t addr, uint16_t port, bool on, uint32_t share) {
  const std::lock_guard<std::mutex> guard(steer_mutex_);
  af_xdp::PortKey key{};
  key.addr = htonl(addr);
  key.port = htons(port);
  const uint64_t local = steer_key(addr, port);
  auto it = steered_.find(local);
  if (on) {
    if (it != steered_.end()) {
      ++it->second;  // another socket of ours on the pair
      return 0;
    }
    region_->lock_steer();
    const int result = claim_port_locked(ports_fd(), key, share);
    region_->unlock_steer();
    if (result == 0) {
      steered_.emplace(local, 1);
    }
    return result;
  }
  if (it == steered_.end()) {
    return ENOENT;
  }
  if (--it->second > 0) {
    return 0;
  }
  steered_.erase(it);
  region_->lock_steer();
  drop_port_owner_locked(ports_fd(), key, owner_pid_);
  region_->unlock_steer();
  return 0;
}

int AfXdpBackend::steer6(const std::array<uint8_t, 16>& addr, uint16_t port, bool on, uint32_t share) {
  const std::lock_guard<std::mutex> guard(steer_mutex_);
  af_xdp::Port6Key key{};
  std::memcpy(key.addr, addr.data(), sizeof key.addr);
  key.port = htons(port);
  const auto local = std::make_pair(addr, port);
  auto it = steered6_.find(local);
  if (on) {
    if (it != steered6_.end()) {
      ++it->second;
      return 0;
    }
    region_->lock_steer();
    const int result = claim_port_locked(ports6_fd(), key, share);
    region_->unlock_steer();
    if (result == 0) {
      steered6_.emplace(local, 1);
    }
    return result;
  }
  if (it == steered6_.end()) {
    return ENOENT;
  }
  if (--it->second > 0) {
    return 0;
  }
  steered6_.erase(it);
  region_->lock_steer();
  drop_port_owner_locked(ports6_fd(), key, owner_pid_);
  region_->unlock_steer();
  return 0;
}

template <typename Key>
void AfXdpBackend::drop_resolving_locked(int fd, uint32_t pid) {
  for (const Key& key : map_keys<Key>(fd)) {
    af_xdp::Owner owner{};
    if (bpf_map_lookup_elem(fd, &key, &owner) == 0 && owner.pid == pid) {
      bpf_map_delete_elem(fd, &key);
    }
  }
}

template void AfXdpBackend::drop_resolving_locked<uint32_t>(int, uint32_t);
template void AfXdpBackend::drop_resolving_locked<af_xdp::Addr6Key>(int, uint32_t);

// ---- multicast ----

template <typename Key>
int AfXdpBackend::claim_group_locked(int fd, const Key& group) {
  af_xdp::PortOwners members{};
  if (bpf_map_lookup_elem(fd, &group, &members) != 0 || members.count > af_xdp::kMaxSharers) {
    members = {};
  }
  const uint32_t live = keep_live_owners(&members, owner_pid_);
  if (live == af_xdp::kMaxSharers) {
    return ENOBUFS;  // as many processes as an entry holds joined it already
  }
  members.owner[live] = {owner_pid_, slot_};
  members.count = live + 1;
  const int r = bpf_map_update_elem(fd, &group, &members, BPF_ANY);
  if (r != 0) {
    return r == -E2BIG ? ENOBUFS : -r;
  }
  return 0;
}

template <typename Key, typename Local>
int AfXdpBackend::steer_group_in(int fd, std::map<Local, uint32_t>& joined, const Local& group, const Local& all,
                                 bool on) {
  auto key = [](const Local& g) -> Key {
    if constexpr (std::is_same_v<Key, uint32_t>) {
      return htonl(g);
    } else {
      return group6_key(g);
    }
  };
  auto it = joined.find(group);
  if (on) {
    if (it != joined.end()) {
      ++it->second;
      return 0;
    }
    region_->lock_steer();
    int result = claim_group_locked(fd, key(group));
    // The first group: the queries to all systems (all nodes) are ours too.
    if (result == 0 && joined.empty()) {
      result = claim_group_locked(fd, key(all));
      if (result != 0) {
        drop_port_owner_locked(fd, key(group), owner_pid_);
      }
    }
    region_->unlock_steer();
    if (result == 0) {
      joined.emplace(group, 1);
    }
    return result;
  }
  if (it == joined.end()) {
    return ENOENT;
  }
  if (--it->second > 0) {
    return 0;
  }
  joined.erase(it);
  region_->lock_steer();
  drop_port_owner_locked(fd, key(group), owner_pid_);
  if (joined.empty()) {
    drop_port_owner_locked(fd, key(all), owner_pid_);
  }
  region_->unlock_steer();
  return 0;
}

int AfXdpBackend::steer_group(uint32_t group, bool on) {
  const std::lock_guard<std::mutex> guard(steer_mutex_);
  return steer_group_in<uint32_t>(groups_fd(), groups_, group, kAllSystemsGroup, on);
}

int AfXdpBackend::steer_group6(const std::array<uint8_t, 16>& group, bool on) {
  const std::lock_guard<std::mutex> guard(steer_mutex_);
  return steer_group_in<af_xdp::Addr6Key>(groups6_fd(), groups6_, group, kAllNodesGroup, on);
}

int AfXdpBackend::set_multicast_mac(const MacAddr& mac, bool on) {
  const int fd = membership_fd_.get();
  if (fd < 0) {
    return -ENOTSUP;
  }
  return multicast_.set({&fd, 1}, info_.ifindex, mac, on);
}

void AfXdpBackend::drop_addr_owner_locked(uint32_t addr, uint32_t pid) {
  af_xdp::Owner owner{};
  if (bpf_map_lookup_elem(addrs_fd(), &addr, &owner) == 0 && owner.pid == pid) {
    bpf_map_delete_elem(addrs_fd(), &addr);
  }
}

template <typename Key>
void AfXdpBackend::drop_port_owner_locked(int fd, const Key& key, uint32_t pid) {
  af_xdp::PortOwners owners{};
  if (bpf_map_lookup_elem(fd, &key, &owners) != 0) {
    return;
  }
  const uint32_t left = keep_live_owners(&owners, pid);
  if (left == owners.count) {
    return;
  }
  if (left == 0) {
    bpf_map_delete_elem(fd, &key);
    return;
  }
  owners.count = left;
  bpf_map_update_elem(fd, &key, &owners, BPF_EXIST);
}

// The close path (af_xdp_backend.cc) drops entries of both maps.
template void AfXdpBackend::drop_port_owner_locked(int, const af_xdp::PortKey&, uint32_t);
template void AfXdpBackend::drop_port_owner_locked(int, const af_xdp::Port6Key&, uint32_t);
template void AfXdpBackend::drop_port_owner_locked(int, const uint32_t&, uint32_t);
template void AfXdpBackend::drop_port_owner_locked(int, const af_xdp::Addr6Key&, uint32_t);

}  // namespace dpdkudp
