// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// A "foreign" XDP program for the AF_XDP tests: passes everything.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass_test(struct xdp_md *ctx) {
  (void)ctx;
  return XDP_PASS;
}

char _license[] SEC("license") = "Dual BSD/GPL";
