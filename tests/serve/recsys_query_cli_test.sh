#!/usr/bin/env bash
# End-to-end tests of recsys_query on a small real run: recsys_train (2 ranks) generates data,
# trains the base variant briefly, embeds, builds the vector and lexical indexes; recsys_query
# then answers text queries through them.
# Usage: recsys_query_cli_test.sh BIN_DIR   (run by ctest)
set -uo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../cli_test_lib.sh"

run=$work/run
if ! mpirun -np 2 --oversubscribe "$bin/recsys_train" --out "$run" --products 2000 --queries 1500 \
    --variant base --epochs 2 --stage data >"$work/train.log" 2>&1 ||
   ! mpirun -np 2 --oversubscribe "$bin/recsys_train" --out "$run" --variant base --epochs 2 \
    --stage recall >>"$work/train.log" 2>&1 ||
   ! mpirun -np 2 --oversubscribe "$bin/recsys_train" --out "$run" --stage embed \
    >>"$work/train.log" 2>&1 ||
   ! mpirun -np 2 --oversubscribe "$bin/recsys_train" --out "$run" --stage index --nlist 16 \
    >>"$work/train.log" 2>&1; then
  echo "FAIL: could not build the run: $(tail -5 "$work/train.log")"
  exit 1
fi
query=("$bin/recsys_query" --run "$run")

# 1. --help documents every flag.
if "$bin/recsys_query" --help >"$work/help" 2>&1; then
  missing=""
  for flag in --run --data --queries-file --k --mode --candidates --nprobe --fusion --tsv \
      --ranker --diversity --freshness --diversity-by --half-life --feature-buckets --help; do
    grep -qF -- "$flag" "$work/help" || missing="$missing $flag"
  done
  if [ -z "$missing" ]; then pass "help lists every flag"; else fail "help lacks:$missing"; fi
else
  fail "--help exited non-zero"
fi

# 2. A query that repeats a product's title finds that product in every mode. The product and
#    its title come from a lexical query for a common word.
mpirun -np 2 --oversubscribe "${query[@]}" --mode lexical --tsv --k 1 "black" >"$work/seed.tsv" 2>"$work/seed.err"
id=$(cut -f4 "$work/seed.tsv" | head -1)
title=$(cut -f5 "$work/seed.tsv" | head -1)
if [ -n "$id" ] && [ -n "$title" ]; then pass "lexical query gives a product ($id)"; else
  fail "no product for 'black': $(head -c 400 "$work/seed.tsv")"; fi
for mode in dense lexical hybrid; do
  if mpirun -np 2 --oversubscribe "${query[@]}" --mode "$mode" --tsv --k 10 "$title" \
      >"$work/$mode.tsv" 2>"$work/$mode.err" && cut -f4 "$work/$mode.tsv" | grep -qxF "$id"; then
    pass "$mode: the title finds $id in the top 10"
  else
    fail "$mode: $id not in the top 10 for '$title': $(head -c 400 "$work/$mode.tsv" "$work/$mode.err")"
  fi
done
# Hybrid results carry both sources' ranks; the table form prints a header and the timings.
if awk -F'\t' '$9 > 0 && $11 > 0' "$work/hybrid.tsv" | grep -q .; then
  pass "hybrid results carry dense and bm25 ranks"
else
  fail "no hybrid result found by both sources: $(head -c 400 "$work/hybrid.tsv")"
fi
if mpirun -np 2 --oversubscribe "${query[@]}" "$title" "usb cable" >"$work/table.out" 2>&1 &&
    grep -q "vector index" "$work/table.out" && [ "$(grep -c '^query:' "$work/table.out")" = 2 ] &&
    grep -qF "$id" "$work/table.out"; then
  pass "table output for two queries"
else
  fail "table output: $(head -c 600 "$work/table.out")"
fi

# 3. The same answers on 1, 2 and 4 ranks, and from a queries file.
printf '%s\n\nusb cable\nred shoes\n' "$title" >"$work/queries.txt"
for np in 1 2 4; do
  mpirun -np $np --oversubscribe "${query[@]}" --tsv --queries-file "$work/queries.txt" \
    >"$work/np$np.tsv" 2>"$work/np$np.err" || fail "$np rank(s): $(tail -3 "$work/np$np.err")"
done
if [ -s "$work/np1.tsv" ] && cmp -s "$work/np1.tsv" "$work/np2.tsv" &&
    cmp -s "$work/np1.tsv" "$work/np4.tsv" && [ "$(cut -f1 "$work/np1.tsv" | sort -u | wc -l)" = 3 ]; then
  pass "same results on 1, 2 and 4 ranks for 3 queries from a file"
else
  fail "results differ between rank counts or queries missing"
fi

