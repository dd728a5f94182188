#pragma once
// Errors and checks. Everything below main() reports failure by throwing recsys::Error; main()
// turns it into a one-line message and an exit code (see launch/main_util.h).

#include <sstream>
#include <stdexcept>
#include <string>

namespace recsys {

// The project's one exception type. what() is a complete, human-readable message.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
[[noreturn]] void ThrowError(const char* file, int line, const std::string& message);
}  // namespace detail

}  // namespace recsys

// RECSYS_THROW("bad value " << v): throws recsys::Error with the streamed message and file:line.
#define RECSYS_THROW(stream_expr)                                             \
  do {                                                                        \
    std::ostringstream recsys_throw_os_;                                      \
    recsys_throw_os_ << stream_expr;                                          \
    ::recsys::detail::ThrowError(__FILE__, __LINE__, recsys_throw_os_.str()); \
  } while (0)

// RECSYS_CHECK(n > 0, "n must be positive, got " << n): throws recsys::Error with the message
// when the condition is false. The message is what a user reads: it must say what is wrong
// without the condition's source text.
#define RECSYS_CHECK(cond, stream_expr)     \
  do {                                      \
    if (!(cond)) RECSYS_THROW(stream_expr); \
  } while (0)
