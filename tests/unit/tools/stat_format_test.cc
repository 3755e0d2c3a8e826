// dpdkudp-stat's text and JSON (tools/stat_format.cc) for what version 6
// of the region added to a socket: its family, the application's fd and
// the thread that last received on it ("-" / null while unknown).
#include "tools/stat_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/unit/tools/region_builder.h"

namespace dpdkudp::tools {
namespace {

using test_regions::add_socket;
using test_regions::captured;
using test_regions::make_region;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

TEST(StatFormat, TextShowsFdAndLastReader) {
  auto r = make_region(101, "echo");
  add_socket(*r, 7, "198.18.0.2", 9000, 5).last_reader_tid = 4321;
  add_socket(*r, 8, "198.18.0.2", 9001, -1);
  const std::string out = captured([&](std::FILE* f) { print_text(f, *r, false, Rates{}); });
  EXPECT_THAT(out, MatchesRegex("(.|\n)*\n    7 +198\\.18\\.0\\.2:9000 .* fd 5 tid 4321\n(.|\n)*")) << out;
  EXPECT_THAT(out, MatchesRegex("(.|\n)*\n    8 +198\\.18\\.0\\.2:9001 .* fd - tid -\n(.|\n)*")) << out;
}

TEST(StatFormat, JsonShowsFamilyFdAndLastReader) {
  auto r = make_region(101, "echo");
  add_socket(*r, 7, "198.18.0.2", 9000, 5).last_reader_tid = 4321;
  add_socket(*r, 8, "198.18.0.2", 9001, -1);
  const std::string out = captured([&](std::FILE* f) { print_json(f, *r, false, Rates{}); });
  EXPECT_THAT(out, HasSubstr(R"("local":"198.18.0.2:9000",)"));
  EXPECT_THAT(out, HasSubstr(R"("family":"ipv4","fd":5,"last_reader_tid":4321})"));
  EXPECT_THAT(out, HasSubstr(R"("family":"ipv4","fd":null,"last_reader_tid":null})"));
}

}  // namespace
}  // namespace dpdkudp::tools
