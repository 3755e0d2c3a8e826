#include "backends/af_xdp/xdp_program.h"

#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "backends/af_xdp/xdp_udp_steer_obj.h"

namespace dpdkudp::af_xdp {
namespace {

constexpr const char* kBpffs = "/sys/fs/bpf";
constexpr const char* kDispatcherName = "xdp_dispatcher";
constexpr const char* kPortsMap = "dpdkudp_ports";
constexpr const char* kXsksMap = "dpdkudp_xsks";
constexpr const char* kAddrsMap = "dpdkudp_addrs";
constexpr const char* kPorts6Map = "dpdkudp_ports6";
constexpr const char* kAddrs6Map = "dpdkudp_addrs6";
constexpr const char* kGroupsMap = "dpdkudp_groups";
constexpr const char* kGroups6Map = "dpdkudp_groups6";
constexpr const char* kResolvingMap = "dpdkudp_resolving";
constexpr const char* kResolving6Map = "dpdkudp_resolving6";
constexpr const char* kPinNames[] = {"ports",  "xsks",    "addrs",     "ports6",    "addrs6",
                                     "groups", "groups6", "resolving", "resolving6"};

struct AttachedProgram {
  uint32_t id = 0;
  uint32_t flags = 0;  // XDP_FLAGS_DRV_MODE / _SKB_MODE / _HW_MODE
  std::string name;
};

const char* mode_word(uint32_t flags) {
  switch (flags) {
    case XDP_FLAGS_DRV_MODE: return "native";
    case XDP_FLAGS_SKB_MODE: return "generic";
    case XDP_FLAGS_HW_MODE: return "offloaded";
    default: return "unknown";
  }
}

std::string program_name(uint32_t id) {
  const int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) {
    return {};
  }
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  std::string name;
  if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
    name.assign(info.name, strnlen(info.name, sizeof(info.name)));
  }
  ::close(fd);
  return name;
}

// The programs attached to ifindex, one per mode. False on a query error.
bool attached_programs(int ifindex, std::vector<AttachedProgram>* out, int* error) {
  bpf_xdp_query_opts query{};
  query.sz = sizeof(query);
  const int r = bpf_xdp_query(ifindex, 0, &query);
  if (r != 0) {
    *error = r;
    return false;
  }
  const std::pair<uint32_t, uint32_t> ids[] = {{query.drv_prog_id, XDP_FLAGS_DRV_MODE},
                                               {query.skb_prog_id, XDP_FLAGS_SKB_MODE},
                                               {query.hw_prog_id, XDP_FLAGS_HW_MODE}};
  for (const auto& [id, flags] : ids) {
    if (id != 0) {
      out->push_back({id, flags, program_name(id)});
    }
  }
  return true;
}

// Detaches a stale xdp_udp_steer attached by netlink (libxdp legacy).
bool detach_stale_single(int ifindex, const AttachedProgram& prog, const ErrorSink& err, bool* held_by_link) {
  const int fd = bpf_prog_get_fd_by_id(prog.id);
  if (fd < 0) {
    return true;  // gone meanwhile
  }
  bpf_xdp_attach_opts opts{};
  opts.sz = sizeof(opts);
  opts.old_prog_fd = fd;
  const int r = bpf_xdp_detach(ifindex, prog.flags, &opts);
  ::close(fd);
  if (r == 0 || r == -ENOENT) {
    return true;
  }
  if (r == -EBUSY) {
    *held_by_link = true;
    return err.fail("a dpdkudp XDP program (id " + std::to_string(prog.id) +
                    ") is attached through a bpf_link another process still holds (a child "
                    "forked by a previous owner?)");
  }
  return err.fail_errno("detaching the stale dpdkudp XDP program (id " + std::to_string(prog.id) + ")", r);
}

