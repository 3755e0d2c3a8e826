// dpdkudp-bench: UDP traffic with nothing but the socket API, so the same
// binary runs on the kernel and under the shim. Every mode is bounded in
// time and count.
//   sink     --port P [--duration S]             count datagrams, sequence gaps, rate
//   gen      --to IP:P --rate PPS --size B [--batch N] [--duration S]
//   echo     --port P [--duration S]             send every datagram back
//   pingpong --to IP:P [--count N] [--size B] [--interval-us U] [--samples FILE]
//            RTT percentiles; --samples: every RTT in µs, one a line, in run order
// Datagrams carry a 64-bit sequence number in their first 8 bytes (gen,
// pingpong) so sink can count gaps.
#include <CLI/CLI.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

bool parse_endpoint(const std::string& text, sockaddr_in* out) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  *out = {};
  out->sin_family = AF_INET;
  out->sin_port = htons(static_cast<uint16_t>(std::stoi(text.substr(colon + 1))));
  return inet_pton(AF_INET, text.substr(0, colon).c_str(), &out->sin_addr) == 1;
}

int bound_socket(uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int big = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::fprintf(stderr, "dpdkudp-bench: bind port %u: %s\n", port, std::strerror(errno));
    std::exit(1);
  }
  return fd;
}

// Receives with recvmmsg in batches; calls fn(data, len, from) per datagram.
template <typename F>
uint64_t receive_loop(int fd, double duration, double idle_stop, F&& fn) {
  constexpr int kBatch = 64;
  static char bufs[kBatch][2048];
  iovec iov[kBatch];
  mmsghdr msgs[kBatch];
  sockaddr_in from[kBatch];
  auto start = Clock::now();
  auto last = start;
  uint64_t total = 0;
  while (seconds_since(start) < duration) {
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {bufs[i], sizeof bufs[i]};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) {
      if (total > 0 && seconds_since(last) > idle_stop) break;
      continue;
    }
    int n = recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) continue;
    last = Clock::now();
    for (int i = 0; i < n; ++i) fn(bufs[i], msgs[i].msg_len, from[i]);
    total += static_cast<uint64_t>(n);
  }
  return total;
}

int run_sink(uint16_t port, double duration, double idle_stop) {
  int fd = bound_socket(port);
  uint64_t expected = 0, gaps = 0, reordered = 0;
  bool first = true;
  Clock::time_point t0, t1;
  uint64_t n = receive_loop(fd, duration, idle_stop, [&](const char* d, unsigned len, const sockaddr_in&) {
    if (first) t0 = Clock::now();
    t1 = Clock::now();
    if (len < 8) return;
    uint64_t seq;
    std::memcpy(&seq, d, 8);
    if (first) {
      expected = seq;
      first = false;
    }
    if (seq > expected) gaps += seq - expected;
    if (seq < expected) ++reordered;
    expected = std::max(expected, seq + 1);
  });
  double secs = std::chrono::duration<double>(t1 - t0).count();
  std::printf("sink: received=%llu lost=%llu reordered=%llu seconds=%.3f rate_pps=%.0f\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(gaps),
              static_cast<unsigned long long>(reordered), secs, secs > 0 ? static_cast<double>(n) / secs : 0.0);
  return 0;
}

int run_echo(uint16_t port, double duration, double idle_stop) {
  int fd = bound_socket(port);
  uint64_t n = receive_loop(fd, duration, idle_stop, [&](const char* d, unsigned len, const sockaddr_in& from) {
    sendto(fd, d, len, 0, reinterpret_cast<const sockaddr*>(&from), sizeof from);
  });
  std::printf("echo: echoed=%llu\n", static_cast<unsigned long long>(n));
  return 0;
}

int run_gen(const sockaddr_in& to, double rate, unsigned size, unsigned batch, double duration) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    std::fprintf(stderr, "dpdkudp-bench: connect: %s\n", std::strerror(errno));
    return 1;
  }
  size = std::max(size, 8u);
  std::vector<std::vector<char>> bufs(batch, std::vector<char>(size, 'g'));
  std::vector<iovec> iov(batch);
  std::vector<mmsghdr> msgs(batch);
  uint64_t seq = 0, sent = 0, errors = 0;
  auto start = Clock::now();
  while (true) {
    double elapsed = seconds_since(start);
    if (elapsed >= duration) break;
    // Paced: never ahead of rate * elapsed.
    if (rate > 0 && static_cast<double>(sent) >= rate * elapsed) continue;
    for (unsigned i = 0; i < batch; ++i) {
      uint64_t s = seq + i;
      std::memcpy(bufs[i].data(), &s, 8);
      iov[i] = {bufs[i].data(), size};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = sendmmsg(fd, msgs.data(), batch, 0);
    if (n < 0) {
      ++errors;
      continue;
    }
    seq += static_cast<uint64_t>(n);
    sent += static_cast<uint64_t>(n);
  }
  double secs = seconds_since(start);
  std::printf("gen: sent=%llu errors=%llu seconds=%.3f rate_pps=%.0f\n", static_cast<unsigned long long>(sent),
              static_cast<unsigned long long>(errors), secs, static_cast<double>(sent) / secs);
  return 0;
}

