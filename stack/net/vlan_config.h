// The interface's 802.1Q behaviour: the three modes a Linux host or switch
// port offers. Header-only, so the engine's configuration can hold it.
//
//   port tagging  RX: only frames tagged with `vid` (untagged dropped);
//                 TX: every frame tagged `vid`. Linux's eth0.100.
//   access        RX: untagged frames and frames tagged `vid`, the tag
//                 stripped; TX: untagged.
//   trunk         RX: frames tagged with any VID of {vid} + `allowed`, and
//                 untagged ones when a `native` VLAN is set (they belong to
//                 it); TX: tagged. A neighbour is answered on the VLAN it
//                 was heard on (the neighbour cache keeps it); resolving a
//                 new one asks on every VLAN of the trunk (`vid` first, at
//                 most 64), and the answer says where it is. Announcements
//                 go on `vid`. The native VLAN's frames go untagged both
//                 ways.
//
// Tagged frames carry `pcp` (802.1p priority). VID 0 (priority-tagged)
// counts as untagged on receive.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

namespace dpdkudp::stack {

enum class VlanMode : uint8_t { kPortTagging, kAccess, kTrunk };

inline std::string_view vlan_mode_name(VlanMode mode) {
  switch (mode) {
    case VlanMode::kPortTagging: return "port-tagging";
    case VlanMode::kAccess: return "access";
    case VlanMode::kTrunk: return "trunk";
  }
  return "?";
}

struct VlanConfig {
  static constexpr uint16_t kMaxVid = 4094;  // 4095 is reserved (802.1Q)

  uint16_t vid = 0;  // 0: no VLAN handling at all (untagged only)
  VlanMode mode = VlanMode::kPortTagging;
  std::vector<uint16_t> allowed;  // trunk: further VIDs accepted
  uint16_t native = 0;            // trunk: untagged frames' VLAN; 0: none
  uint8_t pcp = 0;                // priority code point of tagged frames
  // Tags inserted and parsed by the stack even when the device offers
  // VLAN insert/strip (the frames on the wire are the same either way).
  bool software = false;

  bool enabled() const { return vid != 0; }
  // Every VID a trunk accepts: vid, the allowed ones and the native one.
  bool trunk_accepts(uint16_t v) const {
    return v == vid || v == native || std::find(allowed.begin(), allowed.end(), v) != allowed.end();
  }
  friend bool operator==(const VlanConfig&, const VlanConfig&) = default;
};

}  // namespace dpdkudp::stack
