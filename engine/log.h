// One-line diagnostics on stderr (or syslog), "dpdkudp: ..." , filtered by DPDKUDP_LOG.
// Written with write(2) on a stack buffer: safe in the LD_PRELOAD start-up
// path and from any thread, never allocates.
#pragma once

#include <cstdarg>

#include "engine/config.h"

namespace dpdkudp::engine {

void set_log_level(LogLevel level);
// DPDKUDP_LOG_TARGET: stderr (the default) or syslog(3) at the level's
// priority, under the program's own ident (journald on systemd hosts).
void set_log_target(LogTarget target);
LogLevel log_level();
bool log_enabled(LogLevel level);

// printf-style; the "dpdkudp: " prefix and the newline are added.
void log(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace dpdkudp::engine
