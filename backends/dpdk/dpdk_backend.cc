#include "backends/dpdk/dpdk_backend.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <thread>
#include <vector>

#include "backends/common/soft_offloads.h"
#include "backends/dpdk/eal.h"
#include "base/error_sink.h"

namespace dpdkudp {

namespace {

constexpr uint32_t kMinMtu = 68;    // RFC 791
constexpr uint32_t kMaxMtu = 9000;  // jumbo frames
constexpr uint32_t kMaxFrameOverMtu = RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN;
static_assert(RTE_PKTMBUF_HEADROOM >= kMinTxHeadroom, "the stack inserts 802.1Q tags into the headroom");
constexpr uint32_t kTxChecksumFlags = kTxIpv4Csum | kTxUdpCsum;
constexpr uint16_t kMaxL2Len = 0x7f;   // rte_mbuf::l2_len is 7 bits
constexpr uint16_t kMaxL3Len = 0x1ff;  // rte_mbuf::l3_len is 9 bits

std::string rte_error(int negative_errno) { return rte_strerror(-negative_errno); }

// Ports open in this process and the pools each keeps across opens (a pool
// is never freed: a Packet released after its backend is gone, or an mbuf
// still in a device ring, would touch freed memory).
struct PoolKey {
  uint32_t n = 0;
  uint16_t data_room = 0;
  int socket = 0;
  bool operator==(const PoolKey&) const = default;
};
struct PortSlot {
  bool open = false;
  // Every pool made for the port, by geometry; an open reuses the one
  // that matches.
  std::vector<std::pair<PoolKey, rte_mempool*>> pools;
};
struct Registry {
  std::mutex mutex;
  std::map<uint16_t, PortSlot> ports;
};
Registry& registry() {
  static Registry* r = new Registry;  // never destroyed
  return *r;
}

// Constructs the Packet in each mbuf's private area once, when the pool is
// made: from then on it is plain assignment.
void init_packet(rte_mempool* /*mp*/, void* /*arg*/, void* obj, unsigned /*index*/) {
  auto* m = static_cast<rte_mbuf*>(obj);
  Packet* pkt = new (rte_mbuf_to_priv(m)) Packet{};
  pkt->backend_cookie = reinterpret_cast<uintptr_t>(m);
}

rte_mempool* pool_for(PortSlot& slot, uint16_t port, const PoolKey& key, std::string* why) {
  for (const auto& [k, pool] : slot.pools) {
    if (k == key) {
      return pool;
    }
  }
  const std::string name = "dpdkudp_p" + std::to_string(port) + "_" + std::to_string(slot.pools.size());
  rte_mempool* pool = rte_pktmbuf_pool_create(name.c_str(), key.n, dpdk::kPoolCacheSize, dpdk::mbuf_priv_size(),
                                              key.data_room, key.socket);
  if (pool == nullptr) {
    const uint64_t bytes = uint64_t{key.n} * (sizeof(rte_mbuf) + dpdk::mbuf_priv_size() + key.data_room);
    *why = "cannot allocate " + std::to_string(key.n) + " mbufs (" + std::to_string(bytes >> 20) +
           " MiB) on NUMA socket " + std::to_string(key.socket) + ": " + rte_strerror(rte_errno) +
           " (give EAL more memory: -m or hugepages; or lower the ring sizes/pool size)";
    return nullptr;
  }
  rte_mempool_obj_iter(pool, init_packet, nullptr);
  slot.pools.emplace_back(key, pool);
  return pool;
}

// One open in progress: stops the port again if open() gives up after
// starting it, and frees the registry slot.
class OpenGuard {
 public:
  OpenGuard(PortSlot& slot, uint16_t port) : slot_(slot), port_(port) {}
  ~OpenGuard() {
    if (!committed_) {
      if (started_) {
        rte_eth_dev_stop(port_);
      }
      slot_.open = false;
    }
  }
  OpenGuard(const OpenGuard&) = delete;
  OpenGuard& operator=(const OpenGuard&) = delete;
  void started() { started_ = true; }
  void commit() { committed_ = true; }

 private:
  PortSlot& slot_;
  uint16_t port_;
  bool started_ = false;
  bool committed_ = false;
};

// ---- open(), one function per step ----
// A step that fails says why through err ("dpdk: <reason>") and returns
// false or nothing; warnings go to the configured log.

// What every step is given: the configuration, the port, how error lines
// name it, and where errors go.
struct OpenContext {
  const DpdkConfig& config;
  uint16_t port;
  std::string where;  // "port 0 (net_ring0)"
  const base::ErrorSink& err;

