// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//
// dpdkudp's XDP program: hands an AF_XDP socket (XSK) only the traffic a
// shim process owns, and XDP_PASSes everything else to the kernel. Several
// processes share one interface (see group.h): each has its member slot,
// and its XSK for RX queue q sits at dpdkudp_xsks[slot * 64 + q].
//
//   UDP to a steered (IPv4 destination, UDP destination port)
//     -> the owner's XSK. The port map is looked up with (dst, port) and
//        then with (0.0.0.0, port), the entry of a socket bound to
//        INADDR_ANY. Processes that share a port with SO_REUSEPORT are
//        its owners together: a hash of the source address and port picks
//        one, so a flow always reaches the same process.
//   an address served in dedicated mode (dpdkudp_addrs):
//     an ARP reply from an address a member asked about (dpdkudp_resolving:
//     the backend notes the requests it sends)            -> that member
//     ARP whose target protocol address is it             -> its member
//     any other IPv4 to it (ICMP echo, UDP to an unbound port so the stack
//     can answer port-unreachable, fragments)             -> its member
//   to an IPv4 group one of the processes joined (dpdkudp_groups: the
//   group -> the members that joined it; 224.0.0.1 is "joined" while any
//   group is):
//     IGMP (queries; another host's v1/v2 report)        -> the first member
//     UDP to a steered port                              -> an owner of the
//        port that joined the group (several: by the source hash)
//     anything else, or no owner joined                  -> XDP_PASS
//   everything else (ARP, ICMP, TCP, other ports)          -> XDP_PASS
//
// IPv6 the same way, with its own maps: UDP to a steered (IPv6 destination,
// port) or (::, port) -> its owner; an IPv6 address served in dedicated
// mode (dpdkudp_addrs6): every packet to it -> its member, and a Neighbor
// Solicitation or Advertisement sent to a multicast group whose target is
// it (address resolution and duplicate-address detection) -> its member.
// IPv6 groups the same way as IPv4's (dpdkudp_groups6; ff02::1 is "joined"
// while any group is): MLD (queries; another host's v1 report) -> the
// first member, UDP to a steered port -> an owner that joined.
// Up to four Hop-by-Hop, Routing or Destination Options headers are walked
// to find UDP; anything else (a fragment, TCP, another extension) is
// XDP_PASSed unless its destination is a served address.
//
// When the slot is empty (no socket yet, or its process died and the
// kernel removed the socket from the map) bpf_redirect_map's fallback
// action makes it XDP_PASS, so a dead owner never black-holes traffic.
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
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

#define DPDKUDP_MAX_QUEUES 64
#define DPDKUDP_MAX_MEMBERS 16
#define DPDKUDP_MAX_SHARERS 8

// Shared with xdp_program.h (C++ side): keep the layouts identical.
struct dpdkudp_port_key {
  __u32 addr;  // IPv4 destination, network order; 0 = any of ours
  __u16 port;  // UDP destination port, network order
  __u16 pad;   // always 0
};

struct dpdkudp_owner {
  __u32 pid;   // the owning process (checked for life by the C++ side)
  __u32 slot;  // its member slot, < DPDKUDP_MAX_MEMBERS
};

struct dpdkudp_port_owners {
  __u32 count;      // owners in use, 1..DPDKUDP_MAX_SHARERS
  __u32 reuseport;  // what every owner has: 1 SO_REUSEPORT, 2 SO_REUSEADDR
  struct dpdkudp_owner owner[DPDKUDP_MAX_SHARERS];
};

// (addr, port) -> its owners.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct dpdkudp_port_key);
  __type(value, struct dpdkudp_port_owners);
} dpdkudp_ports SEC(".maps");

// The IPv6 forms.
struct dpdkudp_port6_key {
  __u8 addr[16];  // IPv6 destination; all zero = any of ours
  __u16 port;     // UDP destination port, network order
  __u16 pad;      // always 0
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 65536);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct dpdkudp_port6_key);
  __type(value, struct dpdkudp_port_owners);
} dpdkudp_ports6 SEC(".maps");

struct dpdkudp_addr6 {
  __u8 addr[16];
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 256);
  __type(key, struct dpdkudp_addr6);
  __type(value, struct dpdkudp_owner);
} dpdkudp_addrs6 SEC(".maps");

