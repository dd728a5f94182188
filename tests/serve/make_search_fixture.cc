// Test helper for recsys_search_cli_test.sh: under mpirun, writes DIR/vectors.h5 (3000 x 16
// clustered unit vectors, model "tower@cli"), DIR/other_vectors.h5 (the same rows, model
// "tower@other"), DIR/narrow_vectors.h5 (each row's first 8 values, model "tower@cli") and
// builds DIR/index from the first on all ranks.
//   mpirun -np N make_search_fixture DIR

#include <mpi.h>

#include <cstdio>
#include <exception>
#include <string>

#include "core/error.h"
#include "data/vector_file.h"
#include "dist/mpi_communicator.h"
#include "dist/mpi_runtime.h"
#include "shards/build_index.h"
#include "shards/gaussian_mixture.h"

int main(int argc, char** argv) {
  try {
    recsys::dist::MpiRuntime mpi(&argc, &argv);
    if (argc != 2) throw recsys::Error("usage: make_search_fixture DIR");
    const std::string dir = argv[1];
    recsys::dist::MpiCommunicator world(MPI_COMM_WORLD);
    if (world.rank() == 0) {
      const auto rows = recsys::shards::GaussianMixture(16, 30, 0.7, 4).Rows(0, 3000);
      recsys::data::WriteVectors(dir + "/vectors.h5", rows, 3000, 16, "tower@cli");
      recsys::data::WriteVectors(dir + "/other_vectors.h5", rows, 3000, 16, "tower@other");
      // The same model name, half the width: only the width tells it apart.
      std::vector<float> narrow;
      for (int64_t r = 0; r < 3000; ++r) {
        narrow.insert(narrow.end(), rows.begin() + r * 16, rows.begin() + r * 16 + 8);
      }
      recsys::data::WriteVectors(dir + "/narrow_vectors.h5", narrow, 3000, 8, "tower@cli");
    }
    world.Barrier();
    recsys::shards::IndexBuildOptions options;
    options.vectors_path = dir + "/vectors.h5";
    options.index_dir = dir + "/index";
    options.show_progress = false;
    recsys::shards::BuildIndex(options, world);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_search_fixture: %s\n", e.what());
    return 1;
  }
}
