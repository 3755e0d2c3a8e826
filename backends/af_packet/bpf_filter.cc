#include "backends/af_packet/bpf_filter.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <limits>

namespace dpdkudp::af_packet {
namespace {

// Frame offsets: EtherType, the EtherType after one 802.1Q tag, and the
// IPv4 fields read relative to the start of the IPv4 header (in X).
constexpr uint32_t kEtherTypeOffset = 12;
constexpr uint32_t kInnerEtherTypeOffset = 16;
constexpr uint32_t kIpv4Untagged = 14;
constexpr uint32_t kIpv4Tagged = 18;
constexpr uint32_t kIpv4ProtocolOffset = 9;
constexpr uint32_t kIpv4DstOffset = 16;
constexpr uint32_t kIpProtoIcmp = 1;
constexpr uint32_t kIpProtoIgmp = 2;
constexpr uint32_t kIpProtoUdp = 17;
constexpr uint32_t kLimitedBroadcast = 0xffffffffu;
// 224.0.0.0/4, the IPv4 multicast range (RFC 5771): dst & mask == prefix.
constexpr uint32_t kMulticastMask = 0xf0000000u;
constexpr uint32_t kMulticastPrefix = 0xe0000000u;
constexpr uint32_t kEtherTypeIpv6 = 0x86dd;
constexpr uint32_t kIpv6NextHeaderOffset = 6;
// Next headers the stack takes: Hop-by-Hop, UDP, Routing, Fragment, ICMPv6,
// Destination Options.
constexpr uint32_t kIpv6Taken[] = {0, 17, 43, 44, 58, 60};
// Return value of an accepting program: how many bytes to keep ("all").
constexpr uint32_t kKeepWholeFrame = std::numeric_limits<uint32_t>::max();

// A tiny assembler: jumps name labels, resolved to cBPF's relative 8-bit
// offsets at the end, so the program below reads top to bottom.
class Assembler {
 public:
  enum Label : int {
    kNext = -1,
    kAccept,
    kDrop,
    kTagged,
    kUntagged,
    kIpv4,
    kCheckDst,
    kCheckMulticast,
    kIpv6Untagged,
    kIpv6Tagged,
    kIpv6,
    kCount
  };

  void stmt(uint16_t code, uint32_t k) { insns_.push_back({code, k, kNext, kNext, false}); }
  void jump(uint16_t code, uint32_t k, Label jt, Label jf) { insns_.push_back({code, k, jt, jf, false}); }
  void jump_always(Label to) { insns_.push_back({BPF_JMP | BPF_JA, 0, to, kNext, true}); }
  void bind(Label label) { labels_[static_cast<size_t>(label)] = insns_.size(); }

  // Empty when a conditional jump is further than 255 instructions.
  std::vector<sock_filter> finish() const {
    std::vector<sock_filter> program;
    program.reserve(insns_.size());
    for (size_t i = 0; i < insns_.size(); ++i) {
      const Insn& insn = insns_[i];
      sock_filter out{insn.code, 0, 0, insn.k};
      if (insn.always) {
        out.k = static_cast<uint32_t>(distance(i, insn.jt));
      } else if ((insn.code & 0x07) == BPF_JMP) {
        const size_t jt = distance(i, insn.jt);
        const size_t jf = distance(i, insn.jf);
        if (jt > 255 || jf > 255) {
          return {};
        }
        out.jt = static_cast<uint8_t>(jt);
        out.jf = static_cast<uint8_t>(jf);
      }
      program.push_back(out);
    }
    return program;
  }

 private:
  struct Insn {
    uint16_t code;
    uint32_t k;
    Label jt;
    Label jf;
    bool always;
  };
  // Instructions to skip from the one after i to reach label.
  size_t distance(size_t i, Label label) const {
    return label == kNext ? 0 : labels_[static_cast<size_t>(label)] - i - 1;
  }

  std::vector<Insn> insns_;
  std::array<size_t, kCount> labels_{};
};

}  // namespace

std::vector<sock_filter> build_filter(const FilterSpec& spec) {
  if (spec.addresses.size() > kMaxFilterAddresses) {
    return {};
  }
  using A = Assembler;
  A a;
  // Ancillary load of skb->pkt_type (filter.rst, "SKF_AD_PKTTYPE").
  a.stmt(BPF_LD | BPF_W | BPF_ABS, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE));
  a.jump(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, A::kDrop, A::kNext);
  if (!spec.promiscuous) {
    a.jump(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OTHERHOST, A::kDrop, A::kNext);
  }