// IPv4 group (network order) -> the members whose stack joined it.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, struct dpdkudp_port_owners);
} dpdkudp_groups SEC(".maps");

// IPv6 group -> the members whose stack joined it.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, struct dpdkudp_addr6);
  __type(value, struct dpdkudp_port_owners);
} dpdkudp_groups6 SEC(".maps");

// Neighbours being resolved: the address a member's last ARP request (or
// Neighbor Solicitation) asked about -> that member, so the reply reaches
// it and not only the address's owner (forked members share an address).
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, struct dpdkudp_owner);
} dpdkudp_resolving SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 4096);
  __type(key, struct dpdkudp_addr6);
  __type(value, struct dpdkudp_owner);
} dpdkudp_resolving6 SEC(".maps");

// IPv4 address (network order) served in dedicated mode -> owner.
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 256);
  __type(key, __u32);
  __type(value, struct dpdkudp_owner);
} dpdkudp_addrs SEC(".maps");

// slot * 64 + RX queue index -> XSK.
struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, DPDKUDP_MAX_QUEUES* DPDKUDP_MAX_MEMBERS);
  __type(key, __u32);
  __type(value, __u32);
} dpdkudp_xsks SEC(".maps");

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

static __always_inline int to_owner(struct xdp_md* ctx, const struct dpdkudp_owner* owner) {
  __u32 queue = ctx->rx_queue_index;
  if (owner->slot >= DPDKUDP_MAX_MEMBERS || queue >= DPDKUDP_MAX_QUEUES) {
    return XDP_PASS;
  }
  return (int)bpf_redirect_map(&dpdkudp_xsks, owner->slot * DPDKUDP_MAX_QUEUES + queue, XDP_PASS);
}

// Whether the owner's XSK for this RX queue is in the map (its process
// lives; the kernel removes a closed socket).
static __always_inline int has_xsk(struct xdp_md* ctx, const struct dpdkudp_owner* owner) {
  __u32 queue = ctx->rx_queue_index;
  if (owner->slot >= DPDKUDP_MAX_MEMBERS || queue >= DPDKUDP_MAX_QUEUES) {
    return 0;
  }
  __u32 index = owner->slot * DPDKUDP_MAX_QUEUES + queue;
  return bpf_map_lookup_elem(&dpdkudp_xsks, &index) != 0;
}

// One owner of a port; with several, by a hash of the source address and
// port (SO_REUSEPORT), or the one that came last (SO_REUSEADDR alone, as
// Linux gives unicast to the last such socket bound).
static __always_inline int to_port_owner(struct xdp_md* ctx, const struct dpdkudp_port_owners* owners, __u32 saddr,
                                         __u16 sport) {
  __u32 count = owners->count;
  if (count == 0 || count > DPDKUDP_MAX_SHARERS) {
    return XDP_PASS;
  }
  __u32 pick = 0;
  if (count > 1 && (owners->reuseport & 1) == 0) {
    pick = count - 1;
  } else if (count > 1) {
    __u32 h = (saddr ^ ((__u32)sport << 16) ^ (__u32)sport) * 0x9E3779B1u;
    pick = (h >> 16) % count;
  }
  // The hash's choice, or when its process has just died (the kernel took
  // its XSK out of the map; the C++ side drops it from the owners a moment
  // later) the next live one: a dead sharer loses nothing in between.
#pragma unroll
  for (__u32 k = 0; k < DPDKUDP_MAX_SHARERS; k++) {
    __u32 i = pick + k;
    if (i >= count) {
      i -= count;
    }
    // The verifier cannot bound a modulo: check explicitly, where the
    // compiler (which can) does not drop the check.
    asm volatile("" : "+r"(i));
    if (k < count && i < DPDKUDP_MAX_SHARERS && has_xsk(ctx, &owners->owner[i])) {
      return to_owner(ctx, &owners->owner[i]);
    }
  }
  return XDP_PASS;
}

// A bit per member slot of a group's members (count already checked).
static __always_inline __u32 member_slots(const struct dpdkudp_port_owners* members, __u32 count) {
  __u32 joined = 0;
#pragma unroll
  for (int i = 0; i < DPDKUDP_MAX_SHARERS; i++) {
    if ((__u32)i < count && members->owner[i].slot < DPDKUDP_MAX_MEMBERS) {
      joined |= 1u << members->owner[i].slot;
    }
  }
  return joined;
}

