#include "core/gnuplot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "core/error.h"

extern char** environ;

namespace recsys {
namespace {

// gnuplot's messages kept in an error: the end, where the failing line is reported.
constexpr size_t kMaxMessage = 4000;

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

// An anonymous temporary file (gone once closed).
File TemporaryFile(const char* what) {
  File f(std::tmpfile());
  RECSYS_CHECK(f, "gnuplot: cannot create a temporary file for its " << what << ": "
                                                                     << std::strerror(errno));
  return f;
}

std::string ReadAll(FILE* f) {
  std::string out;
  std::rewind(f);
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0) out.append(buffer, n);
  return out;
}

// The end of gnuplot's stderr, without blank lines around it.
std::string Message(std::string text) {
  const size_t last = text.find_last_not_of(" \t\r\n");
  text.erase(last == std::string::npos ? 0 : last + 1);
  const size_t first = text.find_first_not_of("\r\n");
  text.erase(0, first == std::string::npos ? text.size() : first);
  if (text.size() > kMaxMessage) text = "..." + text.substr(text.size() - kMaxMessage);
  return text.empty() ? "(no message)" : text;
}

}  // namespace

void RunGnuplot(const std::string& script) {
  // The script goes in through a file rather than a pipe: gnuplot may stop reading early (an
  // error, `exit`), and a pipe would then raise SIGPIPE in this process or, with a full stderr
  // pipe beside it, deadlock. Both standard streams it reads or writes are files.
  File input = TemporaryFile("script");
  RECSYS_CHECK(std::fwrite(script.data(), 1, script.size(), input.get()) == script.size() &&
                   std::fflush(input.get()) == 0,
               "gnuplot: cannot write its script to a temporary file");
  std::rewind(input.get());
  File errors = TemporaryFile("messages");

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fileno(input.get()), STDIN_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fileno(errors.get()), STDERR_FILENO);
  char program[] = "gnuplot";
  char* argv[] = {program, nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, program, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned == ENOENT) RECSYS_THROW("gnuplot not found: install gnuplot-nox (launch/setup.sh)");
  RECSYS_CHECK(spawned == 0, "cannot start gnuplot: " << std::strerror(spawned));

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    RECSYS_CHECK(errno == EINTR, "waiting for gnuplot: " << std::strerror(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  const std::string message = Message(ReadAll(errors.get()));
  if (WIFSIGNALED(status)) {
    RECSYS_THROW("gnuplot was killed by signal " << WTERMSIG(status) << ":\n" << message);
  }
  RECSYS_THROW("gnuplot failed (exit status " << WEXITSTATUS(status) << "):\n" << message);
}

std::string GnuplotQuoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace recsys