  void warn(const std::string& line) const { dpdk::emit_log(config.log, DpdkLogLevel::kWarn, line); }
};

// Whether DPDK has the port asked for (EAL is up).
bool check_port(uint16_t port, const base::ErrorSink& err) {
  const uint16_t count = rte_eth_dev_count_avail();
  if (count == 0) {
    return err.fail("no DPDK ports (did you pass --vdev or bind a NIC with dpdk-devbind.py?)");
  }
  if (rte_eth_dev_is_valid_port(port) == 0) {
    std::string ids;
    for (uint16_t p : DpdkBackend::port_ids()) {
      if (!ids.empty()) {
        ids += ' ';
      }
      ids += std::to_string(p);
    }
    return err.fail("DPDKUDP_DPDK_PORT=" + std::to_string(port) + ": only " + std::to_string(count) + " port(s) (ids " +
                    ids + ")");
  }
  return true;
}

std::string device_name_of(uint16_t port) {
  char device_name[RTE_ETH_NAME_MAX_LEN] = {};
  rte_eth_dev_get_name_by_port(port, device_name);
  return device_name;
}

// Queues: as many as asked (at least one), at most what the device has.
std::optional<uint16_t> choose_queues(const OpenContext& ctx, const rte_eth_dev_info& info) {
  uint16_t queues = std::max<uint16_t>(ctx.config.queues, 1);
  const uint16_t max_queues = std::min(info.max_rx_queues, info.max_tx_queues);
  if (max_queues == 0) {
    ctx.err.fail(ctx.where + ": the device has no RX/TX queues");
    return std::nullopt;
  }
  if (queues > max_queues) {
    ctx.warn(ctx.where + ": " + std::to_string(queues) + " queues asked, the device has " + std::to_string(max_queues) +
             "; using " + std::to_string(max_queues));
    queues = max_queues;
  }
  return queues;
}

// MTU: the configured one, else the device's current one; within our
// limits and the device's.
std::optional<uint32_t> choose_mtu(const OpenContext& ctx, const rte_eth_dev_info& info) {
  uint16_t current_mtu = RTE_ETHER_MTU;
  rte_eth_dev_get_mtu(ctx.port, &current_mtu);
  const uint32_t mtu = ctx.config.mtu != 0 ? ctx.config.mtu : current_mtu;
  if (mtu < kMinMtu || mtu > kMaxMtu) {
    ctx.err.fail(ctx.where + ": MTU " + std::to_string(mtu) + " outside " + std::to_string(kMinMtu) + ".." +
                 std::to_string(kMaxMtu));
    return std::nullopt;
  }
  if (mtu > info.max_mtu) {
    ctx.err.fail(ctx.where + ": MTU " + std::to_string(mtu) + " above the device's maximum " +
                 std::to_string(info.max_mtu));
    return std::nullopt;
  }
  if (mtu < info.min_mtu) {
    ctx.err.fail(ctx.where + ": MTU " + std::to_string(mtu) + " below the device's minimum " +
                 std::to_string(info.min_mtu));
    return std::nullopt;
  }
  return mtu;
}

struct Rings {
  uint16_t rx = 0;
  uint16_t tx = 0;
};

// Descriptor rings, as the device allows.
std::optional<Rings> adjust_rings(const OpenContext& ctx) {
  Rings rings;
  rings.rx = static_cast<uint16_t>(std::clamp<uint32_t>(ctx.config.rx_ring, 1, UINT16_MAX));
  rings.tx = static_cast<uint16_t>(std::clamp<uint32_t>(ctx.config.tx_ring, 1, UINT16_MAX));
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(ctx.port, &rings.rx, &rings.tx); rc != 0) {
    ctx.err.fail(ctx.where + ": ring sizes " + std::to_string(ctx.config.rx_ring) + "/" +
                 std::to_string(ctx.config.tx_ring) + ": " + rte_error(rc));
    return std::nullopt;
  }
  return rings;
}

// The pool's geometry: NUMA-local to the device, mbufs that hold the MTU,
// as many as the queues and rings need unless configured.
std::optional<PoolKey> pool_key(const OpenContext& ctx, const rte_eth_dev_info& info, uint32_t mtu, uint16_t queues,
                                const Rings& rings) {
  const int dev_socket = rte_eth_dev_socket_id(ctx.port);
  PoolKey key;
  key.socket = dev_socket >= 0 ? dev_socket : SOCKET_ID_ANY;
  uint32_t data_room = dpdk::mbuf_data_room(mtu, RTE_PKTMBUF_HEADROOM);
  data_room = std::max<uint32_t>(data_room, info.min_rx_bufsize + RTE_PKTMBUF_HEADROOM);
  if (data_room > UINT16_MAX) {
    ctx.err.fail(ctx.where + ": MTU " + std::to_string(mtu) + " needs mbufs larger than 64 KiB");
    return std::nullopt;
  }
  key.data_room = static_cast<uint16_t>(data_room);
  key.n = ctx.config.pool_size != 0
              ? ctx.config.pool_size
              : dpdk::mbuf_pool_size(queues, rings.rx, rings.tx, rte_lcore_count(), ctx.config.socket_mbufs);
  return key;
}

// The port's pool of that geometry: the one it kept, or a new one.
rte_mempool* take_pool(const OpenContext& ctx, PortSlot& slot, const PoolKey& key) {
  std::string why;
  rte_mempool* pool = pool_for(slot, ctx.port, key, &why);
  if (pool == nullptr) {
    ctx.err.fail(ctx.where + ": " + why);
  }
  return pool;
}

struct PortConf {
  rte_eth_conf eth{};
  bool rss = false;
};

// Offloads and RSS: the device configuration for the chosen offloads, with
// RSS over IPv4/UDP when there are several queues and the device can.
PortConf port_conf(const OpenContext& ctx, const rte_eth_dev_info& info, const dpdk::OffloadSet& offloads,
                   uint16_t queues, uint32_t mtu) {
  PortConf pc;
  rte_eth_conf& conf = pc.eth;
  conf.rxmode.mtu = mtu;
  conf.rxmode.offloads = dpdk::rx_offload_bits(offloads);
  conf.txmode.offloads = dpdk::tx_offload_bits(offloads);
  if (queues > 1) {
    const uint64_t rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
    if (rss_hf != 0) {
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
      conf.rx_adv_conf.rss_conf.rss_key = nullptr;  // the driver's default key
      conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
      pc.rss = true;
    } else {
      ctx.warn(ctx.where + ": no RSS for IPv4/UDP on this device; frames reach the " + std::to_string(queues) +
               " queues as the device decides");
    }
  }
  return pc;
}

// rte_eth_dev_configure, then the configured MTU (when one is).
bool configure_port(const OpenContext& ctx, const rte_eth_conf& conf, const dpdk::OffloadSet& offloads, uint16_t queues,
                    uint32_t mtu) {
  if (int rc = rte_eth_dev_configure(ctx.port, queues, queues, &conf); rc != 0) {
    return ctx.err.fail(ctx.where + ": configure (" + std::to_string(queues) + " queues, MTU " + std::to_string(mtu) +
                        ", offloads " + dpdk::describe(offloads) + "): " + rte_error(rc));
  }
  if (ctx.config.mtu != 0) {
    const int rc = rte_eth_dev_set_mtu(ctx.port, static_cast<uint16_t>(mtu));
    if (rc != 0 && rc != -ENOTSUP) {
      return ctx.err.fail(ctx.where + ": set MTU " + std::to_string(mtu) + ": " + rte_error(rc));
    }
  }
  return true;
}

// The RX and TX queues, on the pool's NUMA socket.
bool setup_queues(const OpenContext& ctx, const rte_eth_dev_info& info, const rte_eth_conf& conf, uint16_t queues,
                  const Rings& rings, const PoolKey& key, rte_mempool* pool) {
  const unsigned setup_socket = static_cast<unsigned>(key.socket);
  for (uint16_t q = 0; q < queues; ++q) {
    rte_eth_rxconf rxconf = info.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    if (int rc = rte_eth_rx_queue_setup(ctx.port, q, rings.rx, setup_socket, &rxconf, pool); rc != 0) {
      return ctx.err.fail(ctx.where + ": RX queue " + std::to_string(q) + " (" + std::to_string(rings.rx) +
                          " descriptors): " + rte_error(rc));
    }
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    if (int rc = rte_eth_tx_queue_setup(ctx.port, q, rings.tx, setup_socket, &txconf); rc != 0) {
      return ctx.err.fail(ctx.where + ": TX queue " + std::to_string(q) + " (" + std::to_string(rings.tx) +
                          " descriptors): " + rte_error(rc));
    }
  }
  return true;
}

// Starts the port (guard stops it again if open() gives up later).
bool start_port(const OpenContext& ctx, OpenGuard& guard) {
  if (int rc = rte_eth_dev_start(ctx.port); rc != 0) {
    return ctx.err.fail(ctx.where + ": start: " + rte_error(rc));
  }
  guard.started();
  // Only frames for our MAC (and broadcast). Some virtual devices cannot
  // change it (-ENOTSUP): nothing to do then.
  if (int rc = rte_eth_promiscuous_disable(ctx.port); rc != 0 && rc != -ENOTSUP) {
    ctx.warn(ctx.where + ": cannot turn promiscuous mode off: " + rte_error(rc));
  }
  return true;
}

std::optional<MacAddr> read_mac(const OpenContext& ctx) {
  rte_ether_addr addr{};
  if (int rc = rte_eth_macaddr_get(ctx.port, &addr); rc != 0) {
    ctx.err.fail(ctx.where + ": cannot read the MAC address: " + rte_error(rc));
    return std::nullopt;
  }
  MacAddr mac{};
  std::copy(std::begin(addr.addr_bytes), std::end(addr.addr_bytes), mac.begin());
  return mac;
}

// The link, bounded. A device that cannot say (-ENOTSUP) is taken as up.
// Still down: a failure if the link is required, else a warning.
bool wait_for_link(const OpenContext& ctx) {
  bool link_up = false;
  bool link_unknown = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ctx.config.link_wait_ms);
  for (;;) {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(ctx.port, &link) != 0) {
      link_unknown = true;
      break;
    }
    if (link.link_status == RTE_ETH_LINK_UP) {
      link_up = true;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!link_up && !link_unknown) {
    const std::string msg = ctx.where + ": link down after " + std::to_string(ctx.config.link_wait_ms) +
                            " ms (cable or peer down? for net_af_packet: is the interface up?)";
    if (ctx.config.require_link) {
      return ctx.err.fail(msg);
    }
    ctx.warn(msg + "; going on, frames flow once it comes up");
  }
  return true;
}

