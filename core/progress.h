#pragma once
// Progress of long work on one updating line when stderr is a terminal, or a plain log line at
// most every few seconds otherwise (CI logs, Slurm output files).

#include <chrono>
#include <cstdint>
#include <string>

namespace recsys {

class Progress {
 public:
  // total: units of work expected (0 = unknown); unit: what is counted ("products").
  // enabled=false makes every call a no-op (ranks other than 0).
  Progress(std::string label, int64_t total, std::string unit, bool enabled = true);
  ~Progress();  // Finish() if not done yet
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Sets the units done so far; prints at most ~10 times a second on a terminal.
  void Update(int64_t done);
  // The same, with a note shown after the counts ("loss 0.4213"), kept until the next note.
  void Update(int64_t done, std::string note);
  // Prints the final line with the elapsed time and rate.
  void Finish();

 private:
  void Print(bool final);

  std::string label_, unit_, note_;
  int64_t total_, done_ = 0;
  bool enabled_, tty_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_print_;
};

}  // namespace recsys