// A group's datagram: among the port's owners, those whose process joined
// the group (a bit per member slot in `joined`), one by the source hash.
static __always_inline int to_joined_owner(struct xdp_md* ctx, const struct dpdkudp_port_owners* owners, __u32 joined,
                                           __u32 saddr, __u16 sport) {
  __u32 count = owners->count;
  if (count == 0 || count > DPDKUDP_MAX_SHARERS) {
    return XDP_PASS;
  }
  __u32 eligible = 0;
#pragma unroll
  for (int i = 0; i < DPDKUDP_MAX_SHARERS; i++) {
    if ((__u32)i < count && owners->owner[i].slot < DPDKUDP_MAX_MEMBERS &&
        ((joined >> owners->owner[i].slot) & 1) != 0) {
      eligible++;
    }
  }
  if (eligible == 0) {
    return XDP_PASS;
  }
  __u32 h = (saddr ^ ((__u32)sport << 16) ^ (__u32)sport) * 0x9E3779B1u;
  __u32 pick = (h >> 16) % eligible;
#pragma unroll
  for (int i = 0; i < DPDKUDP_MAX_SHARERS; i++) {
    if ((__u32)i < count && owners->owner[i].slot < DPDKUDP_MAX_MEMBERS &&
        ((joined >> owners->owner[i].slot) & 1) != 0) {
      if (pick == 0) {
        return to_owner(ctx, &owners->owner[i]);
      }
      pick--;
    }
  }
  return XDP_PASS;
}

static __always_inline int steer_ipv4_group(struct xdp_md* ctx, struct iphdr* ip, void* data_end) {
  __u32 group = ip->daddr;
  const struct dpdkudp_port_owners* members = bpf_map_lookup_elem(&dpdkudp_groups, &group);
  if (!members) {
    return XDP_PASS;  // nobody's stack joined it: the kernel's
  }
  __u32 count = members->count;
  if (count == 0 || count > DPDKUDP_MAX_SHARERS) {
    return XDP_PASS;
  }
  if (ip->protocol == IPPROTO_IGMP) {
    return to_owner(ctx, &members->owner[0]);
  }
  // A fragment cannot be matched to a port: the kernel's.
  if (ip->protocol != IPPROTO_UDP || (ip->frag_off & bpf_htons(0x3fff)) != 0) {
    return XDP_PASS;
  }
  struct udphdr* udp = (void*)((__u8*)ip + ip->ihl * 4);
  if ((void*)(udp + 1) > data_end) {
    return XDP_PASS;
  }
  __u32 joined = member_slots(members, count);
  struct dpdkudp_port_key key = {.addr = group, .port = udp->dest, .pad = 0};
  const struct dpdkudp_port_owners* owners = bpf_map_lookup_elem(&dpdkudp_ports, &key);
  if (!owners) {
    key.addr = 0;
    owners = bpf_map_lookup_elem(&dpdkudp_ports, &key);
  }
  return owners ? to_joined_owner(ctx, owners, joined, ip->saddr, udp->source) : XDP_PASS;
}

#define DPDKUDP_NEXTHDR_HOP 0
#define DPDKUDP_NEXTHDR_ROUTING 43
#define DPDKUDP_NEXTHDR_DEST 60
#define DPDKUDP_ICMPV6_NS 135
#define DPDKUDP_ICMPV6_NA 136
#define DPDKUDP_MLD_QUERY 130
#define DPDKUDP_MLD_V1_REPORT 131
#define DPDKUDP_MLD_V1_DONE 132
#define DPDKUDP_MLD_V2_REPORT 143

// An extension header's first two octets (RFC 8200 §4).
struct ext_hdr {
  __u8 nexthdr;
  __u8 len;  // 8-octet units past the first 8
};

