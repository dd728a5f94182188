// The dependencies the project stands on, as this build found them: FAISS and LibTorch compute
// correctly, and BLAS calls land in OpenBLAS (Debian's LibTorch and FAISS link the generic
// libblas.so.3, which is OpenBLAS only when libopenblas is installed: reference BLAS is about 5x
// slower and would silently distort every benchmark).

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <random>
#include <string>

namespace {

bool OpenBlasIsMapped() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("openblas") != std::string::npos) return true;
  }
  return false;
}

TEST(DependenciesTest, TorchMatmulMatchesALoopAndRunsOnOpenBlas) {
  torch::manual_seed(0);
  auto a = torch::randn({64, 32}, torch::kFloat64);
  auto b = torch::randn({32, 16}, torch::kFloat64);
  auto c = torch::mm(a, b);
  auto pa = a.accessor<double, 2>(), pb = b.accessor<double, 2>(), pc = c.accessor<double, 2>();
  for (int i = 0; i < 64; ++i) {
    for (int j = 0; j < 16; ++j) {
      double sum = 0;
      for (int k = 0; k < 32; ++k) sum += pa[i][k] * pb[k][j];
      ASSERT_NEAR(pc[i][j], sum, 1e-9);
    }
  }
  EXPECT_TRUE(OpenBlasIsMapped()) << "libblas.so.3 is not OpenBLAS: install libopenblas-dev";
}

TEST(DependenciesTest, FaissIvfWithAllListsProbedEqualsExactSearch) {
  const int d = 16, n = 2000, nq = 20, k = 10, nlist = 16;
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  std::vector<float> xb(n * d), xq(nq * d);
  for (float& v : xb) v = normal(rng);
  for (float& v : xq) v = normal(rng);

  faiss::IndexFlatIP exact(d);
  exact.add(n, xb.data());
  faiss::IndexFlatIP quantizer(d);
  faiss::IndexIVFFlat ivf(&quantizer, d, nlist, faiss::METRIC_INNER_PRODUCT);
  ivf.train(n, xb.data());
  ivf.add(n, xb.data());
  ivf.nprobe = nlist;

  std::vector<float> d1(nq * k), d2(nq * k);
  std::vector<faiss::Index::idx_t> l1(nq * k), l2(nq * k);
  exact.search(nq, xq.data(), k, d1.data(), l1.data());
  ivf.search(nq, xq.data(), k, d2.data(), l2.data());
  EXPECT_EQ(l1, l2);
}

}  // namespace
