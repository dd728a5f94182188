#include "models/ranker_objective.h"

#include <algorithm>
#include <utility>

#include "dist/distributed_sampler.h"
#include "models/ranking_losses.h"

namespace recsys::models {
namespace {

constexpr int kNdcgAt = 10;  // LambdaRank's truncation and the validation metric's cut-off

// Rows of the given [begin, end) ranges of features, in order, as one RankingFeatures.
RankingFeatures SelectRanges(const RankingFeatures& features,
                             const std::vector<std::pair<int64_t, int64_t>>& ranges) {
  RankingFeatures out;
  out.num_buckets = features.num_buckets;
  for (const auto& [begin, end] : ranges) {
    const RankingFeatures part = SelectRows(features, begin, end);
    for (int64_t offset : part.offsets) out.offsets.push_back(offset + out.ids.size());
    out.ids.insert(out.ids.end(), part.ids.begin(), part.ids.end());
    out.dense.insert(out.dense.end(), part.dense.begin(), part.dense.end());
    out.rows += part.rows;
  }
  return out;
}

}  // namespace

RankerObjective::RankerObjective(RankerNetImpl& net, const RankerObjectiveOptions& options,
                                 const RankingSet& train, const RankingSet& valid,
                                 const data::Dataset& dataset)
    : net_(net), options_(options), train_(train), valid_(valid), dataset_(dataset) {
  for (int64_t g = 0; g < train.groups(); ++g) {
    bool positive = false;
    for (int64_t r = train.group_offsets[g]; r < train.group_offsets[g + 1]; ++r) {
      positive = positive || options.gains(train.grades[r]) > 0;
    }
    if (positive) groups_.push_back(g);
  }
}

torch::Tensor RankerObjective::LocalLoss(const std::vector<int64_t>& batch, int64_t, int64_t,
                                         dist::Communicator& comm) {
  const auto global = static_cast<int64_t>(batch.size());
  const dist::Slice mine = dist::SliceOf(global, comm.rank(), comm.size());
  std::vector<std::pair<int64_t, int64_t>> ranges;
  std::vector<int64_t> offsets = {0};
  std::vector<float> gains;
  int64_t global_rows = 0;
  for (int64_t i = 0; i < global; ++i) {
    const int64_t g = groups_[batch[i]];
    const int64_t begin = train_.group_offsets[g], end = train_.group_offsets[g + 1];
    global_rows += end - begin;
    if (i < mine.begin || i >= mine.end) continue;
    ranges.emplace_back(begin, end);
    offsets.push_back(offsets.back() + end - begin);
    for (int64_t r = begin; r < end; ++r) {
      gains.push_back(static_cast<float>(options_.gains(train_.grades[r])));
    }
  }
  const torch::Tensor scores =
      net_.forward(ToRankerInput(SelectRanges(train_.features, ranges), 0, offsets.back()));
  const torch::Tensor gain_t =
      torch::tensor(gains, torch::kFloat32).to(scores.device(), scores.scalar_type());
  if (options_.loss == RankerLoss::kBce) {
    return PointwiseBceSum(scores, gain_t) / static_cast<double>(std::max<int64_t>(1, global_rows));
  }
  return LambdaRankSum(scores, gain_t, offsets, kNdcgAt) / static_cast<double>(global);
}

// NDCG@10 over the full catalogue of the valid queries: each rank scores its slice of them.
double RankerObjective::Validate(dist::Communicator& comm) {
  const bool training = net_.is_training();
  net_.eval();
  const dist::Slice mine = dist::SliceOf(valid_.groups(), comm.rank(), comm.size());
  const std::vector<float> local =
      mine.size() > 0
          ? ScoreFeatures(net_, SelectRows(valid_.features, valid_.group_offsets[mine.begin],
                                           valid_.group_offsets[mine.end]))
          : std::vector<float>();
  if (training) net_.train();
  return RankedNdcg(valid_, dist::AllGatherV(comm, local), dataset_, kNdcgAt,
                    options_.relevant_from, options_.gains);
}

}  // namespace recsys::models
