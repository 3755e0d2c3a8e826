// dpdkudp-stat --prometheus (tools/stat_prometheus.cc): the Prometheus text
// format 0.0.4 of regions built in memory. The exact sample lines of a
// drop reason and a socket, label escaping, each family's HELP and TYPE once
// for several processes, the counter/gauge naming rule, and the whole
// output read back by Python's prometheus_client parser (the Debian package
// python3-prometheus-client, which scripts/bootstrap installs).
#include "tools/stat_prometheus.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/tools/region_builder.h"

namespace dpdkudp::tools {
namespace {

using test_regions::add_drop_reason;
using test_regions::add_socket;
using test_regions::add_socket6;
using test_regions::make_region;
using ::testing::HasSubstr;
using ::testing::Not;
namespace st = engine::stats;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

size_t count_lines(const std::string& text, const std::string& line) {
  size_t n = 0;
  for (const std::string& l : lines_of(text)) n += l == line ? 1 : 0;
  return n;
}

std::string exposition(std::initializer_list<PromProcess> procs) {
  return prometheus_text(std::vector<PromProcess>(procs));
}

constexpr char kLabels101[] = R"(pid="101",comm="echo",backend="af_packet",iface="veth0")";

TEST(StatPrometheus, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(prometheus_label_value("plain"), "plain");
  EXPECT_EQ(prometheus_label_value("a\\b"), "a\\\\b");
  EXPECT_EQ(prometheus_label_value("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(prometheus_label_value("two\nlines"), "two\\nlines");
  EXPECT_EQ(prometheus_label_value("\\\"\n"), "\\\\\\\"\\n");
}

TEST(StatPrometheus, LabelValuesAreValidUtf8) {
  EXPECT_EQ(prometheus_label_value("caf\xC3\xA9"), "caf\xC3\xA9");            // kept
  EXPECT_EQ(prometheus_label_value("\xF0\x9F\x93\xA6"), "\xF0\x9F\x93\xA6");  // 4 bytes, kept
  EXPECT_EQ(prometheus_label_value("a\xFF"
                                   "b"),
            "a\xEF\xBF\xBD"
            "b");                                                                             // never valid
  EXPECT_EQ(prometheus_label_value("\xC3"), "\xEF\xBF\xBD");                                  // cut short
  EXPECT_EQ(prometheus_label_value("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
  EXPECT_EQ(prometheus_label_value("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
}

TEST(StatPrometheus, NoProcessesNoOutput) { EXPECT_EQ(prometheus_text({}), ""); }

TEST(StatPrometheus, DropReasonIsOneSampleWithReasonAndClassLabels) {
  auto r = make_region(101, "echo");
  add_drop_reason(*r, "udp_checksum", 3);
  add_drop_reason(*r, "socket_buffer_full", 7);
  const std::string out = exposition({{r.get(), false}});
  EXPECT_EQ(count_lines(out, "# TYPE dpdkudp_drops_total counter"), 1u) << out;
  EXPECT_EQ(count_lines(out, std::string("dpdkudp_drops_total{") + kLabels101 +
                                 R"(,reason="udp_checksum",class="checksum"} 3)"),
            1u)
      << out;
  EXPECT_EQ(count_lines(out, std::string("dpdkudp_drops_total{") + kLabels101 +
                                 R"(,reason="socket_buffer_full",class="socket_buffer_full"} 7)"),
            1u)
      << out;
}

TEST(StatPrometheus, SocketSamplesCarryEndpointsFamilyAndFd) {
  auto r = make_region(101, "echo");
  st::SocketSlot& s = add_socket(*r, 7, "198.18.0.2", 9000, 5);
  s.rx_datagrams = 500;
  s.queued_bytes = 1024;
  s.last_reader_tid = 4321;
  st::SocketSlot& s6 = add_socket6(*r, 8, "2001:2::1", 53, "2001:2::2", 5353, 6);
  s6.tx_bytes = 99;
  st::SocketSlot& unbound = r->sockets[r->sockets_shown++];
  unbound.id = 9;
  unbound.fd = -1;  // opened by the engine, no fd of the application's
  ++r->socket_count;
  const std::string out = exposition({{r.get(), false}});
  const std::string v4 = std::string(kLabels101) +
                         R"(,id="7",family="ipv4",fd="5",local_address="198.18.0.2",local_port="9000",)"
                         R"(remote_address="",remote_port="0"})";
  EXPECT_EQ(count_lines(out, "dpdkudp_socket_rx_datagrams_total{" + v4 + " 500"), 1u) << out;
  EXPECT_EQ(count_lines(out, "dpdkudp_socket_queued_bytes{" + v4 + " 1024"), 1u) << out;
  EXPECT_EQ(count_lines(out, "dpdkudp_socket_rcvbuf_bytes{" + v4 + " 212992"), 1u) << out;
  EXPECT_EQ(count_lines(out, "dpdkudp_socket_last_reader_tid{" + v4 + " 4321"), 1u) << out;
  const std::string v6 = std::string(kLabels101) +
                         R"(,id="8",family="ipv6",fd="6",local_address="2001:2::1",local_port="53",)"
                         R"(remote_address="2001:2::2",remote_port="5353"})";
  EXPECT_EQ(count_lines(out, "dpdkudp_socket_tx_bytes_total{" + v6 + " 99"), 1u) << out;
  EXPECT_EQ(count_lines(out, "dpdkudp_socket_last_reader_tid{" + v6 + " 0"), 1u) << out;
  EXPECT_THAT(out, HasSubstr(R"(id="9",family="ipv4",fd="",local_address="",local_port="0",)"));
  EXPECT_EQ(count_lines(out, std::string("dpdkudp_sockets_open{") + kLabels101 + "} 3"), 1u) << out;
}

TEST(StatPrometheus, TunnelsAreLabelledByIndexAndDescription) {
  auto r = make_region(101, "echo");
  r->tunnel_count = 1;
  test_regions::set_text(r->tunnels[0].describe, "vxlan vni=100 remote=198.18.1.1");
  r->tunnels[0].rx_frames = 12;
  r->tunnels[0].drops[1] = 2;
  const std::string out = exposition({{r.get(), false}});
  const std::string labels = std::string(kLabels101) + R"(,tunnel="1",describe="vxlan vni=100 remote=198.18.1.1")";
  EXPECT_EQ(count_lines(out, "dpdkudp_tunnel_rx_frames_total{" + labels + "} 12"), 1u) << out;
  EXPECT_EQ(count_lines(out, "dpdkudp_tunnel_drops_total{" + labels + R"(,reason="no_match"} 2)"), 1u) << out;
}

TEST(StatPrometheus, EachFamilyOnceThenTheSamplesOfEveryProcess) {
  auto a = make_region(101, "echo");
  a->totals.udp_delivered = 5;
  add_drop_reason(*a, "udp_checksum", 1);
  add_socket(*a, 1, "198.18.0.2", 9000, 5);
  auto b = make_region(102, "nsd");
  b->totals.udp_delivered = 6;
  add_drop_reason(*b, "udp_checksum", 2);
  add_socket(*b, 1, "198.18.0.2", 53, 7);
  const std::string out = exposition({{a.get(), false}, {b.get(), true}});
  EXPECT_EQ(count_lines(out, "# HELP dpdkudp_udp_delivered_total UDP datagrams delivered to sockets."), 1u) << out;
  EXPECT_EQ(count_lines(out, "# TYPE dpdkudp_udp_delivered_total counter"), 1u) << out;
  EXPECT_EQ(count_lines(out, std::string("dpdkudp_udp_delivered_total{") + kLabels101 + "} 5"), 1u) << out;
  EXPECT_EQ(
      count_lines(out, R"(dpdkudp_udp_delivered_total{pid="102",comm="nsd",backend="af_packet",iface="veth0"} 6)"), 1u)
      << out;
  EXPECT_EQ(count_lines(out, std::string("dpdkudp_process_alive{") + kLabels101 + "} 1"), 1u) << out;
  EXPECT_EQ(count_lines(out, R"(dpdkudp_process_alive{pid="102",comm="nsd",backend="af_packet",iface="veth0"} 0)"), 1u)
      << out;
  // Every family: one HELP, then its TYPE, then only its own samples, every
  // one labelled with its process.
  std::set<std::string> helped;
  std::string current;
  std::map<std::string, int> samples;
  for (const std::string& line : lines_of(out)) {
    std::istringstream words(line);
    std::string hash, kind, name;
    if (line.rfind("# HELP ", 0) == 0) {
      words >> hash >> kind >> name;
      EXPECT_TRUE(helped.insert(name).second) << "HELP twice for " << name;
      current.clear();
    } else if (line.rfind("# TYPE ", 0) == 0) {
      std::string type;
      words >> hash >> kind >> name >> type;
      EXPECT_TRUE(helped.count(name) == 1 && current.empty()) << "TYPE without its HELP just before: " << line;
      current = name;
    } else {
      ASSERT_FALSE(current.empty()) << "a sample before any TYPE: " << line;
      EXPECT_EQ(line.substr(0, current.size() + 1), current + "{") << "a sample out of its family: " << line;
      EXPECT_TRUE(line.find(R"({pid="101",comm="echo",backend="af_packet",iface="veth0")") != std::string::npos ||
                  line.find(R"({pid="102",comm="nsd",backend="af_packet",iface="veth0")") != std::string::npos)
          << line;
      ++samples[current];
    }
  }
  EXPECT_EQ(samples["dpdkudp_drops_total"], 2);
  EXPECT_EQ(samples["dpdkudp_socket_rx_datagrams_total"], 2);
  EXPECT_EQ(samples["dpdkudp_tunnel_rx_frames_total"], 0) << "a family without samples is left out";
}

TEST(StatPrometheus, CountersEndInTotalGaugesDoNot) {
  auto r = make_region(101, "echo");
  add_drop_reason(*r, "ip_checksum", 1);
  add_socket(*r, 1, "198.18.0.2", 9000, 5);
  r->tunnel_count = 1;
  const std::string out = exposition({{r.get(), false}});
  int counters = 0, gauges = 0;
  for (const std::string& line : lines_of(out)) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    std::istringstream words(line);
    std::string hash, kind, name, type;
    words >> hash >> kind >> name >> type;
    EXPECT_EQ(name.rfind("dpdkudp_", 0), 0u) << name;
    const bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
    if (type == "counter") {
      ++counters;
      EXPECT_TRUE(total) << name;
    } else {
      ++gauges;
      EXPECT_EQ(type, "gauge") << name;
      EXPECT_FALSE(total) << name;
    }
  }
  EXPECT_GE(counters, 40);
  EXPECT_GE(gauges, 12);
  EXPECT_THAT(out, HasSubstr("# TYPE dpdkudp_socket_queued_bytes gauge\n"));
  EXPECT_THAT(out, HasSubstr("# TYPE dpdkudp_sockets_open gauge\n"));
  EXPECT_THAT(out, HasSubstr("# TYPE dpdkudp_start_time_seconds gauge\n"));
  EXPECT_THAT(out, HasSubstr("# TYPE dpdkudp_socket_last_reader_tid gauge\n"));
}

TEST(StatPrometheus, HostileTextStaysInsideItsLabel) {
  auto r = make_region(101, "a\"b\\c\nd");
  test_regions::set_text(r->iface, "x\"} 1\nfake_metric 2");
  const std::string out = exposition({{r.get(), false}});
  EXPECT_THAT(out, HasSubstr(R"(comm="a\"b\\c\nd")"));
  EXPECT_THAT(out, HasSubstr(R"(iface="x\"} 1\nfake_metric 2")"));
  for (const std::string& line : lines_of(out)) {
    EXPECT_TRUE(line.rfind("# ", 0) == 0 || line.rfind("dpdkudp_", 0) == 0) << line;
  }
  EXPECT_THAT(out, Not(HasSubstr("\nfake_metric")));
}

// The output as Prometheus's own Python client reads it: every family
// once, with the label values (escapes undone) and values we wrote.
TEST(StatPrometheus, PythonPrometheusClientReadsItBack) {
  if (std::system("/usr/bin/python3 -c 'import prometheus_client.parser' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-prometheus-client is not installed (scripts/bootstrap)";
  }
  auto a = make_region(101, "we\"ird\\na\nme");
  a->totals.udp_delivered = 500;
  add_drop_reason(*a, "udp_checksum", 3);
  add_socket(*a, 7, "198.18.0.2", 9000, 5).last_reader_tid = 4321;
  auto b = make_region(102, "nsd");
  add_socket6(*b, 1, "2001:2::1", 53, "2001:2::2", 5353, 9);
  const std::string out = exposition({{a.get(), false}, {b.get(), false}});
  char dir[] = "/tmp/stat_prometheus_test.XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string prom = std::string(dir) + "/out.prom";
  const std::string script = std::string(dir) + "/check.py";
  std::ofstream(prom) << out;
  std::ofstream(script) << R"PY(
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))
names = [f.name for f in fams]
assert len(names) == len(set(names)), "a family twice: %s" % names
by = {f.name: f for f in fams}
assert by["dpdkudp_udp_delivered"].type == "counter"
d = [s for s in by["dpdkudp_udp_delivered"].samples if s.labels["pid"] == "101"]
assert len(d) == 1 and d[0].value == 500 and d[0].labels["comm"] == 'we"ird\\na\nme', d
drops = [s for s in by["dpdkudp_drops"].samples if s.labels["reason"] == "udp_checksum"]
assert len(drops) == 1 and drops[0].value == 3 and drops[0].labels["class"] == "checksum", drops
socks = {s.labels["pid"]: s for s in by["dpdkudp_socket_rx_datagrams"].samples}
assert socks["101"].labels["fd"] == "5" and socks["101"].labels["local_port"] == "9000", socks
assert socks["102"].labels["family"] == "ipv6" and socks["102"].labels["remote_address"] == "2001:2::2", socks
tid = [s for s in by["dpdkudp_socket_last_reader_tid"].samples if s.labels["pid"] == "101"]
assert by["dpdkudp_socket_last_reader_tid"].type == "gauge" and tid[0].value == 4321, tid
print("ok", len(fams))
)PY";
  const std::string cmd = "/usr/bin/python3 " + script + " " + prom + " 2>&1";
  std::string result;
  if (std::FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) result.append(buf, n);
    const int status = pclose(p);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << result << "\n" << out;
  } else {
    ADD_FAILURE() << "popen failed";
  }
  EXPECT_THAT(result, HasSubstr("ok "));
  std::remove(prom.c_str());
  std::remove(script.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace dpdkudp::tools
