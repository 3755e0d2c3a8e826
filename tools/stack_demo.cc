// dpdkudp-stack-demo: two userspace stacks wired back to back in memory,
// an echo server on one and a client on the other. Shows ARP, UDP echo and
// the counters without any network or privileges.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <string>

#include "backends/pair/pair_backend.h"
#include "stack/net/stack.h"

using namespace dpdkudp;

namespace {

void print_counters(const char* name, const stack::CounterSnapshot& c) {
  std::printf("  %-7s rx_frames=%-8llu tx_frames=%-8llu udp_delivered=%-8llu arp_requests=%llu arp_replies=%llu", name,
              static_cast<unsigned long long>(c.rx_frames), static_cast<unsigned long long>(c.tx_frames),
              static_cast<unsigned long long>(c.udp_delivered), static_cast<unsigned long long>(c.arp_requests_sent),
              static_cast<unsigned long long>(c.arp_replies_sent));
  for (size_t i = 0; i < stack::kDropReasonCount; ++i) {
    if (c.drops[i] != 0) {
      std::printf(" %s=%llu", std::string(stack::drop_reason_name(static_cast<stack::DropReason>(i))).c_str(),
                  static_cast<unsigned long long>(c.drops[i]));
    }
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Echo datagrams between two in-memory dpdkudp stacks and print their counters"};
  unsigned count = 10000;
  unsigned size = 512;
  app.add_option("-n,--count", count, "datagrams to echo")->check(CLI::Range(1u, 10'000'000u));
  app.add_option("-s,--size", size, "payload bytes")->check(CLI::Range(1u, 1472u));
  CLI11_PARSE(app, argc, argv);

  auto pair = make_pair();
  stack::SystemClock clock;
  stack::StackConfig server_cfg, client_cfg;
  server_cfg.address = *wire::Ipv4Cidr::parse("198.18.0.1/24");
  client_cfg.address = *wire::Ipv4Cidr::parse("198.18.0.2/24");
  stack::Stack server(*pair.a, server_cfg, clock);
  stack::Stack client(*pair.b, client_cfg, clock);
  server.start();
  client.start();

  stack::UdpSocket* srv = server.open_udp();
  stack::UdpSocket* cli = client.open_udp();
  if (srv->bind({wire::Ipv4Addr::any(), 7}) != 0 || cli->connect({server_cfg.address.addr, 7}) != 0) {
    std::fprintf(stderr, "dpdkudp-stack-demo: socket setup failed\n");
    return 1;
  }
  std::string payload(size, '\0');
  std::string echoed(2048, '\0');
  unsigned ok = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (unsigned i = 0; i < count; ++i) {
    for (unsigned k = 0; k < size; ++k) payload[k] = static_cast<char>((i + k) & 0xff);
    iovec out{payload.data(), payload.size()};
    if (cli->send({&out, 1}, nullptr) < 0) continue;
    stack::RecvInfo info;
    iovec in{echoed.data(), echoed.size()};
    for (int round = 0; round < 8; ++round) {  // bounded: ARP + request + reply
      server.poll(0);
      int64_t n = srv->recv({&in, 1}, &info, 0);
      if (n > 0) {
        iovec back{echoed.data(), static_cast<size_t>(n)};
        srv->send({&back, 1}, &info.source);
      }
      client.poll(0);
      int64_t m = cli->recv({&in, 1}, &info, 0);
      if (m > 0) {
        ok += (static_cast<size_t>(m) == size && echoed.compare(0, size, payload) == 0) ? 1 : 0;
        break;
      }
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "dpdkudp stack demo: %u of %u datagrams of %u bytes echoed byte-for-byte in %.3f s (%.0f round trips/s)\n", ok,
      count, size, secs, ok / secs);
  print_counters("server", server.counters());
  print_counters("client", client.counters());
  return ok == count ? 0 : 1;
}