// What the stack is told: the MTU the device took, the queues, the largest
// frame an mbuf holds, the offloads.
Capabilities capabilities_for(const dpdk::OffloadSet& offloads, uint16_t actual_mtu, uint16_t queues,
                              const PoolKey& key) {
  Capabilities caps;
  caps.mtu = actual_mtu;
  caps.rx_queues = queues;
  caps.tx_queues = queues;
  caps.max_frame = std::min<uint32_t>(actual_mtu + kMaxFrameOverMtu, key.data_room - RTE_PKTMBUF_HEADROOM);
  dpdk::apply_to_capabilities(offloads, caps);
  return caps;
}

}  // namespace

std::unique_ptr<DpdkBackend> DpdkBackend::open(const DpdkConfig& config, std::string* error) {
  std::string scratch;
  std::string& error_line = error != nullptr ? *error : scratch;
  if (!init_dpdk_eal(config.eal_args, config.eal_thread_init, config.log, &error_line)) {
    return nullptr;
  }
  const base::ErrorSink err = base::ErrorSink::with_prefix("dpdk: ", "", &error_line);
  const uint16_t port = config.port;
  if (!check_port(port, err)) {
    return nullptr;
  }
  const std::string device = device_name_of(port);
  const OpenContext ctx{config, port, "port " + std::to_string(port) + " (" + device + ")", err};

  Registry& reg = registry();
  std::lock_guard lock(reg.mutex);
  PortSlot& slot = reg.ports[port];
  if (slot.open) {
    err.fail(ctx.where + " is already open in this process");
    return nullptr;
  }
  slot.open = true;
  OpenGuard guard(slot, port);

  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(port, &info); rc != 0) {
    err.fail(ctx.where + ": cannot read device info: " + rte_error(rc));
    return nullptr;
  }
  std::unique_ptr<DpdkBackend> b(new DpdkBackend);
  b->port_ = port;
  b->device_ = device;
  b->driver_ = info.driver_name != nullptr ? info.driver_name : "?";

  const std::optional<uint16_t> queues = choose_queues(ctx, info);
  if (!queues) {
    return nullptr;
  }
  const std::optional<uint32_t> mtu = choose_mtu(ctx, info);
  if (!mtu) {
    return nullptr;
  }
  const std::optional<Rings> rings = adjust_rings(ctx);
  if (!rings) {
    return nullptr;
  }
  const std::optional<PoolKey> key = pool_key(ctx, info, *mtu, *queues, *rings);
  if (!key) {
    return nullptr;
  }
  b->pool_ = take_pool(ctx, slot, *key);
  if (b->pool_ == nullptr) {
    return nullptr;
  }
  b->offloads_ = dpdk::choose_offloads(info.rx_offload_capa, info.tx_offload_capa, config);
  const PortConf conf = port_conf(ctx, info, b->offloads_, *queues, *mtu);
  b->rss_ = conf.rss;
  if (!configure_port(ctx, conf.eth, b->offloads_, *queues, *mtu) ||
      !setup_queues(ctx, info, conf.eth, *queues, *rings, *key, b->pool_) || !start_port(ctx, guard)) {
    return nullptr;
  }
  const std::optional<MacAddr> mac = read_mac(ctx);
  if (!mac) {
    return nullptr;
  }
  b->mac_ = *mac;
  uint16_t actual_mtu = static_cast<uint16_t>(*mtu);
  rte_eth_dev_get_mtu(port, &actual_mtu);
  if (!wait_for_link(ctx)) {
    return nullptr;
  }

  b->rx_ring_ = rings->rx;
  b->tx_ring_ = rings->tx;
  b->hw_tx_flags_ = dpdk::hardware_tx_flags(b->offloads_);
  b->caps_ = capabilities_for(b->offloads_, actual_mtu, *queues, *key);
  // Counters from this open on (a port reopened in the same process, or
  // the device's own start-up traffic, does not show).
  rte_eth_stats_reset(port);
  // Multicast groups arrive anyway: set_multicast_mac leaves the modes be.
  b->all_multicast_at_open_ = rte_eth_allmulticast_get(port) == 1 || rte_eth_promiscuous_get(port) == 1;
  // An empty list asks the driver whether it has one at all.
  const bool mc_list = rte_eth_dev_set_mc_addr_list(port, nullptr, 0) != -ENOTSUP;
  b->mc_list_unsupported_ = !mc_list;
  b->kernel_ifindex_ = info.if_index;
  b->caps_.rx_multicast = mc_list || b->all_multicast_at_open_ || info.if_index != 0;
  if (!mc_list && info.if_index != 0) {
    // Opened here, in the port's network namespace, for the fallback to
    // the kernel interface's list (program_multicast).
    b->membership_fd_ = base::UniqueFd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  }
  b->opened_ = true;
  guard.commit();
  return b;
}