static __always_inline int steer_ipv6(struct xdp_md* ctx, void* l3, void* data_end) {
  struct ipv6hdr* ip6 = l3;
  if ((void*)(ip6 + 1) > data_end) {
    return XDP_PASS;
  }
  __u8 nexthdr = ip6->nexthdr;
  __u8* l4 = (__u8*)(ip6 + 1);
#pragma unroll
  for (int i = 0; i < 4; i++) {
    if (nexthdr != DPDKUDP_NEXTHDR_HOP && nexthdr != DPDKUDP_NEXTHDR_ROUTING && nexthdr != DPDKUDP_NEXTHDR_DEST) {
      break;
    }
    struct ext_hdr* h = (void*)l4;
    if ((void*)(h + 1) > data_end) {
      return XDP_PASS;
    }
    nexthdr = h->nexthdr;
    l4 += ((__u32)h->len + 1) * 8;
  }
  __u32 saddr_hash = ip6->saddr.in6_u.u6_addr32[0] ^ ip6->saddr.in6_u.u6_addr32[1] ^ ip6->saddr.in6_u.u6_addr32[2] ^
                     ip6->saddr.in6_u.u6_addr32[3];
  // A group some process joined: its MLD and its datagrams to our ports.
  if (ip6->daddr.in6_u.u6_addr8[0] == 0xff) {
    struct dpdkudp_addr6 group;
    __builtin_memcpy(group.addr, &ip6->daddr, 16);
    const struct dpdkudp_port_owners* members = bpf_map_lookup_elem(&dpdkudp_groups6, &group);
    if (members) {
      __u32 count = members->count;
      if (count == 0 || count > DPDKUDP_MAX_SHARERS) {
        return XDP_PASS;
      }
      if (nexthdr == IPPROTO_ICMPV6) {
        __u8* icmp = l4;
        if ((void*)(icmp + 1) > data_end) {
          return XDP_PASS;
        }
        if (icmp[0] == DPDKUDP_MLD_QUERY || icmp[0] == DPDKUDP_MLD_V1_REPORT || icmp[0] == DPDKUDP_MLD_V1_DONE ||
            icmp[0] == DPDKUDP_MLD_V2_REPORT) {
          return to_owner(ctx, &members->owner[0]);
        }
      } else if (nexthdr == IPPROTO_UDP) {
        struct udphdr* udp = (void*)l4;
        if ((void*)(udp + 1) > data_end) {
          return XDP_PASS;
        }
        __u32 joined = member_slots(members, count);
        struct dpdkudp_port6_key key = {.port = udp->dest, .pad = 0};
        __builtin_memcpy(key.addr, &ip6->daddr, 16);
        const struct dpdkudp_port_owners* owners = bpf_map_lookup_elem(&dpdkudp_ports6, &key);
        if (!owners) {
          __builtin_memset(key.addr, 0, 16);
          owners = bpf_map_lookup_elem(&dpdkudp_ports6, &key);
        }
        return owners ? to_joined_owner(ctx, owners, joined, saddr_hash, udp->source) : XDP_PASS;
      }
    } else if (nexthdr == IPPROTO_UDP) {
      return XDP_PASS;  // a group nobody joined: the kernel's
    }
  }
  if (nexthdr == IPPROTO_UDP) {
    struct udphdr* udp = (void*)l4;
    if ((void*)(udp + 1) > data_end) {
      return XDP_PASS;
    }
    struct dpdkudp_port6_key key = {.port = udp->dest, .pad = 0};
    __builtin_memcpy(key.addr, &ip6->daddr, 16);
    const struct dpdkudp_port_owners* owners = bpf_map_lookup_elem(&dpdkudp_ports6, &key);
    if (owners) {
      return to_port_owner(ctx, owners, saddr_hash, udp->source);
    }
    __builtin_memset(key.addr, 0, 16);
    owners = bpf_map_lookup_elem(&dpdkudp_ports6, &key);
    if (owners) {
      return to_port_owner(ctx, owners, saddr_hash, udp->source);
    }
  }
  struct dpdkudp_addr6 dst;
  __builtin_memcpy(dst.addr, &ip6->daddr, 16);
  const struct dpdkudp_owner* owner = bpf_map_lookup_elem(&dpdkudp_addrs6, &dst);
  if (owner) {
    // An advertisement about a neighbour a member solicited: that member.
    if (nexthdr == IPPROTO_ICMPV6) {
      __u8* icmp = l4;
      if ((void*)(icmp + 24) <= data_end && icmp[0] == DPDKUDP_ICMPV6_NA) {
        struct dpdkudp_addr6 target;
        __builtin_memcpy(target.addr, icmp + 8, 16);
        const struct dpdkudp_owner* asker = bpf_map_lookup_elem(&dpdkudp_resolving6, &target);
        if (asker) {
          return to_owner(ctx, asker);
        }
      }
    }
    return to_owner(ctx, owner);
  }
  // A solicitation (or advertisement) to a multicast group about one of the
  // served addresses: its target field, 8 octets into the message.
  if (nexthdr == IPPROTO_ICMPV6 && dst.addr[0] == 0xff) {
    __u8* icmp = l4;
    if ((void*)(icmp + 24) > data_end) {
      return XDP_PASS;
    }
    if (icmp[0] != DPDKUDP_ICMPV6_NS && icmp[0] != DPDKUDP_ICMPV6_NA) {
      return XDP_PASS;
    }
    struct dpdkudp_addr6 target;
    __builtin_memcpy(target.addr, icmp + 8, 16);
    owner = bpf_map_lookup_elem(&dpdkudp_addrs6, &target);
    if (owner) {
      return to_owner(ctx, owner);
    }
  }
  return XDP_PASS;
}

