// Our XDP program on one interface: load (from the object embedded at build
// time), clear what a dead owner left behind, attach, pin the maps, and
// undo all of it in the destructor.
//
// Attach ways (AfXdpConfig::attach):
//  - bpf_link (default): the kernel detaches the program when the last fd
//    of the link closes, i.e. when the process exits however it exits.
//    A link also keeps anyone else from replacing the program.
//  - libxdp (xdp_program__attach): the multi-program dispatcher where the
//    kernel lets libxdp load it (freplace), else one netlink-attached
//    program ("legacy"). Used when asked, and automatically when a libxdp
//    dispatcher already runs on the interface. Outlives a SIGKILL; the next
//    open removes our stale program (found by name, its owner being gone
//    since the caller holds the interface lock).
//
// Only the founder of an interface's AF_XDP group (group.h) constructs one:
// everything named xdp_udp_steer on the interface is then stale and gets
// removed, unless a bpf_link still holds it (a group whose hub is being
// taken over: attach() says so with *held_by_link).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "backends/af_xdp/af_xdp.h"
#include "backends/af_xdp/af_xdp_util.h"

struct bpf_object;
struct xdp_program;

namespace dpdkudp::af_xdp {

inline constexpr const char* kProgramName = "xdp_udp_steer";
inline constexpr uint32_t kMaxQueues = 64;  // DPDKUDP_MAX_QUEUES in the program

// Layouts shared with xdp_udp_steer.bpf.c.
struct PortKey {
  uint32_t addr;  // network order, 0 = any
  uint16_t port;  // network order
  uint16_t pad;
};
struct Port6Key {
  uint8_t addr[16];  // all zero = any
  uint16_t port;     // network order
  uint16_t pad;
};
struct Addr6Key {
  uint8_t addr[16];
};
struct Owner {
  uint32_t pid;
  uint32_t slot;  // member slot: its XSKs are at xsks[slot * kMaxQueues + queue]
};
inline constexpr uint32_t kMaxSharers = 8;  // DPDKUDP_MAX_SHARERS
struct PortOwners {
  uint32_t count;      // 1..kMaxSharers
  uint32_t reuseport;  // PortShare flags every owner has: SO_REUSEPORT (1), SO_REUSEADDR (2)
  Owner owner[kMaxSharers];
};

class XdpProgram {
 public:
  enum class Way : uint8_t { kLink, kLibxdpDispatcher, kLibxdpLegacy };

  static std::unique_ptr<XdpProgram> attach(const std::string& iface, int ifindex, XdpMode mode, XdpAttach attach,
                                            const ErrorSink& err, const LibLogCapture& log, bool* held_by_link);
  ~XdpProgram();
  XdpProgram(const XdpProgram&) = delete;
  XdpProgram& operator=(const XdpProgram&) = delete;

  bool native() const { return native_; }
  Way way() const { return way_; }
  int ports_fd() const { return ports_fd_; }
  int xsks_fd() const { return xsks_fd_; }
  int addrs_fd() const { return addrs_fd_; }
  int ports6_fd() const { return ports6_fd_; }
  int addrs6_fd() const { return addrs6_fd_; }
  int groups_fd() const { return groups_fd_; }
  int groups6_fd() const { return groups6_fd_; }
  int resolving_fd() const { return resolving_fd_; }
  int resolving6_fd() const { return resolving6_fd_; }
  int link_fd() const { return link_fd_; }

  // Pins the maps in dir (created; stale pins there replaced).
  // Best effort: returns false and leaves them unpinned on failure.
  bool pin_maps(const std::string& dir);
  const std::string& pin_dir() const { return pin_dir_; }

  // When the process forked and a child destroys its copy, or other
  // members of the group still run on it, nothing may be detached or
  // unpinned (a bpf_link's fd is still closed: the others hold theirs).
  void disown() { owner_pid_ = 0; }
  // In a fork child: the link fd was closed right after fork (see
  // close_in_fork_children); forget its number.
  void abandon_in_child() {
    owner_pid_ = 0;
    link_fd_ = -1;
  }

 private:
  XdpProgram(std::string iface, int ifindex) : iface_(std::move(iface)), ifindex_(ifindex) {}
  bool attach_with_link(XdpMode mode, const ErrorSink& err, const LibLogCapture& log);
  bool attach_with_libxdp(XdpMode mode, bool dispatcher_present, const ErrorSink& err, const LibLogCapture& log);
  bool open_object(const ErrorSink& err, const LibLogCapture& log);
  bool find_maps(const ErrorSink& err);
  void close_object();
  void detach_libxdp();

  std::string iface_;
  int ifindex_;
  uint32_t owner_pid_ = 0;
  bpf_object* obj_ = nullptr;
  xdp_program* xdp_prog_ = nullptr;  // libxdp ways only
  int link_fd_ = -1;                 // bpf_link way only
  bool native_ = false;
  Way way_ = Way::kLink;
  int ports_fd_ = -1;
  int xsks_fd_ = -1;
  int addrs_fd_ = -1;
  int ports6_fd_ = -1;
  int addrs6_fd_ = -1;
  int groups_fd_ = -1;
  int groups6_fd_ = -1;
  int resolving_fd_ = -1;
  int resolving6_fd_ = -1;
  std::string pin_dir_;
  // libxdp ways: the network namespace we attached in (for the detach).
  UniqueFd netns_;
  uint64_t netns_inode_ = 0;
};

// Where the maps of iface are pinned: /sys/fs/bpf/dpdkudp/<iface> in pid
// 1's network namespace, /sys/fs/bpf/dpdkudp/netns-<inode>/<iface> in any
// other (interface names repeat across namespaces).
std::string pin_dir_for(const std::string& iface);

// Removes the pins pin_maps() made in dir, and the directories left empty.
void unpin_maps(const std::string& dir);

// Mounts bpffs at /sys/fs/bpf unless one is there. True when one is.
bool ensure_bpffs();

}  // namespace dpdkudp::af_xdp
