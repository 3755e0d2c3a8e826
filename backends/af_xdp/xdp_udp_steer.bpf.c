// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//
// dpdkudp's XDP program: hands the AF_XDP socket (XSK) of the receiving
// queue only the traffic the shim owns, and XDP_PASSes everything else to
// the kernel.
//
//   UDP to an offloaded (IPv4 destination, UDP destination port)
//     -> redirect. The port map is looked up with (dst, port) and then with
//        (0.0.0.0, port), the entry of a socket bound to INADDR_ANY.
//   dedicated mode (config.dedicated != 0, config.ipv4 != 0):
//     ARP whose target protocol address is config.ipv4   -> redirect
//     any IPv4 whose destination is config.ipv4 (ICMP echo, UDP to an
//     unbound port so the stack can answer port-unreachable, fragments)
//                                                        -> redirect
//   everything else (shared mode: ARP, ICMP, TCP, other ports) -> XDP_PASS
//
// A redirect names the XSK at xsks[rx_queue_index]; when that slot is empty
// (no socket yet, or its process died and the kernel removed the socket
// from the map) bpf_redirect_map's fallback action makes it XDP_PASS, so a
// dead owner never black-holes traffic.
//
// Frames: Ethernet II with at most one 802.1Q / 802.1ad tag, IPv4 with any
// IHL (options skipped). Every read is bounds-checked against data_end.
// Addresses and ports in the maps are in network byte order.
//
// Built by meson with `clang -O2 -g -target bpf` and embedded into the
// backend library (no file is needed at run time). -g keeps BTF, which
// libbpf needs for the BTF-defined maps and libxdp for its dispatcher.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

// Shared with af_xdp_maps.h (C++ side): keep the layouts identical.
struct dpdkudp_port_key {
  __u32 addr;  // IPv4 destination, network order; 0 = any of ours
  __u16 port;  // UDP destination port, network order
  __u16 pad;   // always 0
};

struct dpdkudp_config {
  __u32 owner_pid;  // process whose XSKs are in dpdkudp_xsks
  __u32 dedicated;  // 1: ARP and IPv4 for ipv4 go to the XSK too
  __u32 ipv4;       // our address, network order (0: none)
  __u32 reserved;
};

// (addr, port) -> pid of the process that owns the port.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct dpdkudp_port_key);
  __type(value, __u32);
} dpdkudp_ports SEC(".maps");

// RX queue index -> XSK.
struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u32);
} dpdkudp_xsks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct dpdkudp_config);
} dpdkudp_config SEC(".maps");

struct vlan_tag {
  __be16 tci;
  __be16 proto;
};

// ARP for IPv4 over Ethernet (RFC 826), only the fields we read.
struct arp_ipv4 {
  __be16 htype;
  __be16 ptype;
  __u8 hlen;
  __u8 plen;
  __be16 op;
  __u8 sha[6];
  __u8 spa[4];
  __u8 tha[6];
  __u8 tpa[4];
};

static __always_inline int to_xsk(struct xdp_md *ctx) {
  return (int)bpf_redirect_map(&dpdkudp_xsks, ctx->rx_queue_index, XDP_PASS);
}

SEC("xdp")
int xdp_udp_steer(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;

  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) {
    return XDP_PASS;
  }
  __be16 proto = eth->h_proto;
  void *l3 = eth + 1;
  if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
    struct vlan_tag *tag = l3;
    if ((void *)(tag + 1) > data_end) {
      return XDP_PASS;
    }
    proto = tag->proto;
    l3 = tag + 1;
  }

  __u32 zero = 0;
  const struct dpdkudp_config *cfg = bpf_map_lookup_elem(&dpdkudp_config, &zero);
  __u32 dedicated_addr = 0;
  if (cfg && cfg->dedicated) {
    dedicated_addr = cfg->ipv4;
  }

  if (proto == bpf_htons(ETH_P_ARP)) {
    if (dedicated_addr == 0) {
      return XDP_PASS;
    }
    struct arp_ipv4 *arp = l3;
    if ((void *)(arp + 1) > data_end) {
      return XDP_PASS;
    }
    if (arp->htype != bpf_htons(1) || arp->ptype != bpf_htons(ETH_P_IP) || arp->hlen != 6 ||
        arp->plen != 4) {
      return XDP_PASS;
    }
    __u32 target;
    __builtin_memcpy(&target, arp->tpa, sizeof(target));
    return target == dedicated_addr ? to_xsk(ctx) : XDP_PASS;
  }

  if (proto != bpf_htons(ETH_P_IP)) {
    return XDP_PASS;
  }
  struct iphdr *ip = l3;
  if ((void *)(ip + 1) > data_end) {
    return XDP_PASS;
  }
  if (ip->version != 4 || ip->ihl < 5) {
    return XDP_PASS;
  }
  if (dedicated_addr != 0 && ip->daddr == dedicated_addr) {
    return to_xsk(ctx);
  }
  if (ip->protocol != IPPROTO_UDP) {
    return XDP_PASS;
  }
  // Fragments (MF set or a non-zero offset) go to the kernel, which
  // reassembles them.
  if ((ip->frag_off & bpf_htons(0x3fff)) != 0) {
    return XDP_PASS;
  }
  struct udphdr *udp = (void *)((__u8 *)ip + ip->ihl * 4);
  if ((void *)(udp + 1) > data_end) {
    return XDP_PASS;
  }

  struct dpdkudp_port_key key = {.addr = ip->daddr, .port = udp->dest, .pad = 0};
  if (bpf_map_lookup_elem(&dpdkudp_ports, &key)) {
    return to_xsk(ctx);
  }
  key.addr = 0;
  if (bpf_map_lookup_elem(&dpdkudp_ports, &key)) {
    return to_xsk(ctx);
  }
  return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
