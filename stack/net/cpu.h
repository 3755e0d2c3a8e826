#pragma once

namespace dpdkudp::stack {

// Tells the core we are spinning (x86 PAUSE, arm64 YIELD).
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

inline constexpr unsigned kCacheLine = 64;

}  // namespace dpdkudp::stack