// Removes our stale program from a libxdp dispatcher. *remaining gets the
// number of other programs still in it; false on error.
bool detach_stale_in_dispatcher(int ifindex, const ErrorSink& err, const LibLogCapture& log, int* remaining,
                                xdp_attach_mode* mode) {
  xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
  if (libxdp_get_error(mp) != 0 || mp == nullptr) {
    return err.fail(
        "a libxdp dispatcher is attached but its programs cannot be read (pinned in "
        "another bpffs?)" +
        log.detail());
  }
  *mode = xdp_multiprog__attach_mode(mp);
  *remaining = 0;
  std::vector<xdp_program*> stale;
  for (xdp_program* p = xdp_multiprog__next_prog(nullptr, mp); p != nullptr; p = xdp_multiprog__next_prog(p, mp)) {
    if (std::strcmp(xdp_program__name(p), kProgramName) == 0) {
      stale.push_back(p);
    } else {
      ++*remaining;
    }
  }
  bool ok = true;
  for (xdp_program* p : stale) {
    const int r = xdp_program__detach(p, ifindex, *mode, 0);
    if (r != 0) {
      ok = err.fail_errno("removing the stale dpdkudp program from the libxdp dispatcher", r);
      break;
    }
  }
  xdp_multiprog__close(mp);
  return ok;
}

