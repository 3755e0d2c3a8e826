// The screen dpdkudp-stat --watch redraws on a terminal
// (tools/stat_top.cc): sockets listed busiest first with their rates since
// the previous copy, their fd and last reader, and the frame cut to the
// window with no control byte from a region reaching the terminal.
#include "tools/stat_top.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/tools/region_builder.h"

namespace dpdkudp::tools {
namespace {

using test_regions::add_socket;
using test_regions::captured;
using test_regions::make_region;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
namespace st = engine::stats;

// Three sockets; one second later: 2 received 300 datagrams, 3 received
// 100, 1 none (but holds the most bytes), 4 is new.
struct TwoCopies {
  std::unique_ptr<st::Region> prev = make_region(101, "echo");
  std::unique_ptr<st::Region> now = make_region(101, "echo");
  TwoCopies() {
    for (st::Region* r : {prev.get(), now.get()}) {
      add_socket(*r, 1, "198.18.0.2", 9001, 5).rx_bytes = 1'000'000;
      add_socket(*r, 2, "198.18.0.2", 9002, 6);
      add_socket(*r, 3, "198.18.0.2", 9003, 7);
    }
    add_socket(*now, 4, "198.18.0.2", 9004, 8).rx_bytes = 50;
    now->updated_mono_ns = prev->updated_mono_ns + 1'000'000'000;
    now->sockets[1].rx_datagrams = 300;
    now->sockets[1].tx_datagrams = 150;
    now->sockets[1].last_reader_tid = 4242;
    now->sockets[2].rx_datagrams = 100;
  }
};

TEST(StatTop, SocketsByReceiveRateThenBytes) {
  TwoCopies c;
  std::vector<SocketRates> rates;
  EXPECT_THAT(busiest_sockets(*c.now, c.prev.get(), &rates), ElementsAre(1, 2, 0, 3));
  ASSERT_EQ(rates.size(), 4u);
  EXPECT_TRUE(rates[1].valid);
  EXPECT_DOUBLE_EQ(rates[1].rx_dps, 300.0);
  EXPECT_DOUBLE_EQ(rates[1].tx_dps, 150.0);
  EXPECT_FALSE(rates[3].valid) << "not in the previous copy";
  // Without a previous copy: by bytes.
  EXPECT_THAT(busiest_sockets(*c.now, nullptr, &rates), ElementsAre(0, 3, 1, 2));
  EXPECT_FALSE(rates[0].valid);
}

TEST(StatTop, ProcessHeaderAndSocketRowsWithRatesFdAndTid) {
  TwoCopies c;
  const Rates rt = rates(*c.now, c.prev.get());
  const std::string out = captured([&](std::FILE* f) { print_top(f, *c.now, c.prev.get(), false, rt); });
  EXPECT_THAT(out, HasSubstr("pid 101 (echo)"));
  EXPECT_THAT(out, HasSubstr("af_packet dedicated veth0 198.18.0.2/24"));
  EXPECT_THAT(out, HasSubstr("sockets  4 open"));
  // The busiest first: fd 6, its last reader, rates 300 and 150 per second.
  const size_t first = out.find("198.18.0.2:9002");
  ASSERT_NE(first, std::string::npos) << out;
  EXPECT_LT(first, out.find("198.18.0.2:9003"));
  EXPECT_LT(out.find("198.18.0.2:9003"), out.find("198.18.0.2:9001"));
  const size_t bol = out.rfind('\n', first) + 1;
  const std::string row = out.substr(bol, out.find('\n', first) - bol);
  EXPECT_THAT(row, MatchesRegex(" +6 +4242 +198\\.18\\.0\\.2:9002 +- +300 +150 +300 .*")) << row;
  EXPECT_THAT(out, MatchesRegex("(.|\n)* +8 +- +198\\.18\\.0\\.2:9004 +- +- +- +0 +50 (.|\n)*")) << out;
}

TEST(StatTop, TitleNamesTheRefreshAndCount) {
  EXPECT_THAT(top_title(0.5, 2), MatchesRegex("dpdkudp-stat  [0-9:]+  every 0.5s  2 processes .*\n"));
  EXPECT_THAT(top_title(1, 1), HasSubstr("1 process "));
}

TEST(StatTop, FrameFitsTheWindow) {
  EXPECT_EQ(fit_to_window("one\ntwo\nthree\nfour\n", 3, 0), "one\ntwo\nthree") << "no newline after the last row";
  EXPECT_EQ(fit_to_window("abcdef\nxy\n", 0, 4), "abcd\nxy");
  EXPECT_EQ(fit_to_window("a\x1b[2Jb\x07\n", 0, 0), "a?[2Jb?") << "control bytes from a region are shown, not obeyed";
  EXPECT_EQ(fit_to_window("", 24, 80), "");
}

}  // namespace
}  // namespace dpdkudp::tools
