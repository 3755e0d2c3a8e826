// An intrusive multi-producer single-consumer queue of Packets, linked
// through Packet::next (D. Vyukov's design with a stub node): push is one
// atomic exchange and never waits; pop runs on one consumer at a time (the
// socket serialises its readers). No allocation, ever.
#pragma once

#include <atomic>

#include "backends/api/packet.h"
#include "stack/net/cpu.h"

namespace dpdkudp::stack {

class PacketMpscQueue {
 public:
  PacketMpscQueue() : head_(&stub_), tail_(&stub_) {}
  PacketMpscQueue(const PacketMpscQueue&) = delete;
  PacketMpscQueue& operator=(const PacketMpscQueue&) = delete;

  // Any thread.
  void push(Packet* p) { push_chain(p, p); }

  // Any thread: first..last already linked through next, in order.
  void push_chain(Packet* first, Packet* last) {
    next_of(last).store(nullptr, std::memory_order_relaxed);
    Packet* prev = head_.exchange(last, std::memory_order_acq_rel);
    next_of(prev).store(first, std::memory_order_release);
  }

  // Consumer only. The oldest packet without removing it, or nullptr when
  // empty. A push into an empty queue becomes visible when the producer
  // links it behind the stub, a few instructions after its exchange: a
  // consumer that counted a packet in may see nullptr for that long.
  Packet* front() {
    skip_stub();
    return tail_ == &stub_ ? nullptr : tail_;
  }

  // Consumer only. Removes and returns the oldest packet, or nullptr.
  Packet* pop() {
    skip_stub();
    Packet* tail = tail_;
    if (tail == &stub_) return nullptr;
    Packet* next = next_of(tail).load(std::memory_order_acquire);
    if (next == nullptr) {
      if (head_.load(std::memory_order_acquire) == tail) {
        // tail is the last packet: park the stub behind it so tail can go.
        push(&stub_);
      }
      // Either our stub push or a producer's push is linking tail->next;
      // both finish within a few instructions.
      while ((next = next_of(tail).load(std::memory_order_acquire)) == nullptr) {
        cpu_relax();
      }
    }
    tail_ = next;
    return tail;
  }

 private:
  static std::atomic_ref<Packet*> next_of(Packet* p) { return std::atomic_ref<Packet*>(p->next); }

  void skip_stub() {
    if (tail_ == &stub_) {
      Packet* next = next_of(&stub_).load(std::memory_order_acquire);
      if (next != nullptr) tail_ = next;
    }
  }

  alignas(64) std::atomic<Packet*> head_;
  alignas(64) Packet* tail_;
  Packet stub_;
};

}  // namespace dpdkudp::stack
