#pragma once
// Helpers shared by the dist tests.

#include <gtest/gtest.h>
#include <mpi.h>

#include <initializer_list>
#include <string>

#include "core/error.h"

namespace recsys::dist::testing_util {

// Runs fn, which must throw recsys::Error whose what() contains every one of parts.
template <typename Fn>
void ExpectErrorContaining(Fn&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "expected a recsys::Error, nothing was thrown";
  } catch (const Error& e) {
    const std::string what = e.what();
    for (const std::string& part : parts) {
      EXPECT_NE(what.find(part), std::string::npos) << "'" << part << "' not in: " << what;
    }
  }
}

// "rank R of N": how error messages name this process (its MPI_COMM_WORLD rank).
inline std::string RankText() {
  int rank = 0;
  int size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return "rank " + std::to_string(rank) + " of " + std::to_string(size);
}

}  // namespace recsys::dist::testing_util