std::vector<uint16_t> DpdkBackend::port_ids() {
  std::vector<uint16_t> ids;
  for (uint64_t p = rte_eth_find_next_owned_by(0, RTE_ETH_DEV_NO_OWNER); p < RTE_MAX_ETHPORTS;
       p = rte_eth_find_next_owned_by(static_cast<uint16_t>(p + 1), RTE_ETH_DEV_NO_OWNER)) {
    ids.push_back(static_cast<uint16_t>(p));
  }
  return ids;
}

bool DpdkBackend::port_open(uint16_t port) {
  Registry& reg = registry();
  std::lock_guard lock(reg.mutex);
  const auto it = reg.ports.find(port);
  return it != reg.ports.end() && it->second.open;
}

DpdkBackend::~DpdkBackend() {
  if (!opened_) {
    return;  // a failed open(): the OpenGuard undoes what it did
  }
  {
    // The port outlives us in this process: the next open must find it as
    // this one did.
    std::lock_guard lock(multicast_mutex_);
    if (mc_list_set_) {
      rte_eth_dev_set_mc_addr_list(port_, nullptr, 0);
    }
    if (allmulticast_ours_) {
      rte_eth_allmulticast_disable(port_);
    }
  }  // the kernel's memberships go with membership_fd_
  Registry& reg = registry();
  std::lock_guard lock(reg.mutex);
  rte_eth_dev_stop(port_);
  reg.ports[port_].open = false;
}

