#include "backends/af_packet/tpacket_rings.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace dpdkudp::af_packet {
namespace {

uint32_t page_size() { return static_cast<uint32_t>(::sysconf(_SC_PAGESIZE)); }

// V3 does not use tp_frame_size to place frames (they are packed into the
// block), but the kernel still checks frame_size/frame_nr against the
// blocks (packet_set_ring), so give it a consistent pair.
constexpr uint32_t kV3NominalFrameSize = 2048;

// Room a block needs besides one frame: the block descriptor, the
// tpacket3_hdr + sockaddr_ll in front of the frame, and alignment.
constexpr uint32_t kV3BlockOverhead = 256;

bool ring_setsockopt_failed(int e, const std::string& what, size_t bytes, const ErrorSink& err) {
  if (e == ENOMEM) {
    return err.fail("out of memory for the " + what + " (" + std::to_string(bytes) + " bytes)");
  }
  return err.fail_errno("setsockopt(" + what + ")", e);
}

}  // namespace

RingMapping::~RingMapping() {
  if (base_ != nullptr) {
    ::munmap(base_, size_);
  }
}

bool RingMapping::map(int fd, size_t size) {
  void* addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (addr == MAP_FAILED) {
    return false;
  }
  base_ = static_cast<uint8_t*>(addr);
  size_ = size;
  return true;
}

bool V3RxRing::setup(int fd, const RxRingGeometry& geometry, uint32_t max_frame, const ErrorSink& err) {
  const uint32_t page = page_size();
  if (geometry.block_size == 0 || geometry.block_size % page != 0) {
    return err.fail("rx_block_size " + std::to_string(geometry.block_size) + " is not a multiple of the page size " +
                    std::to_string(page));
  }
  if (geometry.block_size < max_frame + kV3BlockOverhead) {
    return err.fail("rx_block_size " + std::to_string(geometry.block_size) + " cannot hold a frame of " +
                    std::to_string(max_frame) + " bytes");
  }
  if (geometry.block_count < 2) {
    return err.fail("rx_block_count must be at least 2");
  }
  if (geometry.timeout_ms < 1 || geometry.timeout_ms > 1000) {
    return err.fail("rx_block_timeout_ms " + std::to_string(geometry.timeout_ms) + " is outside 1..1000");
  }
  if (!set_int_option(fd, SOL_PACKET, PACKET_VERSION, TPACKET_V3, "PACKET_VERSION V3", err)) {
    return false;
  }
  tpacket_req3 req{};
  req.tp_block_size = geometry.block_size;
  req.tp_block_nr = geometry.block_count;
  req.tp_frame_size = kV3NominalFrameSize;
  req.tp_frame_nr = geometry.block_size / kV3NominalFrameSize * geometry.block_count;
  req.tp_retire_blk_tov = geometry.timeout_ms;
  const size_t bytes = size_t{geometry.block_size} * geometry.block_count;
  if (::setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) != 0) {
    return ring_setsockopt_failed(errno, "PACKET_RX_RING", bytes, err);
  }
  if (!mapping_.map(fd, bytes)) {
    return err.fail_errno("mmap of the RX ring", errno);
  }
  geometry_ = geometry;
  return true;
}

uint32_t V2TxRing::default_frame_size(uint32_t max_frame) {
  uint32_t size = 2048;
  while (size < kDataOffset + max_frame) {
    size *= 2;
  }
  return size;
}

bool V2TxRing::setup(int fd, uint32_t frame_size, uint32_t frame_count, uint32_t max_frame, const ErrorSink& err) {
  if (frame_size % TPACKET_ALIGNMENT != 0 || frame_size < kDataOffset + max_frame) {
    return err.fail("tx_frame_size " + std::to_string(frame_size) + " must be a multiple of " +
                    std::to_string(TPACKET_ALIGNMENT) + " and at least " + std::to_string(kDataOffset + max_frame) +
                    " for this interface's MTU");
  }
  if (frame_count == 0) {
    return err.fail("tx_frame_count must be at least 1");
  }
  // Blocks are page multiples; each holds whole slots (packet_mmap.rst:
  // "frames are not spawned across blocks").
  const uint32_t page = page_size();
  block_size_ = (frame_size + page - 1) / page * page;
  frames_per_block_ = block_size_ / frame_size;
  const uint32_t blocks = (frame_count + frames_per_block_ - 1) / frames_per_block_;
  frame_size_ = frame_size;
  frame_count_ = frames_per_block_ * blocks;

  if (!set_int_option(fd, SOL_PACKET, PACKET_VERSION, TPACKET_V2, "PACKET_VERSION V2", err) ||
      !set_int_option(fd, SOL_PACKET, PACKET_LOSS, 1, "PACKET_LOSS", err)) {
    return false;
  }
  tpacket_req req{};
  req.tp_block_size = block_size_;
  req.tp_block_nr = blocks;
  req.tp_frame_size = frame_size_;
  req.tp_frame_nr = frame_count_;
  const size_t bytes = size_t{block_size_} * blocks;
  if (::setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) != 0) {
    return ring_setsockopt_failed(errno, "PACKET_TX_RING", bytes, err);
  }
  if (!mapping_.map(fd, bytes)) {
    return err.fail_errno("mmap of the TX ring", errno);
  }
  return true;
}

}  // namespace dpdkudp::af_packet