# 4. recsys_train checks every stage's inputs before the first stage starts: the embed stage of
#    a run that trained base only uses base (auto) and refuses another variant at once.
if grep -q "wrote $run/vectors.h5 (2000 x 64, two_tower_base-" "$work/train.log"; then
  pass "embed after --variant base uses base"
else
  fail "embed did not use the base variant: $(grep -i vectors "$work/train.log" | head -3)"
fi
expect_fail "embed of an untrained variant" 1 "no two-tower checkpoint of variant(s) 'pairwise'" \
  "$bin/recsys_train" --out "$run" --stage embed --embed-variant pairwise
expect_fail "embed variant that training will not make" 1 "neither trained by --variant base" \
  "$bin/recsys_train" --out "$work/other" --variant base --embed-variant listwise
expect_fail "recall without a dataset" 1 "no dataset $work/none.h5" \
  "$bin/recsys_train" --out "$work/other" --data "$work/none.h5" --stage recall
expect_fail "bad hidden width before any stage" 2 "--hidden must be at least 1" \
  "$bin/recsys_train" --out "$work/other" --hidden 0
[ -e "$work/other/dataset.h5" ] && fail "a refused run wrote a dataset" || pass "refused runs wrote nothing"

# 5. The eval stage measures through the serving path: with every cluster probed the index rows
#    equal exact search; the table is the same on 1 and 2 ranks; a per-query CSV is written.
for np in 1 2; do
  if mpirun -np $np --oversubscribe "$bin/recsys_train" --out "$run" --stage eval --variant base \
      --nprobe 16 --cutoffs 10,50 >"$work/eval$np.log" 2>&1; then
    cp "$run/results/recall_metrics.md" "$work/eval$np.md"
    pass "eval on $np rank(s)"
  else
    fail "eval on $np rank(s): $(tail -3 "$work/eval$np.log")"
  fi
done
metrics() { grep -F "| $1 |" "$work/eval1.md" | cut -d'|' -f3-9; }
if [ -n "$(metrics 'two_tower_base exact')" ] &&
    [ "$(metrics 'two_tower_base exact')" = "$(metrics 'two_tower_base ivf nprobe=16')" ]; then
  pass "all 16 clusters probed: the index rows equal exact search"
else
  fail "exact and ivf rows differ: $(grep two_tower "$work/eval1.md")"
fi
for row in "bm25" "hybrid score M=50 (two_tower_base + bm25)" "hybrid rrf M=50 (two_tower_base + bm25)"; do
  grep -qF "| $row |" "$work/eval1.md" && pass "eval row: $row" || fail "eval lacks row $row"
done
if cmp -s "$work/eval1.md" "$work/eval2.md"; then pass "eval table equal on 1 and 2 ranks"; else
  fail "eval tables differ: $(diff "$work/eval1.md" "$work/eval2.md" | head -5)"; fi
if head -1 "$run/results/recall_per_query.csv" | grep -qx "model,query_id,relevant,recall@10,recall@50,ndcg@10"; then
  pass "per-query CSV with the chosen cut-offs"
else
  fail "per-query CSV header: $(head -1 "$run/results/recall_per_query.csv")"
fi

# 6. The rank stage trains rankers on the deployed hybrid candidates; the eval stage writes the
#    ranking comparison; recsys_compare compares chosen checkpoints; recsys_query --ranker
#    re-orders the fused top M.
if mpirun -np 2 --oversubscribe "$bin/recsys_train" --out "$run" --stage rank \
    --rankers fm,dcn-2,xgboost --rank-epochs 2 --rank-candidates 30 --xgb-rounds 10 \
    >"$work/rank.log" 2>&1; then
  pass "rank stage trains fm, dcn-2 and xgboost"
else
  fail "rank stage: $(tail -3 "$work/rank.log")"
fi
for name in fm dcn-2 xgboost; do
  [ -s "$run/checkpoints/ranker_$name.h5" ] && pass "checkpoint ranker_$name.h5" ||
    fail "no checkpoint ranker_$name.h5"
done
[ -s "$run/results/curves/ranker_dcn-2.csv" ] && pass "training curve of dcn-2" ||
  fail "no training curve for dcn-2"
if mpirun -np 2 --oversubscribe "$bin/recsys_train" --out "$run" --stage eval --variant base \
    --eval-candidates 30,60 >"$work/rank_eval.log" 2>&1; then
  pass "eval stage with rankers"
else
  fail "eval with rankers: $(tail -3 "$work/rank_eval.log")"
fi
report=$run/results/ranking_comparison
for row in "popularity | -" "bm25 | -" "fusion | 30" "fm | 30" "dcn-2 | 60" "xgboost | 60"; do
  grep -qF "| $row |" "$report.md" && pass "comparison row: $row" || fail "comparison lacks $row"
