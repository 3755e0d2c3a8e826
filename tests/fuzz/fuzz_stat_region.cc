// libFuzzer target: dpdkudp-stat's reader and printers on corrupt or
// truncated stats regions. The first byte chooses the shape:
//   0: the input is the mapped object itself (truncated, foreign, torn
//      headers): the reader must refuse it with a reason or copy it;
//   1..255: a well-formed header (magic, version, size) over a full-size
//      region whose every other byte repeats the input — counts, names,
//      addresses and tunnels all garbage — mapped whole, or (0x80) cut
//      short at a length the next two bytes pick; 0x40 lets the count of
//      sockets shown be anything.
// Whatever the reader accepts is printed as text, as JSON, as the screen
// --watch redraws on a terminal (with per-socket rates) and in the
// Prometheus format (alone and beside the second region), with rates
// against a second, differently garbage region. Every text field of what
// the reader returns ends within its array; nothing may read outside the
// region (ASan) or be undefined (UBSan).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/stats_shm.h"
#include "tools/stat_format.h"
#include "tools/stat_prometheus.h"
#include "tools/stat_top.h"

namespace st = dpdkudp::engine::stats;

namespace {

// An 8-byte aligned region-sized object: the input repeated from `skew`
// bytes in, under a well-formed header. Unless the shape says otherwise
// (0x40), the number of sockets shown is kept small: printing a thousand
// garbage sockets on every input would make the target crawl, and the
// clamp that matters is tried whenever 0x40 is set.
std::vector<uint64_t> region_from(const uint8_t* data, size_t size, uint8_t shape, size_t skew) {
  std::vector<uint64_t> words((sizeof(st::Region) + 7) / 8);
  auto* bytes = reinterpret_cast<uint8_t*>(words.data());
  if (size != 0) {
    for (size_t at = 0; at < sizeof(st::Region);) {
      const size_t from = (at + skew) % size;
      const size_t n = std::min(size - from, sizeof(st::Region) - at);
      std::memcpy(bytes + at, data + from, n);
      at += n;
    }
  }
  auto* r = reinterpret_cast<st::Region*>(bytes);
  r->magic = st::kMagic;
  r->version = st::kVersion;
  r->size = sizeof(st::Region);
  r->seq &= ~uint64_t{1};  // no writer: an even sequence
  if ((shape & 0x40) == 0) r->sockets_shown %= 8;
  return words;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::FILE* sink = std::fopen("/dev/null", "w");
  if (sink == nullptr) std::abort();
  if (size == 0) return 0;
  const uint8_t shape = data[0];
  ++data;
  --size;
  st::Snapshot snap;
  if (shape == 0) {
    std::vector<uint64_t> aligned((size + 7) / 8 + 1);
    std::memcpy(aligned.data(), data, size);
    snap = st::snapshot_of(aligned.data(), size, "/fuzz");
  } else {
    std::vector<uint64_t> words = region_from(data, size, shape, 0);
    // Mostly whole; sometimes cut short at a length the input picks.
    size_t len = sizeof(st::Region);
    if ((shape & 0x80) != 0 && size >= 2) len = (size_t{data[0]} << 8 | data[1]) * 64 % sizeof(st::Region);
    snap = st::snapshot_of(words.data(), len, "/fuzz");
  }
  if (!snap.region) {
    if (snap.status == st::ReadStatus::kOk || snap.error.empty()) std::abort();  // a refusal must say why
    return 0;
  }
  // What the reader returns must be safe to print: every text field ends
  // within its array.
  const st::Region& r = *snap.region;
  auto ends = [](const char* field, size_t n) { return std::memchr(field, '\0', n) != nullptr; };
  bool safe = ends(r.comm, sizeof r.comm) && ends(r.backend, sizeof r.backend) && ends(r.mode, sizeof r.mode) &&
              ends(r.iface, sizeof r.iface) && ends(r.address, sizeof r.address) &&
              ends(r.address6, sizeof r.address6) && ends(r.description, sizeof r.description);
  for (const auto& name : r.drop_names) safe = safe && ends(name, sizeof name);
  for (const st::TunnelSlot& t : r.tunnels) safe = safe && ends(t.describe, sizeof t.describe);
  if (!safe) std::abort();
  std::vector<uint64_t> other = region_from(data, size, shape, 1);
  st::Snapshot prev = st::snapshot_of(other.data(), sizeof(st::Region), "/fuzz");
  for (bool stale : {false, true}) {
    const dpdkudp::tools::Rates rt = dpdkudp::tools::rates(*snap.region, prev.region.get());
    dpdkudp::tools::print_text(sink, *snap.region, stale, rt);
    dpdkudp::tools::print_json(sink, *snap.region, stale, rt);
    // The screen --watch redraws: the frame, cut to a window.
    char* frame = nullptr;
    size_t frame_len = 0;
    std::FILE* f = open_memstream(&frame, &frame_len);
    if (f == nullptr) std::abort();
    dpdkudp::tools::print_top(f, *snap.region, prev.region.get(), stale, rt);
    std::fclose(f);
    const std::string screen = dpdkudp::tools::fit_to_window({frame, frame_len}, 24, 80);
    std::free(frame);
    for (char c : screen) {
      if (c != '\n' && static_cast<unsigned char>(c) < 0x20) std::abort();  // no control byte reaches the terminal
    }
    std::fwrite(screen.data(), 1, screen.size(), sink);
  }
  std::vector<dpdkudp::tools::PromProcess> procs = {{snap.region.get(), false}, {prev.region.get(), true}};
  const std::string exposition = dpdkudp::tools::prometheus_text(procs);
  std::fwrite(exposition.data(), 1, exposition.size(), sink);
  // Every line is a comment or a sample of a dpdkudp_ family, whatever the
  // region held: no raw newline escaped a label value.
  for (size_t at = 0; at < exposition.size();) {
    const size_t end = exposition.find('\n', at);
    if (end == std::string::npos) std::abort();  // every line ends
    if (exposition.compare(at, 2, "# ") != 0 && exposition.compare(at, 8, "dpdkudp_") != 0) std::abort();
    at = end + 1;
  }
  return 0;
}
