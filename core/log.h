#pragma once
// Minimal logging to stderr: "[I 12:03:04 r0] message". The rank tag is set once by main().

#include <sstream>
#include <string>

namespace recsys {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Sets the tag printed on every line (e.g. "r3"); empty for none. Call once, before threads.
void SetLogTag(const std::string& tag);
// Lines below this level are dropped. Default kInfo.
void SetLogLevel(LogLevel level);
void LogLine(LogLevel level, const std::string& message);

}  // namespace recsys

#define RECSYS_LOG(level, stream_expr)                                  \
  do {                                                                  \
    std::ostringstream recsys_log_os_;                                  \
    recsys_log_os_ << stream_expr;                                      \
    ::recsys::LogLine(::recsys::LogLevel::level, recsys_log_os_.str()); \
  } while (0)
#define RECSYS_INFO(stream_expr) RECSYS_LOG(kInfo, stream_expr)
#define RECSYS_WARN(stream_expr) RECSYS_LOG(kWarning, stream_expr)
