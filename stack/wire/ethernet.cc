#include "stack/wire/ethernet.h"

namespace dpdkudp::wire {

std::optional<EthernetRepr> EthernetRepr::parse(std::span<const uint8_t> frame) {
  auto eth = EthernetFrame::parse(frame);
  if (!eth) return std::nullopt;
  EthernetRepr repr{eth->dst(), eth->src(), eth->ethertype(), std::nullopt};
  if (repr.ethertype == ethertype::kVlan) {
    auto tag = VlanTag::parse(eth->payload());
    if (!tag) return std::nullopt;
    uint16_t inner = tag->inner_ethertype();
    if (inner == ethertype::kVlan || inner == ethertype::kQinQ) return std::nullopt;
    repr.vlan_tci = tag->tci();
    repr.ethertype = inner;
  } else if (repr.ethertype == ethertype::kQinQ) {
    return std::nullopt;
  }
  return repr;
}

void EthernetRepr::emit(std::span<uint8_t> out) const {
  uint8_t* p = out.data();
  store_mac(p + EthernetFrame::kDstOffset, dst);
  store_mac(p + EthernetFrame::kSrcOffset, src);
  if (vlan_tci) {
    store_be16(p + EthernetFrame::kEtherTypeOffset, ethertype::kVlan);
    store_be16(p + EthernetFrame::kHeaderLen + VlanTag::kTciOffset, *vlan_tci);
    store_be16(p + EthernetFrame::kHeaderLen + VlanTag::kInnerTypeOffset, ethertype);
  } else {
    store_be16(p + EthernetFrame::kEtherTypeOffset, ethertype);
  }
}

}  // namespace dpdkudp::wire
