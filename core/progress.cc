#include "core/progress.h"

#include <unistd.h>

#include <cstdio>
#include <utility>

#include "core/log.h"

namespace recsys {

Progress::Progress(std::string label, int64_t total, std::string unit, bool enabled)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

Progress::~Progress() {
  if (!finished_) Finish();
}

void Progress::Update(int64_t done) {
  done_ = done;
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  auto interval = tty_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
  if (now - last_print_ < interval) return;
  last_print_ = now;
  Print(false);
}

void Progress::Update(int64_t done, std::string note) {
  note_ = std::move(note);
  Update(done);
}

void Progress::Finish() {
  if (finished_) return;
  finished_ = true;
  if (enabled_) Print(true);
}

void Progress::Print(bool final) {
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = seconds > 0 ? done_ / seconds : 0.0;
  char line[256];
  if (total_ > 0 && !final) {
    double eta = rate > 0 ? (total_ - done_) / rate : 0.0;
    std::snprintf(line, sizeof(line), "%s: %lld/%lld %s (%.0f%%), %.0f %s/s, ETA %.0fs",
                  label_.c_str(), static_cast<long long>(done_), static_cast<long long>(total_),
                  unit_.c_str(), 100.0 * done_ / total_, rate, unit_.c_str(), eta);
  } else {
    std::snprintf(line, sizeof(line), "%s: %lld %s in %.2fs (%.0f %s/s)", label_.c_str(),
                  static_cast<long long>(done_), unit_.c_str(), seconds, rate, unit_.c_str());
  }
  std::string text = line;
  if (!note_.empty()) text += ", " + note_;
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s%s", text.c_str(), final ? "\n" : "");
    std::fflush(stderr);
  } else {
    LogLine(LogLevel::kInfo, text);
  }
}

}  // namespace recsys
