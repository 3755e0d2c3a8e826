#include "stack/wire/ipv6.h"

#include <algorithm>
#include <utility>

namespace dpdkudp::wire {

std::optional<Ipv6Packet> Ipv6Packet::parse_quoted(std::span<const uint8_t> bytes, Error* error) {
  if (bytes.size() < kHeaderLen) return fail(error, Error::kTruncated);
  const uint8_t* p = bytes.data();
  if ((p[kVersionClassFlowOffset] >> 4) != 6) return fail(error, Error::kBadVersion);
  size_t payload_len = load_be16(p + kPayloadLenOffset);
  return Ipv6Packet(p, std::min(payload_len, bytes.size() - kHeaderLen));
}

Ipv6Repr Ipv6Repr::parse(const Ipv6Packet& packet) {
  return Ipv6Repr{packet.src(),       packet.dst(),           packet.next_header(), packet.payload_len(),
                  packet.hop_limit(), packet.traffic_class(), packet.flow_label()};
}

void Ipv6Repr::emit(std::span<uint8_t> out) const {
  uint8_t* p = out.data();
  store_be32(p + Ipv6Packet::kVersionClassFlowOffset,
             (uint32_t{6} << 28) | (uint32_t{traffic_class} << 20) | (flow_label & Ipv6Packet::kFlowLabelMask));
  store_be16(p + Ipv6Packet::kPayloadLenOffset, payload_len);
  p[Ipv6Packet::kNextHeaderOffset] = next_header;
  p[Ipv6Packet::kHopLimitOffset] = hop_limit;
  src.store(p + Ipv6Packet::kSrcOffset);
  dst.store(p + Ipv6Packet::kDstOffset);
}

Ipv6FragmentRepr Ipv6FragmentRepr::parse(std::span<const uint8_t> bytes) {
  const uint8_t* p = bytes.data();
  uint16_t offset_flags = load_be16(p + kOffsetFlagsOffset);
  return Ipv6FragmentRepr{p[kNextHeaderOffset], static_cast<uint16_t>(offset_flags >> kOffsetShift),
                          (offset_flags & kMoreFragments) != 0, load_be32(p + kIdentOffset)};
}

void Ipv6FragmentRepr::emit(std::span<uint8_t> out) const {
  uint8_t* p = out.data();
  p[kNextHeaderOffset] = next_header;
  p[kNextHeaderOffset + 1] = 0;  // reserved
  auto offset_flags = static_cast<uint16_t>((offset << kOffsetShift) | (more_fragments ? kMoreFragments : 0));
  store_be16(p + kOffsetFlagsOffset, offset_flags);
  store_be32(p + kIdentOffset, ident);
}

namespace {

using Error = Ipv6HeaderChain::Error;

// Checks the options of a Hop-by-Hop or Destination Options header at
// [begin, end) of p (RFC 8200 §4.2): each fits, and none whose type's two
// high bits say discard (01, 10, 11) unless it is one we know (Pad1,
// PadN). Returns the first problem and the offset of its option type, or
// nullopt when all is well.
std::optional<std::pair<Error, size_t>> check_options(const uint8_t* p, size_t begin, size_t end) {
  size_t pos = begin;
  while (pos < end) {  // every step advances at least one octet
    uint8_t type = p[pos];
    if (type == ipv6_ext::kOptionPad1) {
      ++pos;
      continue;
    }
    if (end - pos < 2 || end - pos - 2 < p[pos + 1]) return std::pair{Error::kBadOption, pos};
    if (type != ipv6_ext::kOptionPadN && (type >> 6) != 0) return std::pair{Error::kUnrecognizedOption, pos};
    pos += 2 + size_t{p[pos + 1]};
  }
  return std::nullopt;
}

}  // namespace

std::optional<Ipv6HeaderChain> Ipv6HeaderChain::walk(const Ipv6Packet& packet, Error* error, size_t* pointer) {
  auto fail = [error, pointer](Error e, size_t at) -> std::optional<Ipv6HeaderChain> {
    if (error) *error = e;
    if (pointer) *pointer = at;
    return std::nullopt;
  };
  const uint8_t* p = packet.bytes().data();
  const size_t end = packet.bytes().size();
  Ipv6HeaderChain chain;
  uint8_t next = packet.next_header();
  size_t next_field = Ipv6Packet::kNextHeaderOffset;  // where `next` was read
  size_t pos = Ipv6Packet::kHeaderLen;                // where the header it names starts
  for (;;) {
    switch (next) {
      case ip_proto::kHopByHop:
      case ip_proto::kRouting:
      case ip_proto::kDestOptions:
      case ip_proto::kFragment: break;
      default:  // the upper layer, or No Next Header (§4.7: what follows is ignored)
        chain.upper_protocol = next;
        chain.upper_offset = pos;
        return chain;
    }
    // §4: "a Next Header value of zero in any header other than an IPv6
    // header" is treated as unrecognized.
    if (next == ip_proto::kHopByHop && pos != Ipv6Packet::kHeaderLen) {
      return fail(Error::kHopByHopNotFirst, next_field);
    }
    if (chain.extension_headers == kMaxExtensionHeaders) return fail(Error::kTooManyHeaders, next_field);
    ++chain.extension_headers;

    if (next == ip_proto::kFragment) {
      if (end - pos < Ipv6FragmentRepr::kLen) return fail(Error::kTruncated, pos);
      if (chain.fragment) return fail(Error::kRepeatedFragment, next_field);
      Ipv6FragmentRepr fragment = Ipv6FragmentRepr::parse({p + pos, Ipv6FragmentRepr::kLen});
      chain.fragment = true;
      chain.first_fragment = fragment.offset == 0;
      chain.atomic_fragment = fragment.offset == 0 && !fragment.more_fragments;
      chain.fragment_header_offset = pos;
      chain.fragment_header = fragment;
      next_field = pos + Ipv6FragmentRepr::kNextHeaderOffset;
      next = fragment.next_header;
      pos += Ipv6FragmentRepr::kLen;
      if (!chain.first_fragment) {  // the rest is fragment data, not headers
        chain.upper_protocol = next;
        chain.upper_offset = pos;
        return chain;
      }
      continue;
    }

    // Hop-by-Hop, Routing, Destination Options: (length + 1) * 8 octets.
    if (end - pos < ipv6_ext::kLengthUnit) return fail(Error::kTruncated, pos);
    size_t len = (size_t{p[pos + ipv6_ext::kLengthOffset]} + 1) * ipv6_ext::kLengthUnit;
    if (end - pos < len) return fail(Error::kTruncated, pos);
    if (next == ip_proto::kRouting) {
      // We recognise no Routing Type, and we are not a router: §4.4 says
      // ignore the header when Segments Left is 0, else discard.
      if (p[pos + ipv6_ext::kSegmentsLeftOffset] != 0) {
        return fail(Error::kUnsupportedRouting, pos + ipv6_ext::kRoutingTypeOffset);
      }
    } else if (auto bad = check_options(p, pos + ipv6_ext::kOptionsOffset, pos + len)) {
      return fail(bad->first, bad->second);
    }
    next_field = pos + ipv6_ext::kNextHeaderOffset;
    next = p[next_field];
    pos += len;
  }
}

}  // namespace dpdkudp::wire