bool make_dirs(const std::string& path) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos == path.size() || path[pos] == '/') {
      const std::string part = path.substr(0, pos);
      if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

bool ensure_bpffs() {
  struct statfs fs {};
  if (::statfs(kBpffs, &fs) == 0 && static_cast<unsigned long>(fs.f_type) == BPF_FS_MAGIC) {
    return true;
  }
  if (::mount("bpf", kBpffs, "bpf", 0, "mode=0700") != 0) {
    return false;
  }
  return ::statfs(kBpffs, &fs) == 0 && static_cast<unsigned long>(fs.f_type) == BPF_FS_MAGIC;
}

std::string pin_dir_for(const std::string& iface) {
  std::string dir = std::string(kBpffs) + "/dpdkudp/";
  if (!in_pid1_netns()) {
    dir += "netns-" + std::to_string(netns_inode()) + "/";
  }
  return dir + iface;
}

std::unique_ptr<XdpProgram> XdpProgram::attach(const std::string& iface, int ifindex, XdpMode mode, XdpAttach attach,
                                               const ErrorSink& err, const LibLogCapture& log, bool* held_by_link) {
  *held_by_link = false;
  std::unique_ptr<XdpProgram> prog(new XdpProgram(iface, ifindex));
  prog->owner_pid_ = static_cast<uint32_t>(::getpid());

  // What is on the interface now? Ours is stale (the caller holds the
  // interface lock); anything else is foreign, except a libxdp dispatcher,
  // which we can join.
  std::vector<AttachedProgram> present;
  int query_error = 0;
  if (!attached_programs(ifindex, &present, &query_error)) {
    err.fail_errno("querying attached XDP programs", query_error);
    return nullptr;
  }
  bool dispatcher = false;
  for (const AttachedProgram& p : present) {
    if (p.name == kProgramName) {
      if (!detach_stale_single(ifindex, p, err, held_by_link)) {
        return nullptr;
      }
    } else if (p.name == kDispatcherName && p.flags != XDP_FLAGS_HW_MODE) {
      int remaining = 0;
      xdp_attach_mode dispatcher_mode = XDP_MODE_UNSPEC;
      if (!detach_stale_in_dispatcher(ifindex, err, log, &remaining, &dispatcher_mode)) {
        return nullptr;
      }
      dispatcher = remaining > 0;
      if (dispatcher) {
        const bool native = dispatcher_mode == XDP_MODE_NATIVE;
        if ((mode == XdpMode::kNative && !native) || (mode == XdpMode::kGeneric && native)) {
          err.fail(std::string("a libxdp dispatcher runs in ") + (native ? "native" : "generic") +
                   " mode; DPDKUDP_XDP_MODE=" + std::string(to_string(mode)) + " cannot join it");
          return nullptr;
        }
        mode = native ? XdpMode::kNative : XdpMode::kGeneric;
      }
    } else {
      err.fail("a foreign XDP program \"" + p.name + "\" (id " + std::to_string(p.id) + ", " + mode_word(p.flags) +
               " mode) is attached; remove it (ip link set dev " + iface + " xdp off) or use another backend");
      return nullptr;
    }
  }

  const bool ok = (dispatcher || attach == XdpAttach::kLibxdp) ? prog->attach_with_libxdp(mode, dispatcher, err, log)
                                                               : prog->attach_with_link(mode, err, log);
  if (!ok) {
    return nullptr;  // the destructor undoes whatever part was done
  }
  return prog;
}

bool XdpProgram::open_object(const ErrorSink& err, const LibLogCapture& log) {
  close_object();
  bpf_object_open_opts opts{};
  opts.sz = sizeof(opts);
  opts.object_name = "dpdkudp_xdp";
  obj_ = bpf_object__open_mem(kXdpUdpSteerObject, kXdpUdpSteerObjectSize, &opts);
  if (libbpf_get_error(obj_) != 0 || obj_ == nullptr) {
    const int e = errno;
    obj_ = nullptr;
    return err.fail_errno("opening the embedded XDP object" + log.detail(), e);
  }
  return true;
}

void XdpProgram::close_object() {
  if (xdp_prog_ != nullptr) {
    xdp_program__close(xdp_prog_);
    xdp_prog_ = nullptr;
  }
  if (obj_ != nullptr) {
    bpf_object__close(obj_);
    obj_ = nullptr;
  }
  ports_fd_ = xsks_fd_ = addrs_fd_ = ports6_fd_ = addrs6_fd_ = groups_fd_ = groups6_fd_ = resolving_fd_ =
      resolving6_fd_ = -1;
}

bool XdpProgram::find_maps(const ErrorSink& err) {
  ports_fd_ = bpf_object__find_map_fd_by_name(obj_, kPortsMap);
  xsks_fd_ = bpf_object__find_map_fd_by_name(obj_, kXsksMap);
  addrs_fd_ = bpf_object__find_map_fd_by_name(obj_, kAddrsMap);
  ports6_fd_ = bpf_object__find_map_fd_by_name(obj_, kPorts6Map);
  addrs6_fd_ = bpf_object__find_map_fd_by_name(obj_, kAddrs6Map);
  groups_fd_ = bpf_object__find_map_fd_by_name(obj_, kGroupsMap);
  groups6_fd_ = bpf_object__find_map_fd_by_name(obj_, kGroups6Map);
  resolving_fd_ = bpf_object__find_map_fd_by_name(obj_, kResolvingMap);
  resolving6_fd_ = bpf_object__find_map_fd_by_name(obj_, kResolving6Map);
  if (ports_fd_ < 0 || xsks_fd_ < 0 || addrs_fd_ < 0 || ports6_fd_ < 0 || addrs6_fd_ < 0 || groups_fd_ < 0 ||
      groups6_fd_ < 0 || resolving_fd_ < 0 || resolving6_fd_ < 0) {
    return err.fail("the XDP object lacks its maps");
  }
  return true;
}

namespace {

std::string load_failure(int e) {
  if (e == EPERM || e == EACCES) {
    return "permission denied loading the XDP program (needs CAP_BPF and CAP_NET_ADMIN, or root)";
  }
  return std::string("loading the XDP program: ") + std::strerror(e);
}

}  // namespace

bool XdpProgram::attach_with_link(XdpMode mode, const ErrorSink& err, const LibLogCapture& log) {
  if (!open_object(err, log)) {
    return false;
  }
  const int r = bpf_object__load(obj_);
  if (r != 0) {
    return err.fail(load_failure(-r) + log.detail());
  }
  bpf_program* bpf_prog = bpf_object__find_program_by_name(obj_, kProgramName);
  if (bpf_prog == nullptr) {
    return err.fail("the XDP object lacks its program");
  }
  if (!find_maps(err)) {
    return false;
  }
  std::string why;
  for (const bool native : {true, false}) {
    if ((native && mode == XdpMode::kGeneric) || (!native && mode == XdpMode::kNative)) {
      continue;
    }
    bpf_link_create_opts opts{};
    opts.sz = sizeof(opts);
    opts.flags = native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
    const int fd = bpf_link_create(bpf_program__fd(bpf_prog), ifindex_, BPF_XDP, &opts);
    if (fd >= 0) {
      link_fd_ = fd;
      close_in_fork_children(fd);
      native_ = native;
      way_ = Way::kLink;
      return true;
    }
    const int e = errno;
    if (e == EBUSY || e == EEXIST) {
      return err.fail("another XDP program was attached meanwhile");
    }
    if (e == EPERM || e == EACCES) {
      return err.fail("permission denied attaching XDP (needs CAP_NET_ADMIN)");
    }
    if (!why.empty()) {
      why += "; ";
    }
    why += std::string(native ? "native" : "generic") + " mode: " + std::strerror(e);
    if (native && e == EOPNOTSUPP) {
      why += " (the driver has no native XDP)";
    }
  }
  return err.fail("cannot attach the XDP program: " + why + log.detail());
}

bool XdpProgram::attach_with_libxdp(XdpMode mode, bool dispatcher_present, const ErrorSink& err,
                                    const LibLogCapture& log) {
  ensure_bpffs();  // libxdp keeps its dispatcher state there
  netns_ = UniqueFd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  netns_inode_ = netns_inode();
  std::string why;
  for (const bool native : {true, false}) {
    if ((native && mode == XdpMode::kGeneric) || (!native && mode == XdpMode::kNative)) {
      continue;
    }
    // A fresh object per try: a failed attach may leave it half loaded.
    if (!open_object(err, log)) {
      return false;
    }
    xdp_prog_ = xdp_program__from_bpf_obj(obj_, "xdp");
    if (libxdp_get_error(xdp_prog_) != 0 || xdp_prog_ == nullptr) {
      xdp_prog_ = nullptr;
      return err.fail("libxdp cannot use the XDP object" + log.detail());
    }
    const int r = xdp_program__attach(xdp_prog_, ifindex_, native ? XDP_MODE_NATIVE : XDP_MODE_SKB, 0);
    if (r == 0) {
      native_ = native;
      xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex_);
      const bool legacy = libxdp_get_error(mp) == 0 && mp != nullptr && xdp_multiprog__is_legacy(mp);
      if (libxdp_get_error(mp) == 0 && mp != nullptr) {
        xdp_multiprog__close(mp);
      }
      way_ = legacy ? Way::kLibxdpLegacy : Way::kLibxdpDispatcher;
      return find_maps(err);
    }
    if (r == -EPERM || r == -EACCES) {
      return err.fail(load_failure(-r) + log.detail());
    }
    if (!why.empty()) {
      why += "; ";
    }
    why += std::string(native ? "native" : "generic") + " mode: " + std::strerror(-r) + log.detail();
    close_object();
  }
  return err.fail(std::string("cannot attach the XDP program through libxdp") +
                  (dispatcher_present ? " (joining its dispatcher)" : "") + ": " + why);
}

