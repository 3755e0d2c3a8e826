// One-line diagnostics on stderr, "dpdkudp: ..." , filtered by DPDKUDP_LOG.
// Written with write(2) on a stack buffer: safe in the LD_PRELOAD start-up
// path and from any thread, never allocates.
#pragma once

#include <cstdarg>

#include "engine/config.h"

namespace dpdkudp::engine {

void set_log_level(LogLevel level);
LogLevel log_level();
bool log_enabled(LogLevel level);

// printf-style; the "dpdkudp: " prefix and the newline are added.
void log(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace dpdkudp::engine