  a.stmt(BPF_LD | BPF_H | BPF_ABS, kEtherTypeOffset);
  a.jump(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, A::kAccept, A::kNext);
  a.jump(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, A::kUntagged, A::kNext);
  if (spec.ipv6) a.jump(BPF_JMP | BPF_JEQ | BPF_K, kEtherTypeIpv6, A::kIpv6Untagged, A::kNext);
  a.jump(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_8021Q, A::kTagged, A::kDrop);

  a.bind(A::kTagged);
  a.stmt(BPF_LD | BPF_H | BPF_ABS, kInnerEtherTypeOffset);
  a.jump(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, A::kAccept, A::kNext);
  if (spec.ipv6) a.jump(BPF_JMP | BPF_JEQ | BPF_K, kEtherTypeIpv6, A::kIpv6Tagged, A::kNext);
  a.jump(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, A::kNext, A::kDrop);
  a.stmt(BPF_LDX | BPF_W | BPF_IMM, kIpv4Tagged);
  a.jump_always(A::kIpv4);

  if (spec.ipv6) {
    // X = offset of the IPv6 header; the next header decides.
    a.bind(A::kIpv6Tagged);
    a.stmt(BPF_LDX | BPF_W | BPF_IMM, kIpv4Tagged);
    a.jump_always(A::kIpv6);
    a.bind(A::kIpv6Untagged);
    a.stmt(BPF_LDX | BPF_W | BPF_IMM, kIpv4Untagged);
    a.bind(A::kIpv6);
    a.stmt(BPF_LD | BPF_B | BPF_IND, kIpv6NextHeaderOffset);
    for (size_t i = 0; i < std::size(kIpv6Taken); ++i) {
      a.jump(BPF_JMP | BPF_JEQ | BPF_K, kIpv6Taken[i], A::kAccept,
             i + 1 == std::size(kIpv6Taken) ? A::kDrop : A::kNext);
    }
  }

  a.bind(A::kUntagged);
  a.stmt(BPF_LDX | BPF_W | BPF_IMM, kIpv4Untagged);

  // X = offset of the IPv4 header. A load past the end of the frame ends
  // the program with 0 (drop), so a truncated header needs no check.
  a.bind(A::kIpv4);
  if (spec.addresses.empty()) {
    a.jump_always(A::kAccept);
  } else {
    a.stmt(BPF_LD | BPF_B | BPF_IND, kIpv4ProtocolOffset);
    a.jump(BPF_JMP | BPF_JEQ | BPF_K, kIpProtoUdp, A::kCheckDst, A::kNext);
    a.jump(BPF_JMP | BPF_JEQ | BPF_K, kIpProtoIcmp, A::kCheckDst, A::kNext);
    a.jump(BPF_JMP | BPF_JEQ | BPF_K, kIpProtoIgmp, A::kCheckMulticast, A::kDrop);
    a.bind(A::kCheckDst);
    // BPF_W loads are big-endian (network order) into A: compare to the
    // host-order address as is.
    a.stmt(BPF_LD | BPF_W | BPF_IND, kIpv4DstOffset);
    for (uint32_t address : spec.addresses) {
      a.jump(BPF_JMP | BPF_JEQ | BPF_K, address, A::kAccept, A::kNext);
    }
    a.jump(BPF_JMP | BPF_JEQ | BPF_K, kLimitedBroadcast, A::kAccept, A::kNext);
    // Not a listed address: UDP may still go to a group, ICMP may not.
    // The protocol is read again (A holds the destination).
    a.stmt(BPF_LD | BPF_B | BPF_IND, kIpv4ProtocolOffset);
    a.jump(BPF_JMP | BPF_JEQ | BPF_K, kIpProtoUdp, A::kCheckMulticast, A::kDrop);
    // UDP and IGMP: a multicast destination. The AND overwrites A, so this
    // comes after every compare of the whole address.
    a.bind(A::kCheckMulticast);
    a.stmt(BPF_LD | BPF_W | BPF_IND, kIpv4DstOffset);
    a.stmt(BPF_ALU | BPF_AND | BPF_K, kMulticastMask);
    a.jump(BPF_JMP | BPF_JEQ | BPF_K, kMulticastPrefix, A::kAccept, A::kDrop);
  }

  a.bind(A::kAccept);
  a.stmt(BPF_RET | BPF_K, kKeepWholeFrame);
  a.bind(A::kDrop);
  a.stmt(BPF_RET | BPF_K, 0);
  return a.finish();
}

int attach_filter(int fd, std::span<const sock_filter> program) {
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(program.size());
  fprog.filter = const_cast<sock_filter*>(program.data());  // the API is not const
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) != 0) {
    return errno;
  }
  return 0;
}

}  // namespace dpdkudp::af_packet