int DpdkBackend::set_multicast_mac(const MacAddr& mac, bool on) {
  if ((mac[0] & 0x01) == 0) {
    return -EINVAL;  // the I/G bit: a unicast address is no group
  }
  std::lock_guard lock(multicast_mutex_);
  const auto it = multicast_.find(mac);
  if (on) {
    if (it != multicast_.end()) {
      ++it->second;  // the device has it already
      return 0;
    }
    multicast_.emplace(mac, 1);
    if (const int rc = program_multicast(); rc != 0) {
      multicast_.erase(mac);
      return rc;
    }
    return 0;
  }
  if (it == multicast_.end()) {
    return -EADDRNOTAVAIL;  // as PACKET_DROP_MEMBERSHIP says it
  }
  if (it->second > 1) {
    --it->second;
    return 0;
  }
  multicast_.erase(it);
  if (const int rc = program_multicast(); rc != 0) {
    multicast_.emplace(mac, 1);  // still joined, as far as anyone can tell
    return rc;
  }
  return 0;
}

int DpdkBackend::program_multicast() {
  if (!mc_list_unsupported_) {
    std::vector<rte_ether_addr> list(multicast_.size());
    size_t i = 0;
    for (const auto& entry : multicast_) {
      std::copy(entry.first.begin(), entry.first.end(), list[i++].addr_bytes);
    }
    const int rc =
        rte_eth_dev_set_mc_addr_list(port_, list.empty() ? nullptr : list.data(), static_cast<uint32_t>(list.size()));
    if (rc == 0) {
      mc_list_set_ = !list.empty();
      return 0;
    }
    if (rc != -ENOTSUP) {
      return rc;
    }
    mc_list_unsupported_ = true;  // never will: all-multicast from now on
  }
  if (!kernel_multicast_) {
    const int rc = set_allmulticast(!multicast_.empty());
    if (rc != -ENOTSUP || !membership_fd_.valid()) {
      return rc;
    }
    kernel_multicast_ = true;  // neither: the kernel interface under the port takes the groups
  }
  // Bring the kernel's list to multicast_ (one address changes per call).
  const int fd = membership_fd_.get();
  const int ifindex = static_cast<int>(kernel_ifindex_);
  for (const auto& [mac, count] : multicast_) {
    if (kernel_joined_.count(mac) == 0) {
      if (const int rc = kernel_memberships_.set({&fd, 1}, ifindex, mac, true); rc != 0) {
        return rc;
      }
      kernel_joined_.insert(mac);
    }
  }
  for (auto it = kernel_joined_.begin(); it != kernel_joined_.end();) {
    if (multicast_.count(*it) == 0) {
      kernel_memberships_.set({&fd, 1}, ifindex, *it, false);
      it = kernel_joined_.erase(it);
    } else {
      ++it;
    }
  }
  return 0;
}

