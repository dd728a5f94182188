#pragma once
// From recall candidates to the ranking stage's input: the one place where what the recall stage
// returned becomes ranking features (models/ranking_features.h), for the rank stage's training
// lists, the evaluation and the query path alike.

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "dist/communicator.h"
#include "models/ranker.h"
#include "models/ranking_features.h"
#include "serve/recall_service.h"

namespace recsys::serve {

// What the feature builder needs of each candidate, in candidate order (fused rank i + 1 for
// position i). Pure.
std::vector<models::CandidateSignals> CandidateSignalsOf(const std::vector<Candidate>& candidates);

// The query path: the ranking features of one typed query's candidates, in candidate order (the
// query has no dataset row). The same numbers BuildRankingSet gives a test query's list. Pure.
models::RankingFeatures QueryFeatures(const models::RankingFeatureBuilder& builder,
                                      const std::string& text,
                                      const std::vector<Candidate>& candidates);

// COLLECTIVE over comm. The ranking set of the queries at the given dataset rows (the same on
// every rank): rank 0 asks service for their candidates with recall, keeps the fused top
// recall.candidates of each, and shares them; every rank then builds the features (builder) and
// looks up each candidate's judged grade (unjudged: kIrrelevant). Logs progress on rank 0.
models::RankingSet BuildRankingSet(RecallService& service,
                                   const models::RankingFeatureBuilder& builder,
                                   const data::Dataset& dataset,
                                   const std::vector<int32_t>& query_rows,
                                   const RecallOptions& recall, dist::Communicator& comm);

// The rows of the split's judged queries (models::JudgedQueries), in row order.
std::vector<int32_t> JudgedQueryRows(const data::Dataset& dataset, data::Split split);

}  // namespace recsys::serve
