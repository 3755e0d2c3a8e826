// A debugging wrapper: forwards everything to another Backend and writes
// every frame it sees to a pcap file (Ethernet link type), readable by
// tcpdump/Wireshark.
//
//   PcapTap tap(*backend, "/tmp/trace.pcap");   // use tap instead of backend
//
// Captured:
//  - rx_burst: each frame the inner backend returns, as the stack gets it
//    (after the device's RX offloads, e.g. with a VLAN tag already
//    stripped).
//  - tx_burst: each frame the inner backend accepts, as the stack handed it
//    over (before TX offloads, so checksums may be partial and an inserted
//    tag absent — what tcpdump shows on a host with offloads). The bytes
//    are copied before the hand-over, since an accepted packet belongs to
//    the backend and may already be gone when tx_burst returns; frames the
//    backend refuses are not written (they will be sent again).
// A mutex serialises all of it: this is a debugging tool, not a fast path.
// The file is flushed and closed on destruction (or by flush()).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "backends/api/backend.h"

struct pcap;
struct pcap_dumper;

namespace dpdkudp {

class PcapTap final : public Backend {
 public:
  // inner must outlive the tap. Throws std::runtime_error when the file
  // cannot be opened. limit_bytes: the file stops growing at that size
  // (frames after it are counted as left out, not written); 0: no limit.
  PcapTap(Backend& inner, const std::string& path, uint64_t limit_bytes = 0);
  // The same, owning inner (DPDKUDP_CAPTURE's wrapper). Each burst is
  // flushed to the file, so it can be read while the program runs and
  // holds everything up to a kill.
  PcapTap(std::unique_ptr<Backend> inner, const std::string& path, uint64_t limit_bytes);
  ~PcapTap() override;

  PcapTap(const PcapTap&) = delete;
  PcapTap& operator=(const PcapTap&) = delete;

  std::string_view name() const override { return name_; }
  MacAddr mac() const override { return inner_.mac(); }
  const Capabilities& capabilities() const override { return inner_.capabilities(); }

  size_t rx_burst(uint16_t queue, std::span<Packet*> out) override;
  size_t alloc(std::span<Packet*> out) override { return inner_.alloc(out); }
  size_t tx_burst(uint16_t queue, std::span<Packet* const> pkts) override;
  void release(std::span<Packet* const> pkts) override { inner_.release(pkts); }

  int wait_fd(uint16_t queue) const override { return inner_.wait_fd(queue); }
  void arm_wait(uint16_t queue) override { inner_.arm_wait(queue); }

  BackendStats stats() const override { return inner_.stats(); }
  int set_multicast_mac(const MacAddr& mac, bool on) override { return inner_.set_multicast_mac(mac, on); }

  void flush();
  uint64_t frames_written() const;
  uint64_t frames_left_out() const;

 private:
  // Caller holds mutex_.
  void write_frame(const uint8_t* data, uint32_t len, int64_t time_ns);
  void after_burst();
  PcapTap(Backend& inner, const std::string& path, uint64_t limit_bytes, bool flush_each_burst);

  std::unique_ptr<Backend> owned_;
  Backend& inner_;
  const uint64_t limit_bytes_;
  const bool flush_each_burst_;
  uint64_t file_bytes_ = 0;
  uint64_t frames_left_out_ = 0;
  const std::string name_;
  pcap* pcap_ = nullptr;
  pcap_dumper* dumper_ = nullptr;
  mutable std::mutex mutex_;
  uint64_t frames_written_ = 0;
  // tx_burst copies of frames in flight, reused across calls.
  std::vector<uint8_t> tx_bytes_;
  std::vector<uint32_t> tx_lens_;
};

}  // namespace dpdkudp