int DpdkBackend::set_allmulticast(bool on) {
  if (all_multicast_at_open_ || on == allmulticast_ours_) {
    return 0;
  }
  const int rc = on ? rte_eth_allmulticast_enable(port_) : rte_eth_allmulticast_disable(port_);
  if (rc != 0) {
    return rc;
  }
  allmulticast_ours_ = on;
  return 0;
}

Packet* DpdkBackend::rx_packet(rte_mbuf* m, uint16_t queue) {
  Packet* pkt = packet_of(m);
  pkt->data = rte_pktmbuf_mtod(m, uint8_t*);
  pkt->len = m->data_len;
  pkt->room = static_cast<uint32_t>(m->buf_len - m->data_off);
  pkt->rx_flags = dpdk::rx_flags_from_ol(m->ol_flags);
  pkt->tx_flags = 0;
  pkt->vlan_tci = (pkt->rx_flags & kRxVlanStripped) != 0 ? m->vlan_tci : 0;
  pkt->l2_len = 0;
  pkt->l3_len = 0;
  pkt->queue = queue;
  pkt->next = nullptr;
  pkt->meta = PacketRxMeta{};
  pkt->backend_cookie = reinterpret_cast<uintptr_t>(m);
  return pkt;
}

Packet* DpdkBackend::tx_buffer(rte_mbuf* m) {
  Packet* pkt = packet_of(m);
  pkt->data = rte_pktmbuf_mtod(m, uint8_t*);
  pkt->len = 0;
  pkt->room = rte_pktmbuf_tailroom(m);
  pkt->rx_flags = 0;
  pkt->tx_flags = 0;
  pkt->vlan_tci = 0;
  pkt->l2_len = 0;
  pkt->l3_len = 0;
  pkt->queue = 0;
  pkt->next = nullptr;
  pkt->meta = PacketRxMeta{};
  pkt->backend_cookie = reinterpret_cast<uintptr_t>(m);
  return pkt;
}

