#include "models/checkpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/error.h"
#include "models/two_tower.h"
#include "tests/models/two_tower_test_util.h"
#include "tests/test_util.h"

namespace recsys::models {
namespace {

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("recsys_checkpoint_test_" + std::to_string(getpid()) + "_" + name))
      .string();
}

using testing::ErrorOf;

TEST(CheckpointTest, RoundTripsInfoAndParameters) {
  const data::Dataset d = testing_util::SmallDataset(100, 10);
  torch::manual_seed(1);
  TwoTower a(testing_util::TinyOptions(d).learn_temperature(true));
  torch::manual_seed(2);
  TwoTower b(testing_util::TinyOptions(d).learn_temperature(true));
  const std::string path = TempPath("roundtrip.h5");
  {
    H5Writer out(path);
    WriteCheckpointInfo(out, {"two_tower", ToConfig(a->options), 17, 3}, torch::kFloat32);
    WriteModule(out, *a);
    out.Commit();
  }
  H5Reader in(path);
  const CheckpointInfo info = ReadCheckpointInfo(in);
  EXPECT_EQ(info.model, "two_tower");
  EXPECT_EQ(info.step, 17);
  EXPECT_EQ(info.epoch, 3);
  EXPECT_EQ(info.config, ToConfig(a->options));
  ReadModule(in, *b);
  testing_util::ExpectModulesClose(*b, *a, 0.0, 0.0);
  std::filesystem::remove(path);
}

TEST(CheckpointTest, RefusesNonFiniteTensorsNamingThem) {
  const std::string path = TempPath("nan.h5");
  {
    H5Writer out(path);
    WriteCheckpointInfo(out, {"m", {{"size", "3"}}, 0, 0}, torch::kFloat32);
    WriteTensor(out, "params/w", torch::tensor({1.0f, 2.0f, std::nanf("")}));
    out.Commit();
  }
  torch::Tensor w = torch::zeros({3});
  EXPECT_TRUE(
      testing::Mentions(testing::ErrorOf([&] { ReadTensorInto(H5Reader(path), "params/w", w); }),
                        {"nan.h5: params/w holds NaN or infinite values (first at element 2)"}));
  std::filesystem::remove(path);
}

TEST(CheckpointTest, ConfigurationNumbersCompareByValue) {
  EXPECT_EQ(DoubleText(0.05), "0.05");
  EXPECT_EQ(DoubleText(0.1 + 0.2), "0.30000000000000004");
  // An older checkpoint wrote 17 digits: the same number is no difference.
  EXPECT_EQ(ConfigDifferences({{"lr", "0.050000000000000003"}}, {{"lr", "0.05"}}), "");
  EXPECT_EQ(ConfigDifferences({{"lr", "0.05"}, {"x", "a"}}, {{"lr", "0.5"}, {"x", "a"}}),
            "lr=0.05 in the checkpoint, 0.5 here");
}

TEST(CheckpointTest, RefusesAnotherConfigurationSayingWhatDiffers) {
  ModelConfig ours = {{"dim", "64"}, {"variant", "pairwise"}, {"hidden", "128"}};
  CheckpointInfo found{"two_tower", {{"dim", "32"}, {"variant", "base"}, {"hidden", "128"}}, 0, 0};
  const std::string message =
      ErrorOf([&] { CheckCheckpointMatches(found, "run/ck.h5", "two_tower", ours); });
  EXPECT_NE(message.find("run/ck.h5"), std::string::npos) << message;
  EXPECT_NE(message.find("dim=32 in the checkpoint, 64 here"), std::string::npos) << message;
  EXPECT_NE(message.find("variant=base in the checkpoint, pairwise here"), std::string::npos)
      << message;
  EXPECT_EQ(message.find("hidden"), std::string::npos) << message;

  found.config.erase("hidden");
  found.config["extra"] = "1";
  found.config["dim"] = "64";
  found.config["variant"] = "pairwise";
  const std::string missing =
      ErrorOf([&] { CheckCheckpointMatches(found, "ck.h5", "two_tower", ours); });
  EXPECT_NE(missing.find("hidden=(missing) in the checkpoint, 128 here"), std::string::npos)
      << missing;
  EXPECT_NE(missing.find("extra=1 in the checkpoint, (unknown) here"), std::string::npos)
      << missing;

  found.model = "fm";
  const std::string model =
      ErrorOf([&] { CheckCheckpointMatches(found, "ck.h5", "two_tower", ours); });
  EXPECT_NE(model.find("holds a fm model, not two_tower"), std::string::npos) << model;
}

TEST(CheckpointTest, RefusesFilesThatAreNotCheckpointsAndWrongShapes) {
  const std::string path = TempPath("other.h5");
  {
    H5Writer out(path);
    out.Write("params/w", std::vector<float>{1, 2, 3});
    out.Commit();
  }
  H5Reader in(path);
  EXPECT_NE(ErrorOf([&] { ReadCheckpointInfo(in); }).find("not a recsys-checkpoint file"),
            std::string::npos);
  torch::Tensor wrong = torch::zeros({2, 2});
  EXPECT_NE(ErrorOf([&] { ReadTensorInto(in, "params/w", wrong); }).find("has shape"),
            std::string::npos);
  EXPECT_NE(ErrorOf([&] { ReadTensorInto(in, "params/none", wrong); }).find("has no tensor"),
            std::string::npos);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace recsys::models
