#include "stack/wire/tunnel.h"

#include <cstring>

#include "stack/wire/ip_proto.h"

namespace dpdkudp::wire {

namespace {

template <typename E>
std::nullopt_t fail(E* error, E e) {
  if (error) *error = e;
  return std::nullopt;
}

}  // namespace

std::optional<VxlanHeader> VxlanHeader::parse(std::span<const uint8_t> bytes, Error* error) {
  if (bytes.size() < kLen) return fail(error, Error::kTruncated);
  if ((bytes[0] & kFlagVni) == 0) return fail(error, Error::kNoVni);
  return VxlanHeader(bytes.data());
}

void emit_vxlan(uint8_t* out, uint32_t vni) {
  store_be32(out, uint32_t{VxlanHeader::kFlagVni} << 24);
  store_be32(out + 4, (vni & 0xffffff) << 8);
}

std::optional<GeneveHeader> GeneveHeader::parse(std::span<const uint8_t> bytes, Error* error) {
  if (bytes.size() < kFixedLen) return fail(error, Error::kTruncated);
  if ((bytes[0] >> 6) != 0) return fail(error, Error::kBadVersion);
  size_t opt_len = size_t{static_cast<uint8_t>(bytes[0] & 0x3f)} * 4;
  if (bytes.size() < kFixedLen + opt_len) return fail(error, Error::kTruncated);
  // Every option's length must end inside opt_len exactly (§3.5).
  std::span<const uint8_t> o = bytes.subspan(kFixedLen, opt_len);
  while (!o.empty()) {
    if (o.size() < 4) return fail(error, Error::kBadOptions);
    size_t len = 4 + size_t{static_cast<uint8_t>(o[3] & 0x1f)} * 4;
    if (len > o.size()) return fail(error, Error::kBadOptions);
    o = o.subspan(len);
  }
  return GeneveHeader(bytes.data());
}

void emit_geneve(uint8_t* out, uint32_t vni, uint16_t protocol, std::span<const uint8_t> options) {
  out[0] = static_cast<uint8_t>(options.size() / 4);
  out[1] = 0;
  store_be16(out + 2, protocol);
  store_be32(out + 4, (vni & 0xffffff) << 8);
  if (!options.empty()) std::memcpy(out + GeneveHeader::kFixedLen, options.data(), options.size());
}

std::optional<GueHeader> GueHeader::parse(std::span<const uint8_t> bytes, Error* error) {
  if (bytes.empty()) return fail(error, Error::kTruncated);
  switch (bytes[0] >> 6) {
    case 0: {
      if (bytes.size() < kLen) return fail(error, Error::kTruncated);
      if ((bytes[0] & 0x20) != 0) return fail(error, Error::kControl);
      size_t len = kLen + size_t{static_cast<uint8_t>(bytes[0] & 0x1f)} * 4;
      if (bytes.size() < len) return fail(error, Error::kTruncated);
      uint8_t proto = bytes[1];
      if (proto != ip_proto::kIpip && proto != ip_proto::kIpv6) return fail(error, Error::kBadProtocol);
      return GueHeader(len, proto);
    }
    case 1:  // direct IP: the version nibble is 4 (0100) or 6 (0110)
      switch (bytes[0] >> 4) {
        case 4: return GueHeader(0, ip_proto::kIpip);
        case 6: return GueHeader(0, ip_proto::kIpv6);
        default: return fail(error, Error::kBadProtocol);
      }
    default: return fail(error, Error::kBadVersion);
  }
}

void emit_gue(uint8_t* out, uint8_t protocol) {
  out[0] = 0;
  out[1] = protocol;
  out[2] = 0;
  out[3] = 0;
}

}  // namespace dpdkudp::wire
