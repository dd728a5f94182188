#pragma once
// Writing a file so that readers see the old content or the whole new one, never a part: write a
// temporary file beside it, then rename it into place (atomic on POSIX file systems).

#include <string>

namespace recsys {

// The temporary name a write to path goes through (beside path, unique to this process).
std::string TemporaryPath(const std::string& path);

// Renames the finished temporary file tmp to path; on failure removes tmp and throws
// recsys::Error naming path.
void RenameIntoPlace(const std::string& tmp, const std::string& path);

// Writes content to path atomically. Throws recsys::Error naming the file on failure (nothing is
// left under either name then).
void WriteFileAtomically(const std::string& path, const std::string& content);

}  // namespace recsys
