// Telling one process from a later one that reuses its pid: a pid alone is
// not an identity once the process may have died.
#pragma once

#include <cstdint>

namespace dpdkudp::base {

// /proc/<pid>/stat field 22 (starttime, clock ticks since boot), 0 when the
// process is gone.
uint64_t process_start_time(uint32_t pid);

// Whether the process that started at `start_time` (as above) still runs:
// its /proc entry is there, started then, and is not a zombie (which
// holds its pid until reaped but will never read a socket again).
bool process_running(uint32_t pid, uint64_t start_time);

// Whether pid is this process's parent, or its parent's, and so on up
// the chain (a pre-forking server's workers may be forked by a process the
// main one forked).
bool is_ancestor(uint32_t pid);

// The user a process creates files as (/proc/<pid>/status, "Uid:", the
// filesystem uid), -1 when the process is gone or it cannot be read.
int64_t process_fs_uid(uint32_t pid);

}  // namespace dpdkudp::base
