#pragma once
// Charts through the gnuplot program (Debian: gnuplot-nox, installed by launch/setup.sh).

#include <string>

namespace recsys {

// Runs gnuplot on script (given on its standard input, as if typed; gnuplot's standard output is
// discarded, so the script must `set output` to a file). Returns when gnuplot has exited, so the
// files it wrote are complete. Throws recsys::Error with gnuplot's stderr when it exits with a
// non-zero status or is killed, and "gnuplot not found: install gnuplot-nox (launch/setup.sh)"
// when no gnuplot is on PATH. Warnings gnuplot prints while succeeding are dropped.
void RunGnuplot(const std::string& script);

// s as a gnuplot single-quoted string literal ('it''s'): no escapes are interpreted inside, so
// any path or label survives as written.
std::string GnuplotQuoted(const std::string& s);

}  // namespace recsys
