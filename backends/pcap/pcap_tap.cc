#include "backends/pcap/pcap_tap.h"

#include <pcap/pcap.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace dpdkudp {

namespace {

constexpr int kSnapLen = 65535;
// The sizes of a pcap file's header and of each record's header.
constexpr uint64_t kFileHeaderBytes = 24;
constexpr uint64_t kRecordHeaderBytes = 16;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

PcapTap::PcapTap(std::unique_ptr<Backend> inner, const std::string& path, uint64_t limit_bytes)
    : PcapTap(*inner, path, limit_bytes, true) {
  owned_ = std::move(inner);
}

PcapTap::PcapTap(Backend& inner, const std::string& path, uint64_t limit_bytes)
    : PcapTap(inner, path, limit_bytes, false) {}

PcapTap::PcapTap(Backend& inner, const std::string& path, uint64_t limit_bytes, bool flush_each_burst)
    : inner_(inner),
      limit_bytes_(limit_bytes),
      flush_each_burst_(flush_each_burst),
      file_bytes_(kFileHeaderBytes),
      name_("pcap(" + std::string(inner.name()) + ")") {
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
  const uint64_t record = kRecordHeaderBytes + header.caplen;
  if (limit_bytes_ != 0 && file_bytes_ + record > limit_bytes_) {
    ++frames_left_out_;
    return;
  }
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &header, data);
  file_bytes_ += record;
  ++frames_written_;
}

void PcapTap::after_burst() {
  if (flush_each_burst_) pcap_dump_flush(dumper_);
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
  after_burst();
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
  if (taken != 0) after_burst();
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

uint64_t PcapTap::frames_left_out() const {
  std::lock_guard lock(mutex_);
  return frames_left_out_;
}

}  // namespace dpdkudp