bool XdpProgram::pin_maps(const std::string& dir) {
  if (!ensure_bpffs() || !make_dirs(dir)) {
    return false;
  }
  const int fds[] = {ports_fd_,  xsks_fd_,    addrs_fd_,     ports6_fd_,    addrs6_fd_,
                     groups_fd_, groups6_fd_, resolving_fd_, resolving6_fd_};
  static_assert(std::size(fds) == std::size(kPinNames));
  for (size_t i = 0; i < std::size(fds); ++i) {
    const std::string path = dir + "/" + kPinNames[i];
    ::unlink(path.c_str());  // a dead owner's
    if (bpf_obj_pin(fds[i], path.c_str()) != 0) {
      unpin_maps(dir);
      return false;
    }
  }
  pin_dir_ = dir;
  return true;
}

void unpin_maps(const std::string& pin_dir) {
  if (pin_dir.empty()) {
    return;
  }
  for (const char* name : kPinNames) {
    ::unlink((pin_dir + "/" + name).c_str());
  }
  // The interface's directory, then its namespace's and ours when empty.
  std::string dir = pin_dir;
  const std::string top = std::string(kBpffs) + "/dpdkudp";
  while (dir.size() >= top.size() && ::rmdir(dir.c_str()) == 0) {
    dir.erase(dir.rfind('/'));
  }
}

void XdpProgram::detach_libxdp() {
  auto detach = [this] { xdp_program__detach(xdp_prog_, ifindex_, native_ ? XDP_MODE_NATIVE : XDP_MODE_SKB, 0); };
  // libxdp detaches over netlink, which speaks to the calling thread's
  // network namespace: go back to the one we attached in when this thread
  // is elsewhere (a thread of a test harness, say), on a helper thread so
  // the caller's stays as it is.
  if (!netns_.valid() || netns_inode() == netns_inode_) {
    detach();
    return;
  }
  std::thread helper([&] {
    if (::setns(netns_.get(), CLONE_NEWNET) == 0) {
      detach();
    }
  });
  helper.join();
}

XdpProgram::~XdpProgram() {
  const bool owner = owner_pid_ == static_cast<uint32_t>(::getpid());
  if (owner) {
    unpin_maps(pin_dir_);
    if (xdp_prog_ != nullptr && (way_ != Way::kLink)) {
      detach_libxdp();
    }
  }
  if (link_fd_ >= 0) {
    keep_in_fork_children(link_fd_);
    ::close(link_fd_);  // the last fd of the link: the kernel detaches
  }
  close_object();
}

}  // namespace dpdkudp::af_xdp