size_t DpdkBackend::rx_burst(uint16_t queue, std::span<Packet*> out) {
  if (queue >= caps_.rx_queues || out.empty()) {
    return 0;
  }
  std::array<rte_mbuf*, dpdk::kBurst> mbufs;
  const uint16_t want = static_cast<uint16_t>(std::min<size_t>(out.size(), mbufs.size()));
  const uint16_t n = rte_eth_rx_burst(port_, queue, mbufs.data(), want);
  size_t got = 0;
  uint64_t errors = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = mbufs[i];
    if (m->nb_segs != 1) {
      rte_pktmbuf_free(m);
      ++errors;
      continue;
    }
    out[got++] = rx_packet(m, queue);
  }
  if (errors != 0) {
    rx_errors_.fetch_add(errors, std::memory_order_relaxed);
  }
  return got;
}

size_t DpdkBackend::alloc(std::span<Packet*> out) {
  size_t got = 0;
  std::array<rte_mbuf*, dpdk::kBurst> mbufs;
  while (got < out.size()) {
    const size_t want = std::min(out.size() - got, mbufs.size());
    if (rte_pktmbuf_alloc_bulk(pool_, mbufs.data(), static_cast<unsigned>(want)) != 0) {
      // Not that many left: take what there is, one at a time.
      while (got < out.size()) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        if (m == nullptr) {
          break;
        }
        out[got++] = tx_buffer(m);
      }
      break;
    }
    for (size_t i = 0; i < want; ++i) {
      out[got++] = tx_buffer(mbufs[i]);
    }
  }
  return got;
}

void DpdkBackend::release(std::span<Packet* const> pkts) {
  std::array<rte_mbuf*, dpdk::kBurst> mbufs;
  size_t k = 0;
  for (Packet* pkt : pkts) {
    mbufs[k++] = mbuf_of(pkt);
    if (k == mbufs.size()) {
      rte_pktmbuf_free_bulk(mbufs.data(), static_cast<unsigned>(k));
      k = 0;
    }
  }
  if (k != 0) {
    rte_pktmbuf_free_bulk(mbufs.data(), static_cast<unsigned>(k));
  }
}

void DpdkBackend::set_tx_fields(rte_mbuf& m, const Packet& pkt, uint32_t hw_flags) {
  m.data_off = static_cast<uint16_t>(pkt.data - static_cast<uint8_t*>(m.buf_addr));
  m.data_len = static_cast<uint16_t>(pkt.len);
  m.pkt_len = pkt.len;
  m.nb_segs = 1;
  m.next = nullptr;
  m.ol_flags = dpdk::tx_ol_from_flags(hw_flags);
  m.tx_offload = 0;
  if ((hw_flags & kTxChecksumFlags) != 0) {
    // Bit-fields of 7, 9 and 8 bits; prepare_tx() checked the lengths fit.
    m.l2_len = pkt.l2_len & kMaxL2Len;
    m.l3_len = pkt.l3_len & kMaxL3Len;
    m.l4_len = (hw_flags & kTxUdpCsum) != 0 ? sizeof(rte_udp_hdr) : 0u;
  }
  m.vlan_tci = (hw_flags & kTxVlanInsert) != 0 ? pkt.vlan_tci : 0;
}