SEC("xdp")
int xdp_udp_steer(struct xdp_md* ctx) {
  void* data = (void*)(long)ctx->data;
  void* data_end = (void*)(long)ctx->data_end;

  struct ethhdr* eth = data;
  if ((void*)(eth + 1) > data_end) {
    return XDP_PASS;
  }
  __be16 proto = eth->h_proto;
  void* l3 = eth + 1;
  if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
    struct vlan_tag* tag = l3;
    if ((void*)(tag + 1) > data_end) {
      return XDP_PASS;
    }
    proto = tag->proto;
    l3 = tag + 1;
  }

  if (proto == bpf_htons(ETH_P_ARP)) {
    struct arp_ipv4* arp = l3;
    if ((void*)(arp + 1) > data_end) {
      return XDP_PASS;
    }
    if (arp->htype != bpf_htons(1) || arp->ptype != bpf_htons(ETH_P_IP) || arp->hlen != 6 || arp->plen != 4) {
      return XDP_PASS;
    }
    __u32 target;
    __builtin_memcpy(&target, arp->tpa, sizeof(target));
    const struct dpdkudp_owner* owner = bpf_map_lookup_elem(&dpdkudp_addrs, &target);
    if (!owner) {
      return XDP_PASS;
    }
    if (arp->op == bpf_htons(2)) {
      __u32 sender;
      __builtin_memcpy(&sender, arp->spa, sizeof(sender));
      const struct dpdkudp_owner* asker = bpf_map_lookup_elem(&dpdkudp_resolving, &sender);
      if (asker) {
        return to_owner(ctx, asker);
      }
    }
    return to_owner(ctx, owner);
  }

  if (proto == bpf_htons(ETH_P_IPV6)) {
    return steer_ipv6(ctx, l3, data_end);
  }
  if (proto != bpf_htons(ETH_P_IP)) {
    return XDP_PASS;
  }
  struct iphdr* ip = l3;
  if ((void*)(ip + 1) > data_end) {
    return XDP_PASS;
  }
  if (ip->version != 4 || ip->ihl < 5) {
    return XDP_PASS;
  }
  __u32 daddr = ip->daddr;
  if ((daddr & bpf_htonl(0xf0000000)) == bpf_htonl(0xe0000000)) {
    return steer_ipv4_group(ctx, ip, data_end);
  }
  // Fragments (MF set or a non-zero offset) are not looked up by port: the
  // kernel reassembles them, or the dedicated address's stack does.
  if (ip->protocol == IPPROTO_UDP && (ip->frag_off & bpf_htons(0x3fff)) == 0) {
    struct udphdr* udp = (void*)((__u8*)ip + ip->ihl * 4);
    if ((void*)(udp + 1) > data_end) {
      return XDP_PASS;
    }
    struct dpdkudp_port_key key = {.addr = daddr, .port = udp->dest, .pad = 0};
    const struct dpdkudp_port_owners* owners = bpf_map_lookup_elem(&dpdkudp_ports, &key);
    if (owners) {
      return to_port_owner(ctx, owners, ip->saddr, udp->source);
    }
    key.addr = 0;
    owners = bpf_map_lookup_elem(&dpdkudp_ports, &key);
    if (owners) {
      return to_port_owner(ctx, owners, ip->saddr, udp->source);
    }
  }
  const struct dpdkudp_owner* owner = bpf_map_lookup_elem(&dpdkudp_addrs, &daddr);
  return owner ? to_owner(ctx, owner) : XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