done
[ "$(wc -l <"$report.csv")" = 11 ] && pass "comparison CSV: header and 10 rows" ||
  fail "comparison CSV has $(wc -l <"$report.csv") lines"
head -c 4 "$report.png" | grep -q PNG && pass "comparison chart is a PNG" || fail "no PNG chart"
grep -q "DCN depth ablation" "$report.md" && pass "DCN depth ablation table" ||
  fail "no ablation table"
[ -s "$run/results/rerank.md" ] && grep -q "diversity" "$run/results/rerank.md" &&
  pass "re-rank table" || fail "no re-rank table"
for curve in ranker_fm ranker_dcn-2 two_tower_base; do
  head -c 4 "$run/results/curves/$curve.png" 2>/dev/null | grep -q PNG &&
    pass "training curve chart $curve.png" || fail "no chart $curve.png"
done
if mpirun -np 2 --oversubscribe "$bin/recsys_compare" --run "$run" --name two --eval-candidates 30 \
    "$run/checkpoints/ranker_fm.h5" "$run/checkpoints/ranker_xgboost.h5" >"$work/compare.log" 2>&1 &&
    [ -s "$run/results/two.md" ] && [ -s "$run/results/two.csv" ] &&
    head -c 4 "$run/results/two.png" | grep -q PNG &&
    [ "$(grep -c '^| \(fm\|xgboost\) | 30 |' "$run/results/two.md")" = 2 ] &&
    ! grep -q '^| dcn-2 ' "$run/results/two.md"; then
  pass "recsys_compare on two checkpoints writes md, csv and png with their rows"
else
  fail "recsys_compare: $(tail -3 "$work/compare.log") $(head -c 600 "$run/results/two.md" 2>/dev/null)"
fi
# The ranker re-orders the same fused top M: with k = M the product sets are equal.
mpirun -np 2 --oversubscribe "${query[@]}" --tsv --k 20 --candidates 20 "$title" \
  >"$work/plain.tsv" 2>"$work/plain.err"
mpirun -np 2 --oversubscribe "${query[@]}" --tsv --k 20 --candidates 20 --ranker dcn "$title" \
  >"$work/ranked.tsv" 2>"$work/ranked.err"
if [ -s "$work/ranked.tsv" ] && [ "$(cut -f4 "$work/plain.tsv" | sort)" = "$(cut -f4 "$work/ranked.tsv" | sort)" ] &&
    [ "$(cut -f7 "$work/ranked.tsv")" = "$(cut -f7 "$work/ranked.tsv" | sort -gr)" ]; then
  pass "--ranker dcn re-orders the fused top M by its score"
else
  fail "--ranker: $(head -c 400 "$work/ranked.tsv" "$work/ranked.err")"
fi
expect_fail "unknown ranker to train" 2 "unknown ranker 'gbdt'" \
  "$bin/recsys_train" --out "$run" --stage rank --rankers fm,gbdt
expect_fail "ranker not trained" 1 "ranker_dcn-6.h5" "${query[@]}" --ranker dcn-6 "lamp"
expect_fail "re-rank without a ranker" 2 "need --ranker" "${query[@]}" --diversity 0.3 "lamp"
expect_fail "compare without checkpoints" 2 "no ranker checkpoint given" \
  "$bin/recsys_compare" --run "$run"
expect_fail "rank stage without an index" 1 "run the index stage first" \
  "$bin/recsys_train" --out "$work/empty_rank" --data "$run/dataset.h5" --stage rank

# 7. Bad input.
expect_fail "empty query" 2 "query 2 is empty" "${query[@]}" "lamp" "  "
expect_fail "no query" 2 "no query given" "${query[@]}"
expect_fail "unknown mode" 2 "unknown recall mode 'fuzzy'" "${query[@]}" --mode fuzzy "lamp"
expect_fail "unknown fusion" 2 "unknown fusion 'max'" "${query[@]}" --fusion max "lamp"
expect_fail "k zero" 2 "must be at least 1" "${query[@]}" --k 0 "lamp"
expect_fail "missing queries file" 2 "cannot open" "${query[@]}" --queries-file "$work/none.txt"
"$bin/recsys_data" generate --products 500 --queries 100 --out "$work/other.h5" >/dev/null 2>&1
expect_fail "dataset of another catalogue" 1 "has 500 products, the index in" \
  "${query[@]}" --data "$work/other.h5" "lamp"
mkdir -p "$work/empty_run"
expect_fail "run without an index" 1 "empty_run/index/manifest.h5" \
  "$bin/recsys_query" --run "$work/empty_run" "lamp"
cp -r "$run" "$work/no_lexical"
rm "$work/no_lexical/index/lexical.h5"
expect_fail "run without a lexical index" 1 "no_lexical/index/lexical.h5" \
  mpirun -np 2 --oversubscribe "$bin/recsys_query" --run "$work/no_lexical" "lamp"

finish
