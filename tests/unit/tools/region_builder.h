// Stats regions built in memory for the tests of dpdkudp-stat's printers,
// and the capture of what a printer writes to a FILE*.
#pragma once

#include <arpa/inet.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>

#include "engine/stats_shm.h"

namespace dpdkudp::tools::test_regions {

namespace st = engine::stats;

template <size_t N>
void set_text(char (&dst)[N], const char* s) {
  std::snprintf(dst, N, "%s", s);
}

// A live process's region as an af_packet engine on veth0 publishes it.
inline std::unique_ptr<st::Region> make_region(int pid, const char* comm) {
  auto r = std::make_unique<st::Region>();  // zeroed
  r->magic = st::kMagic;
  r->version = st::kVersion;
  r->size = sizeof(st::Region);
  r->pid = pid;
  r->mtu = 1500;
  r->queues = 1;
  set_text(r->comm, comm);
  set_text(r->backend, "af_packet");
  set_text(r->mode, "dedicated");
  set_text(r->iface, "veth0");
  set_text(r->address, "198.18.0.2/24");
  r->started_unix_ns = 1'700'000'000'000'000'000ull;
  r->updated_unix_ns = r->started_unix_ns + 5'000'000'000ull;
  r->updated_mono_ns = 10'000'000'000ull;
  return r;
}

// A socket bound to local:port (IPv4, host byte order address), with the
// application's fd and no reader yet.
inline st::SocketSlot& add_socket(st::Region& r, uint64_t id, const char* local, uint16_t port, int32_t fd) {
  st::SocketSlot& s = r.sockets[r.sockets_shown++];
  ++r.socket_count;
  s = st::SocketSlot{};
  s.id = id;
  in_addr a{};
  inet_pton(AF_INET, local, &a);
  s.local_addr = ntohl(a.s_addr);
  s.local_port = port;
  s.fd = fd;
  s.rcvbuf = 212992;
  return s;
}

// An IPv6 socket from local6 to remote6.
inline st::SocketSlot& add_socket6(st::Region& r, uint64_t id, const char* local6, uint16_t port, const char* remote6,
                                   uint16_t remote_port, int32_t fd) {
  st::SocketSlot& s = r.sockets[r.sockets_shown++];
  ++r.socket_count;
  s = st::SocketSlot{};
  s.id = id;
  s.ipv6 = 1;
  s.local_v6 = 1;
  inet_pton(AF_INET6, local6, s.local6);
  s.local_port = port;
  s.remote_v6 = 1;
  inet_pton(AF_INET6, remote6, s.remote6);
  s.remote_port = remote_port;
  s.fd = fd;
  return s;
}

inline void add_drop_reason(st::Region& r, const char* name, uint64_t count) {
  set_text(r.drop_names[r.drop_reason_count], name);
  r.totals.drops[r.drop_reason_count] = count;
  ++r.drop_reason_count;
}

// What print(f) writes.
inline std::string captured(const std::function<void(std::FILE*)>& print) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* f = open_memstream(&buf, &len);
  if (f == nullptr) return "";
  print(f);
  std::fclose(f);
  std::string out(buf, len);
  std::free(buf);
  return out;
}

}  // namespace dpdkudp::tools::test_regions
