// What the event-loop test programs (loop_libuv, loop_libevent, loop_asio)
// share: their command line and the client's datagrams and checks. Header
// only, so each program stays an ordinary one linking no project library.
//
//   loop_X server PORT [--lifetime S] [--mmsg]
//       echo server on 0.0.0.0:PORT; prints "ready" once bound and
//       "echoed N" when SIGTERM (or the lifetime, default 120 s) ends it
//   loop_X client HOST PORT [--count N] [--window W]
//       sends N datagrams (4..1472 bytes) W at a time, waits for every echo
//       of a window before the next and checks each byte; exit 0 only when
//       all came back intact. Bounded: a window waits at most 1 s for its
//       echoes, the whole run at most 60 s.
//
// Single-threaded: each program runs its loop on the main thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loops {

inline constexpr int kWindowTimeoutMs = 1000;
inline constexpr double kClientDeadlineS = 60.0;
inline constexpr size_t kMaxPayload = 1472;  // one Ethernet frame

struct Args {
  bool server = false;
  std::string host;
  int port = 0;
  int count = 1000;
  int window = 4;
  double lifetime_s = 120.0;
  bool mmsg = false;  // libuv: UV_UDP_RECVMMSG (recvmmsg through syscall(2))
};

inline std::optional<Args> parse_args(int argc, char** argv) {
  Args a;
  if (argc < 3) return std::nullopt;
  const std::string mode = argv[1];
  int i = 2;
  if (mode == "server") {
    a.server = true;
  } else if (mode == "client" && argc >= 4) {
    a.host = argv[i++];
  } else {
    return std::nullopt;
  }
  a.port = std::atoi(argv[i++]);
  for (; i < argc; ++i) {
    const std::string opt = argv[i];
    const bool has_value = i + 1 < argc;
    if (opt == "--count" && has_value) {
      a.count = std::atoi(argv[++i]);
    } else if (opt == "--window" && has_value) {
      a.window = std::atoi(argv[++i]);
    } else if (opt == "--lifetime" && has_value) {
      a.lifetime_s = std::atof(argv[++i]);
    } else if (opt == "--mmsg") {
      a.mmsg = true;
    } else {
      return std::nullopt;
    }
  }
  if (a.port <= 0 || a.port > 65535 || a.count <= 0 || a.window <= 0 || a.window > 64) return std::nullopt;
  return a;
}

inline int usage(const char* name) {
  std::fprintf(stderr,
               "usage: %s server PORT [--lifetime S] [--mmsg]\n"
               "       %s client HOST PORT [--count N] [--window W]\n",
               name, name);
  return 2;
}

inline double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Datagram i: its index (4 bytes, little-endian) then a pattern that
// differs per datagram; sizes cycle through 4..1472.
inline size_t payload_size(uint32_t i) { return 4 + (i * 37u) % (kMaxPayload - 3); }
inline std::string payload(uint32_t i) {
  std::string p(payload_size(i), '\0');
  for (size_t k = 0; k < 4; ++k) p[k] = static_cast<char>((i >> (8 * k)) & 0xFF);
  for (size_t k = 4; k < p.size(); ++k) p[k] = static_cast<char>((i * 11 + k * 7) & 0xFF);
  return p;
}

// The client's bookkeeping: which datagrams of the current window are
// still out, and whether each echo is one of them, intact.
class Client {
 public:
  Client(int count, int window)
      : count_(static_cast<uint32_t>(count)), window_(static_cast<uint32_t>(window)), start_(now_s()) {}

  // The payloads of the next window (empty when all were sent).
  std::vector<std::string> next_window() {
    std::vector<std::string> out;
    first_out_ = next_;
    for (uint32_t k = 0; k < window_ && next_ < count_; ++k, ++next_) out.push_back(payload(next_));
    outstanding_.assign(out.size(), true);
    return out;
  }

  // An echo: "" when it is an outstanding datagram, intact; else why not.
  std::string accept(std::string_view got) {
    if (got.size() < 4) return "echo of " + std::to_string(got.size()) + " bytes";
    uint32_t i = 0;
    for (size_t k = 0; k < 4; ++k) i |= static_cast<uint32_t>(static_cast<unsigned char>(got[k])) << (8 * k);
    if (i < first_out_ || i >= next_ || !outstanding_[i - first_out_]) {
      return "unexpected echo of datagram " + std::to_string(i);
    }
    if (got != payload(i)) {
      return "echo of datagram " + std::to_string(i) + " differs (" + std::to_string(got.size()) + " bytes, sent " +
             std::to_string(payload_size(i)) + ")";
    }
    outstanding_[i - first_out_] = false;
    ++received_;
    return "";
  }

  bool window_done() const {
    for (bool out : outstanding_) {
      if (out) return false;
    }
    return true;
  }
  bool finished() const { return next_ == count_ && window_done(); }
  bool past_deadline() const { return now_s() - start_ > kClientDeadlineS; }
  double elapsed_s() const { return now_s() - start_; }
  uint32_t received() const { return received_; }

  // The datagrams of the window still without an echo, for the message.
  std::string missing() const {
    std::string m;
    for (size_t k = 0; k < outstanding_.size(); ++k) {
      if (!outstanding_[k]) continue;
      if (!m.empty()) m += ' ';
      m += std::to_string(first_out_ + k);
    }
    return m;
  }

 private:
  const uint32_t count_;
  const uint32_t window_;
  const double start_;
  uint32_t next_ = 0;
  uint32_t first_out_ = 0;
  uint32_t received_ = 0;
  std::vector<bool> outstanding_;
};

}  // namespace loops
