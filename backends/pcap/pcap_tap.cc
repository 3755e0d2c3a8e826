#include "backends/pcap/pcap_tap.h"

#include <pcap/pcap.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace dpdkudp {

namespace {

constexpr int kSnapLen = 65535;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

PcapTap::PcapTap(Backend& inner, const std::string& path)
    : inner_(inner), name_("pcap(" + std::string(inner.name()) + ")") {
  pcap_ = pcap_open_dead(DLT_EN10MB, kSnapLen);
  if (pcap_ == nullptr) {
    throw std::runtime_error("PcapTap: pcap_open_dead failed");
  }
  dumper_ = pcap_dump_open(pcap_, path.c_str());
  if (dumper_ == nullptr) {
    const std::string error = pcap_geterr(pcap_);
    pcap_close(pcap_);
    throw std::runtime_error("PcapTap: " + path + ": " + error);
  }
}

PcapTap::~PcapTap() {
  pcap_dump_flush(dumper_);
  pcap_dump_close(dumper_);
  pcap_close(pcap_);
}

void PcapTap::write_frame(const uint8_t* data, uint32_t len, int64_t time_ns) {
  pcap_pkthdr header{};
  header.ts.tv_sec = static_cast<time_t>(time_ns / 1'000'000'000);
  header.ts.tv_usec = static_cast<suseconds_t>(time_ns % 1'000'000'000 / 1'000);
  header.len = len;
  header.caplen = std::min<uint32_t>(len, kSnapLen);
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &header, data);
  ++frames_written_;
}

size_t PcapTap::rx_burst(uint16_t queue, std::span<Packet*> out) {
  const size_t n = inner_.rx_burst(queue, out);
  if (n == 0) {
    return 0;
  }
  const int64_t time = now_ns();
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < n; ++i) {
    write_frame(out[i]->data, out[i]->len, time);
  }
  return n;
}

size_t PcapTap::tx_burst(uint16_t queue, std::span<Packet* const> pkts) {
  std::lock_guard lock(mutex_);
  tx_bytes_.clear();
  tx_lens_.clear();
  for (const Packet* pkt : pkts) {
    tx_bytes_.insert(tx_bytes_.end(), pkt->data, pkt->data + pkt->len);
    tx_lens_.push_back(pkt->len);
  }
  const int64_t time = now_ns();
  const size_t taken = inner_.tx_burst(queue, pkts);
  size_t offset = 0;
  for (size_t i = 0; i < taken; ++i) {
    write_frame(tx_bytes_.data() + offset, tx_lens_[i], time);
    offset += tx_lens_[i];
  }
  return taken;
}

void PcapTap::flush() {
  std::lock_guard lock(mutex_);
  pcap_dump_flush(dumper_);
}

uint64_t PcapTap::frames_written() const {
  std::lock_guard lock(mutex_);
  return frames_written_;
}

}  // namespace dpdkudp