bool DpdkBackend::prepare_tx(Packet& pkt) const {
  rte_mbuf* m = mbuf_of(&pkt);
  const auto* buf = static_cast<const uint8_t*>(m->buf_addr);
  if (pkt.data < buf || pkt.len < RTE_ETHER_HDR_LEN || pkt.data + pkt.len > buf + m->buf_len) {
    return false;
  }
  uint32_t flags = pkt.tx_flags & (kTxChecksumFlags | kTxVlanInsert);
  if ((flags & ~hw_tx_flags_) != 0) {
    // Something the device does not do: all of it in software, once (the
    // flags are cleared, so a frame the device does not take and the
    // caller hands back is not tagged twice).
    const size_t headroom = static_cast<size_t>(pkt.data - buf);
    if (!common::tx_offloads_feasible(pkt, flags, headroom)) {
      return false;
    }
    common::apply_tx_offloads(pkt, flags);
    pkt.tx_flags &= ~flags;
    flags = 0;
  } else if ((flags & kTxChecksumFlags) != 0 &&
             (pkt.l2_len < RTE_ETHER_HDR_LEN || pkt.l2_len > kMaxL2Len || pkt.l3_len > kMaxL3Len ||
              !common::tx_offloads_feasible(pkt, flags & kTxChecksumFlags, 0))) {
    return false;
  }
  if (pkt.len > caps_.max_frame) {
    return false;
  }
  set_tx_fields(*m, pkt, flags | (pkt.tx_flags & kTxIpv6));
  return true;
}

void DpdkBackend::drop_tx(rte_mbuf* m) {
  rte_pktmbuf_free(m);
  tx_errors_.fetch_add(1, std::memory_order_relaxed);
}

size_t DpdkBackend::tx_burst(uint16_t queue, std::span<Packet* const> pkts) {
  if (queue >= caps_.tx_queues) {
    return 0;
  }
  std::array<rte_mbuf*, dpdk::kBurst> batch;
  size_t i = 0;
  while (i < pkts.size()) {
    // A run of good frames goes out together; a bad one is taken and
    // dropped between runs.
    const size_t start = i;
    size_t k = 0;
    while (i < pkts.size() && k < batch.size() && prepare_tx(*pkts[i])) {
      batch[k++] = mbuf_of(pkts[i]);
      ++i;
    }
    const bool stopped_on_bad = i < pkts.size() && k < batch.size();
    uint16_t good = static_cast<uint16_t>(k);
    if (k != 0 && hw_tx_flags_ != 0) {
      good = rte_eth_tx_prepare(port_, queue, batch.data(), static_cast<uint16_t>(k));
    }
    if (good != 0) {
      const uint16_t sent = rte_eth_tx_burst(port_, queue, batch.data(), good);
      if (sent < good) {
        return start + sent;  // the device is full: the caller keeps the rest
      }
    }
    if (good < k) {
      drop_tx(batch[good]);  // tx_prepare refused it
      i = start + good + 1;
      continue;
    }
    if (stopped_on_bad) {
      drop_tx(mbuf_of(pkts[i]));
      ++i;
    }
  }
  return pkts.size();
}

BackendStats DpdkBackend::stats() const {
  rte_eth_stats st{};
  rte_eth_stats_get(port_, &st);
  dpdk::EthCounters eth;
  eth.ipackets = st.ipackets;
  eth.opackets = st.opackets;
  eth.imissed = st.imissed;
  eth.rx_nombuf = st.rx_nombuf;
  eth.ierrors = st.ierrors;
  eth.oerrors = st.oerrors;
  return dpdk::to_backend_stats(eth, rx_errors_.load(std::memory_order_relaxed),
                                tx_errors_.load(std::memory_order_relaxed));
}

std::vector<DpdkQueueStats> DpdkBackend::queue_stats() const {
  rte_eth_stats st{};
  rte_eth_stats_get(port_, &st);
  const size_t n = std::min<size_t>(caps_.rx_queues, RTE_ETHDEV_QUEUE_STAT_CNTRS);
  std::vector<DpdkQueueStats> out(n);
  for (size_t q = 0; q < n; ++q) {
    out[q].rx_packets = st.q_ipackets[q];
    out[q].tx_packets = st.q_opackets[q];
    out[q].rx_bytes = st.q_ibytes[q];
    out[q].tx_bytes = st.q_obytes[q];
    out[q].rx_errors = st.q_errors[q];
  }
  return out;
}

std::string DpdkBackend::describe() const {
  return "port " + std::to_string(port_) + " (" + device_ + ", " + driver_ + "), " + std::to_string(caps_.rx_queues) +
         " queue(s)" + (rss_ ? " with RSS" : "") + " x " + std::to_string(rx_ring_) + "/" + std::to_string(tx_ring_) +
         " descriptors, " + std::to_string(pool_size()) + " mbufs, MTU " + std::to_string(caps_.mtu);
}

}  // namespace dpdkudp
