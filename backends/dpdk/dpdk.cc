#include "backends/dpdk/dpdk.h"

#include <cstdio>

#include "backends/dpdk/dpdk_backend.h"
#include "backends/dpdk/dpdk_mapping.h"

namespace dpdkudp {

namespace {

std::string mac_text(const MacAddr& mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return text;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    out += (out.empty() ? "" : " ") + s;
  }
  return out.empty() ? std::string("none") : out;
}

const DpdkBackend* as_dpdk(const Backend& backend) { return dynamic_cast<const DpdkBackend*>(&backend); }

}  // namespace

std::unique_ptr<Backend> open_dpdk(const DpdkConfig& config, std::string* error) {
  return DpdkBackend::open(config, error);
}

std::vector<DpdkPortInfo> list_dpdk_ports(const std::string& eal_args, std::string* error) {
  if (!init_dpdk_eal(eal_args, {}, {}, error)) {
    return {};
  }
  std::vector<DpdkPortInfo> ports;
  for (uint16_t port : DpdkBackend::port_ids()) {
    DpdkPortInfo p;
    p.port = port;
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    if (rte_eth_dev_get_name_by_port(port, name) == 0) {
      p.device = name;
    }
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(port, &info) == 0) {
      p.driver = info.driver_name != nullptr ? info.driver_name : "";
      p.max_mtu = info.max_mtu;
      p.max_rx_queues = info.max_rx_queues;
      p.max_tx_queues = info.max_tx_queues;
      p.rx_offloads = dpdk::rx_offload_names(info.rx_offload_capa);
      p.tx_offloads = dpdk::tx_offload_names(info.tx_offload_capa);
    }
    rte_ether_addr addr{};
    if (rte_eth_macaddr_get(port, &addr) == 0) {
      std::copy(std::begin(addr.addr_bytes), std::end(addr.addr_bytes), p.mac.begin());
    }
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(port, &link) == 0) {
      p.link_up = link.link_status == RTE_ETH_LINK_UP;
      p.link_speed_mbps = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
    }
    p.numa_socket = rte_eth_dev_socket_id(port);
    rte_eth_dev_get_mtu(port, &p.mtu);
    p.open = DpdkBackend::port_open(port);
    ports.push_back(std::move(p));
  }
  return ports;
}

std::string to_string(const DpdkPortInfo& p) {
  std::string out = "port " + std::to_string(p.port) + ": " + p.device + " (driver " + p.driver + ")\n";
  out += "  mac " + mac_text(p.mac) + ", link " + (p.link_up ? "up" : "down");
  if (p.link_up && p.link_speed_mbps != 0) {
    out += " " + std::to_string(p.link_speed_mbps) + " Mb/s";
  }
  out += ", NUMA socket " + (p.numa_socket >= 0 ? std::to_string(p.numa_socket) : std::string("any"));
  out += ", MTU " + std::to_string(p.mtu) + " (max " + std::to_string(p.max_mtu) + ")";
  out += ", queues rx " + std::to_string(p.max_rx_queues) + " tx " + std::to_string(p.max_tx_queues);
  out += p.open ? ", open\n" : "\n";
  out += "  rx offloads: " + joined(p.rx_offloads) + "\n";
  out += "  tx offloads: " + joined(p.tx_offloads) + "\n";
  return out;
}

std::string describe_dpdk_backend(const Backend& backend) {
  const DpdkBackend* b = as_dpdk(backend);
  return b != nullptr ? b->describe() : std::string();
}

std::string describe_dpdk_offloads(const Backend& backend) {
  const DpdkBackend* b = as_dpdk(backend);
  return b != nullptr ? b->offloads_description() : std::string();
}

std::vector<DpdkQueueStats> dpdk_queue_stats(const Backend& backend) {
  const DpdkBackend* b = as_dpdk(backend);
  return b != nullptr ? b->queue_stats() : std::vector<DpdkQueueStats>{};
}

}  // namespace dpdkudp
