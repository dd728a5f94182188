#pragma once
// Writing a file so that readers see the old content or the whole new one, never a part, even
// after a crash or a power cut: write a temporary file beside it, fsync it, rename it into place
// (atomic on POSIX file systems), fsync the directory. Directories are replaced the same way.

#include <string>

namespace recsys {

// The temporary name a write to path goes through: beside path, unique to this process on this
// host ("<path>.tmp.<host>.<pid>"), so that RemoveStaleTemporaries can tell whose it is.
std::string TemporaryPath(const std::string& path);

// Removes the temporary files of path ("<path>.tmp.*") left by processes of this host that no
// longer run (a writer killed by SIGKILL, SIGINT or SIGTERM). Files of live processes and of
// other hosts stay. Returns how many it removed.
int RemoveStaleTemporaries(const std::string& path);
// The same for every temporary file anywhere under dir (a run folder at start-up).
int RemoveStaleTemporariesUnder(const std::string& dir);

// fsync of a file or a directory; throws recsys::Error naming it on failure.
void SyncPath(const std::string& path);

// Makes the finished temporary file tmp durable and renames it to path, then syncs path's
// directory; on failure removes tmp and throws recsys::Error naming path.
void RenameIntoPlace(const std::string& tmp, const std::string& path);

// Writes content to path atomically and durably. Throws recsys::Error naming the file on failure
// (nothing is left under either name then).
void WriteFileAtomically(const std::string& path, const std::string& content);

// "<dir>.partial": where a directory that replaces dir as a whole is built.
std::string StagingDirectory(const std::string& dir);

// Replaces directory dir by the finished directory staging in one step (renameat2's
// RENAME_EXCHANGE; a plain rename when dir does not exist yet), so that readers see the old
// directory or the new one, never a mix; then removes the old one and syncs the parent. Not
// collective: one rank calls it once every rank has finished writing into staging.
void ReplaceDirectory(const std::string& staging, const std::string& dir);

}  // namespace recsys
