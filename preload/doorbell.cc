#include "preload/doorbell.h"

#include <arpa/inet.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/random.h"

namespace dpdkudp::preload {

bool parse_doorbell(const sockaddr_in& from, const void* data, ssize_t n, uint64_t key, DoorbellMsg* out) {
  if (from.sin_family != AF_INET || from.sin_addr.s_addr != htonl(INADDR_LOOPBACK) ||
      n != static_cast<ssize_t>(sizeof(DoorbellMsg))) {
    return false;
  }
  std::memcpy(out, data, sizeof *out);
  return out->magic == kDoorbellMagic && out->key == key;
}

bool parse_doorbell(const sockaddr_storage& from, const void* data, ssize_t n, uint64_t key, DoorbellMsg* out) {
  if (!from_loopback_sender(from) || n != static_cast<ssize_t>(sizeof(DoorbellMsg))) return false;
  std::memcpy(out, data, sizeof *out);
  return out->magic == kDoorbellMagic && out->key == key;
}

bool from_loopback_sender(const sockaddr_storage& from) {
  if (from.ss_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in&>(from).sin_addr.s_addr == htonl(INADDR_LOOPBACK);
  }
  if (from.ss_family != AF_INET6) return false;
  const in6_addr& a = reinterpret_cast<const sockaddr_in6&>(from).sin6_addr;
  if (IN6_IS_ADDR_LOOPBACK(&a)) return true;
  return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127 && a.s6_addr[13] == 0 && a.s6_addr[14] == 0 &&
         a.s6_addr[15] == 1;
}

HandoffHeader make_handoff(const stack::RecvInfo& info, uint32_t payload_len, uint64_t key) {
  HandoffHeader h{};
  h.magic = kHandoffMagic;
  h.version = kHandoffVersion;
  h.v6 = info.source.v6 ? 1 : 0;
  h.tos = info.tos;
  h.ttl = info.ttl;
  h.src_port = info.source.port;
  h.scope_id = info.source.scope_id;
  h.payload_len = payload_len;
  h.timestamp_ns = info.timestamp_ns;
  h.key = key;
  if (info.source.v6) {
    std::memcpy(h.src, info.source.addr6.octets.data(), 16);
    std::memcpy(h.dst, info.destination6.octets.data(), 16);
  } else {
    const uint32_t src = htonl(info.source.addr.value);
    const uint32_t dst = htonl(info.destination.value);
    std::memcpy(h.src, &src, 4);
    std::memcpy(h.dst, &dst, 4);
  }
  return h;
}

bool parse_handoff(const sockaddr_storage& from, const void* data, size_t n, uint64_t key, stack::RecvInfo* info,
                   const uint8_t** payload) {
  HandoffHeader h;
  if (n < sizeof h || !from_loopback_sender(from)) return false;
  std::memcpy(&h, data, sizeof h);
  if (h.magic != kHandoffMagic || h.key != key || h.version != kHandoffVersion || h.v6 > 1 ||
      (h.v6 == 0 && h.scope_id != 0) || h.payload_len != n - sizeof h) {
    return false;
  }
  *info = stack::RecvInfo{};
  info->source.port = h.src_port;
  if (h.v6 != 0) {
    info->source.v6 = true;
    info->source.scope_id = h.scope_id;
    std::memcpy(info->source.addr6.octets.data(), h.src, 16);
    std::memcpy(info->destination6.octets.data(), h.dst, 16);
  } else {
    uint32_t src = 0;
    uint32_t dst = 0;
    std::memcpy(&src, h.src, 4);
    std::memcpy(&dst, h.dst, 4);
    info->source.addr = stack::Ipv4Addr(ntohl(src));
    info->destination = stack::Ipv4Addr(ntohl(dst));
  }
  info->timestamp_ns = h.timestamp_ns;
  info->datagram_len = h.payload_len;
  info->tos = h.tos;
  info->ttl = h.ttl;
  *payload = static_cast<const uint8_t*>(data) + sizeof h;
  return true;
}

namespace {

// The key in an open file, if the file is fit to hold it.
bool read_key(int fd, uint64_t* key, std::string* note) {
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    *note = std::string("fstat: ") + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
    *note = "not a regular file of this user with mode 0600";
  } else if (st.st_size != static_cast<off_t>(sizeof *key) || pread(fd, key, sizeof *key, 0) != sizeof *key) {
    *note = "not 8 bytes long";
  } else {
    return true;
  }
  return false;
}

}  // namespace

uint64_t load_doorbell_key(const char* dir, std::string* note) {
  note->clear();
  const std::string path = std::string(dir) + "/dpdkudp-doorbell-" + std::to_string(geteuid());
  for (int attempt = 0; attempt < 3; ++attempt) {
    int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      uint64_t key = 0;
      bool ok = read_key(fd, &key, note);
      close(fd);
      if (ok) return key;
      *note = path + ": " + *note;
      return base::random_key();
    }
    if (errno != ENOENT) {
      *note = path + ": " + std::strerror(errno);
      return base::random_key();
    }
    // Made whole under a name of our own, then linked into place: a reader
    // never sees a short file, and of two processes making it at once one
    // wins and the other reads the winner's key.
    const uint64_t key = base::random_key();
    const std::string tmp = path + "." + std::to_string(getpid());
    int t = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (t < 0) {
      *note = tmp + ": " + std::strerror(errno);
      return key;
    }
    bool written = write(t, &key, sizeof key) == sizeof key;
    close(t);
    int linked = written ? link(tmp.c_str(), path.c_str()) : -1;
    int link_errno = errno;
    unlink(tmp.c_str());
    if (linked == 0) return key;
    if (!written || link_errno != EEXIST) {
      *note = path + ": " + (written ? std::strerror(link_errno) : "short write");
      return key;
    }
  }
  *note = path + ": keeps changing";
  return base::random_key();
}

uint64_t doorbell_key(std::string* note) {
  static std::string first_note;
  static const uint64_t key = load_doorbell_key("/dev/shm", &first_note);
  if (note != nullptr) *note = first_note;
  return key;
}

}  // namespace dpdkudp::preload
