#include "core/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace recsys {
namespace {
// Process-wide logging settings: written once by main() before any thread starts.
std::string g_tag;
LogLevel g_level = LogLevel::kInfo;
}  // namespace

void SetLogTag(const std::string& tag) { g_tag = tag; }
void SetLogLevel(LogLevel level) { g_level = level; }

void LogLine(LogLevel level, const std::string& message) {
  if (level < g_level) return;
  static const char kLetters[] = {'D', 'I', 'W', 'E'};
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&now, &tm);
  char clock[16];
  std::strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
  // One fprintf per line so that lines from ranks sharing a terminal do not interleave mid-line.
  std::fprintf(stderr, "[%c %s%s%s] %s\n", kLetters[static_cast<int>(level)], clock,
               g_tag.empty() ? "" : " ", g_tag.c_str(), message.c_str());
}

}  // namespace recsys
