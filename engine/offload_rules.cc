#include "engine/offload_rules.h"

#include <initializer_list>

#include "engine/config_text.h"

namespace dpdkudp::engine {

namespace {

std::optional<uint16_t> parse_port(std::string_view s) {
  const auto n = text::parse_number(s, 0, 65535);
  if (!n) return std::nullopt;
  return static_cast<uint16_t>(*n);
}

std::optional<PortRange> parse_range(std::string_view s) {
  const size_t dash = s.find('-');
  auto first = parse_port(s.substr(0, dash));
  auto last = dash == std::string_view::npos ? first : parse_port(s.substr(dash + 1));
  if (!first || !last || *first > *last) return std::nullopt;
  return PortRange{*first, *last};
}

std::optional<AddrPrefix> parse_prefix(std::string_view s) {
  AddrPrefix p;
  if (auto v4 = wire::Ipv4Cidr::parse(s)) {
    p.v4 = *v4;
    return p;
  }
  if (auto v6 = wire::Ipv6Cidr::parse(s)) {
    p.v6 = true;
    p.v6_prefix = *v6;
    return p;
  }
  return std::nullopt;
}

std::string show_range(const PortRange& r) {
  return r.first == r.last ? std::to_string(r.first) : std::to_string(r.first) + "-" + std::to_string(r.last);
}

bool port_holds(const std::optional<PortRange>& want, const std::optional<stack::Endpoint>& e) {
  return !want || (e && want->contains(e->port));
}

bool addr_holds(const std::optional<AddrPrefix>& want, const std::optional<stack::Endpoint>& e) {
  return !want || (e && want->contains(e->canonical()));
}

}  // namespace

bool AddrPrefix::contains(const stack::Endpoint& e) const {
  if (e.v6 != v6) return false;
  return v6 ? v6_prefix.contains(e.addr6) : v4.contains(e.addr);
}

std::string AddrPrefix::to_string() const {
  if (v6) return v6_prefix.prefix_len == 128 ? v6_prefix.addr.to_string() : v6_prefix.to_string();
  return v4.prefix_len == 32 ? v4.addr.to_string() : v4.to_string();
}

std::optional<OffloadRules> OffloadRules::parse(std::string_view text, std::string* reason) {
  OffloadRules out;
  text = text::trim(text);
  if (text.empty() || text == "all") return out;
  size_t index = 0;
  bool any_offload = false;
  for (std::string_view piece : text::split(text, ';')) {
    const std::string_view entry = text::trim(piece);
    ++index;
    // "entry 2 \"kernel port=x\": port must be ..."
    auto fail = [&](std::initializer_list<std::string_view> why) {
      reason->assign("entry ").append(std::to_string(index)).append(" \"").append(entry).append("\": ");
      for (std::string_view w : why) reason->append(w);
      return std::nullopt;
    };
    if (entry.empty()) continue;
    const std::vector<std::string_view> w = text::words(entry);
    OffloadRule rule;
    if (w[0] == "offload") {
      rule.offload = true;
    } else if (w[0] == "kernel") {
      rule.offload = false;
    } else {
      return fail({"starts with offload or kernel"});
    }
    for (size_t i = 1; i < w.size(); ++i) {
      const size_t eq = w[i].find('=');
      if (eq == std::string_view::npos) return fail({"\"", w[i], "\" is not key=value"});
      const std::string_view key = w[i].substr(0, eq);
      const std::string_view value = w[i].substr(eq + 1);
      if (key == "port" || key == "remote_port") {
        auto r = parse_range(value);
        if (!r) return fail({key, " must be a port or a range P-Q of 0..65535"});
        (key == "port" ? rule.port : rule.remote_port) = r;
      } else if (key == "local" || key == "remote") {
        auto p = parse_prefix(value);
        if (!p) return fail({key, " must be an IPv4 or IPv6 address or prefix"});
        (key == "local" ? rule.local : rule.remote) = p;
      } else {
        return fail({"unknown condition \"", key, "\" (port, local, remote, remote_port)"});
      }
    }
    any_offload = any_offload || rule.offload;
    out.rules_.push_back(rule);
  }
  if (out.rules_.empty()) {
    *reason = "has no entry (offload|kernel [port=P[-Q]] [local=A[/N]] [remote=A[/N]] [remote_port=P[-Q]]; ...)";
    return std::nullopt;
  }
  out.default_offload_ = !any_offload;
  return out;
}

bool OffloadRules::offload(const PlacementQuery& q) const {
  for (const OffloadRule& r : rules_) {
    if (port_holds(r.port, q.local) && addr_holds(r.local, q.local) && addr_holds(r.remote, q.remote) &&
        port_holds(r.remote_port, q.remote)) {
      return r.offload;
    }
  }
  return default_offload_;
}

std::string OffloadRules::to_string() const {
  std::string out;
  for (const OffloadRule& r : rules_) {
    if (!out.empty()) out += "; ";
    out += r.offload ? "offload" : "kernel";
    if (r.port) out += " port=" + show_range(*r.port);
    if (r.local) out += " local=" + r.local->to_string();
    if (r.remote) out += " remote=" + r.remote->to_string();
    if (r.remote_port) out += " remote_port=" + show_range(*r.remote_port);
  }
  return out;
}

}  // namespace dpdkudp::engine