// Every round-trip time, in microseconds, one a line, in the order they
// were measured (for a CDF: scripts/bench draws them).
bool write_samples(const std::string& path, const std::vector<double>& rtt_us) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    std::fprintf(stderr, "dpdkudp-bench: --samples %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  bool ok = true;
  for (double v : rtt_us) ok = ok && std::fprintf(f, "%.3f\n", v) > 0;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) std::fprintf(stderr, "dpdkudp-bench: --samples %s: write failed\n", path.c_str());
  return ok;
}

int run_pingpong(const sockaddr_in& to, unsigned count, unsigned size, unsigned interval_us,
                 const std::string& samples) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    std::fprintf(stderr, "dpdkudp-bench: connect: %s\n", std::strerror(errno));
    return 1;
  }
  std::vector<char> buf(std::max(size, 8u), 'p'), in(2048);
  std::vector<double> rtt_us;
  unsigned lost = 0;
  for (unsigned i = 0; i < count; ++i) {
    uint64_t seq = i;
    std::memcpy(buf.data(), &seq, 8);
    auto t = Clock::now();
    send(fd, buf.data(), buf.size(), 0);
    ssize_t n;
    do {
      n = recv(fd, in.data(), in.size(), 0);
    } while (n >= 8 && std::memcmp(in.data(), &seq, 8) != 0);  // late replies of lost probes
    if (n < 0) {
      ++lost;
      continue;
    }
    rtt_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
    if (interval_us) usleep(interval_us);
  }
  // Before the sort below, so the file keeps the run's order.
  bool samples_ok = samples.empty() || write_samples(samples, rtt_us);
  std::sort(rtt_us.begin(), rtt_us.end());
  auto q = [&](double f) {
    if (rtt_us.empty()) return 0.0;
    auto idx = static_cast<size_t>(f * static_cast<double>(rtt_us.size()));
    return rtt_us[std::min(rtt_us.size() - 1, idx)];
  };
  std::printf("pingpong: count=%zu lost=%u p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f\n",
              rtt_us.size(), lost, q(0.5), q(0.9), q(0.99), q(0.999), rtt_us.empty() ? 0.0 : rtt_us.back());
  return (lost == count || !samples_ok) ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"UDP traffic through the plain socket API (runs on the kernel and under the shim)"};
  app.require_subcommand(1);
  uint16_t port = 9000;
  double duration = 10, idle_stop = 2, rate = 0;
  unsigned size = 64, batch = 32, count = 10000, interval_us = 0;
  std::string to, samples;

  auto* sink = app.add_subcommand("sink", "count datagrams, sequence gaps and the rate");
  sink->add_option("-p,--port", port, "UDP port");
  sink->add_option("-d,--duration", duration, "stop after this many seconds")->check(CLI::Range(0.1, 3600.0));
  sink->add_option("--idle-stop", idle_stop, "stop this many seconds after traffic stops");
  auto* echo = app.add_subcommand("echo", "send every datagram back to its sender");
  echo->add_option("-p,--port", port, "UDP port");
  echo->add_option("-d,--duration", duration, "stop after this many seconds")->check(CLI::Range(0.1, 3600.0));
  echo->add_option("--idle-stop", idle_stop, "stop this many seconds after traffic stops");
  auto* gen = app.add_subcommand("gen", "paced sender");
  gen->add_option("-t,--to", to, "destination IP:PORT")->required();
  gen->add_option("-r,--rate", rate, "datagrams per second (0: as fast as possible)");
  gen->add_option("-s,--size", size, "payload bytes")->check(CLI::Range(8u, 1472u));
  gen->add_option("-b,--batch", batch, "datagrams per sendmmsg")->check(CLI::Range(1u, 1024u));
  gen->add_option("-d,--duration", duration, "seconds")->check(CLI::Range(0.1, 3600.0));
  auto* pp = app.add_subcommand("pingpong", "round-trip latency against an echo");
  pp->add_option("-t,--to", to, "echo IP:PORT")->required();
  pp->add_option("-n,--count", count, "round trips")->check(CLI::Range(1u, 10'000'000u));
  pp->add_option("-s,--size", size, "payload bytes")->check(CLI::Range(8u, 1472u));
  pp->add_option("-i,--interval-us", interval_us, "pause between round trips");
  pp->add_option("--samples", samples, "write every round-trip time (µs, one a line, in run order) to this file");
  CLI11_PARSE(app, argc, argv);

  sockaddr_in dst{};
  if (!to.empty() && !parse_endpoint(to, &dst)) {
    std::fprintf(stderr, "dpdkudp-bench: --to %s: expected IPv4:PORT\n", to.c_str());
    return 2;
  }
  if (*sink) return run_sink(port, duration, idle_stop);
  if (*echo) return run_echo(port, duration, idle_stop);
  if (*gen) return run_gen(dst, rate, size, batch, duration);
  return run_pingpong(dst, count, size, interval_us, samples);
}
