#!/usr/bin/env bash
# recsys_train on bad numbers (issue 11, findings 4, 5, 9 and 10): sizes that cannot fit, values
# that are not finite, training that diverges, a resume with another configuration, a dataset
# without valid or test queries. Each is refused with a message naming the flag, the step or the
# file, and nothing diverged is saved.
# Usage: recsys_train_cli_test.sh BIN_DIR   (run by ctest)
set -uo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../cli_test_lib.sh"

run=$work/run
train=("$bin/recsys_train" --out "$run" --variant base)
if ! "${train[@]}" --products 2000 --queries 1500 --stage data >"$work/data.log" 2>&1; then
  echo "FAIL: could not generate the data: $(tail -5 "$work/data.log")"
  exit 1
fi

# 1. Flags that are not finite numbers, sizes of zero, sizes that cannot fit: refused at once
#    (exit 2), before LibTorch or an allocation sees them.
expect_fail "--margin nan" 2 "--margin must be a finite number at least 0, is nan" "${train[@]}" --margin nan
expect_fail "--lr inf" 2 "--lr must be a finite number above 0, is inf" "${train[@]}" --lr inf
expect_fail "--lr nan" 2 "--lr must be a finite number above 0, is nan" "${train[@]}" --lr nan
expect_fail "--temperature 0" 2 "--temperature must be a finite number above 0, is 0" "${train[@]}" --temperature 0
expect_fail "--clip-norm -inf" 2 "--clip-norm must be a finite number at least 0" "${train[@]}" --clip-norm -inf
expect_fail "--hidden 0" 2 "--hidden must be at least 1, is 0" "${train[@]}" --hidden 0
expect_fail "--dim 0" 2 "--dim must be at least 1, is 0" "${train[@]}" --dim 0
expect_fail "--buckets 100000000000" 2 "--buckets 100000000000 x --dim 64 (the text tables and their optimiser state) needs" \
  "${train[@]}" --buckets 100000000000
expect_fail "--hidden 100000000000" 2 "--hidden 100000000000 x --dim 64" "${train[@]}" --hidden 100000000000
expect_fail "--threads 100000" 2 "--threads must be between 1 and" "${train[@]}" --threads 100000
expect_fail "--threads 0 (embed)" 2 "--threads must be between 1 and" "${train[@]}" --threads 0 --stage embed
expect_fail "--factors 0" 2 "--factors must be at least 1, is 0" "${train[@]}" --stage rank --factors 0
expect_fail "--rank-lr nan" 2 "--rank-lr must be a finite number above 0, is nan" "${train[@]}" --stage rank --rank-lr nan
expect_fail "--feature-buckets 1e11" 2 "--feature-buckets 100000000000 x 16" "${train[@]}" --stage rank --feature-buckets 100000000000
expect_fail "--lexical-weight inf" 2 "--lexical-weight must be a finite number at least 0, is inf" \
  "${train[@]}" --stage eval --lexical-weight inf
expect_fail "--rerank-half-life 0" 2 "--rerank-half-life must be a finite number above 0" "${train[@]}" --stage eval --rerank-half-life 0
[ -e "$run/checkpoints" ] && fail "a refused run wrote checkpoints" || pass "refused runs wrote no checkpoint"

# 2. More random negatives than products: clamped to the catalogue, with a note.
if "${train[@]}" --stage recall --random-negatives 1000000000 --max-steps 2 --epochs 1 \
    >"$work/neg.log" 2>&1 && grep -qF "random-negatives 1000000000 is more than the 2000 products; using 2000" "$work/neg.log"; then
  pass "--random-negatives 1000000000 clamped to the 2000 products"
else
  fail "--random-negatives 1000000000: $(tail -3 "$work/neg.log")"
fi
rm -rf "$run/checkpoints" "$run/results"

# 3. A diverging run stops at the step the loss turns non-finite, and saves nothing.
expect_fail "--lr 1e30 diverges" 1 "training diverged" "${train[@]}" --stage recall --lr 1e30 --max-steps 5
grep -qE "two_tower_base: (the loss is (nan|inf|-inf) .* at step [0-9]+ \(epoch 1\)|[0-9]+ parameter value\(s\) are NaN or infinite after step [0-9]+ \(epoch 1\))" "$work/err" &&
  pass "the divergence names the step and the epoch" || fail "no step named: $(head -c 400 "$work/err")"
[ -e "$run/checkpoints/two_tower_base.h5" ] || [ -e "$run/checkpoints/two_tower_base.last.h5" ] &&
  fail "a diverged run wrote a checkpoint" || pass "a diverged run wrote no checkpoint"

# 4. --resume refuses another training configuration, listing every difference, unless asked.
if ! "${train[@]}" --stage recall --max-steps 2 --epochs 2 >"$work/first.log" 2>&1; then
  fail "short training: $(tail -3 "$work/first.log")"
fi
expect_fail "resume with another lr and margin" 1 "another training configuration: lr=0.02 in the checkpoint, 0.05 here; margin=0.2 in the checkpoint, 0.3 here (give --resume-changed-config" \
  "${train[@]}" --stage recall --resume --max-steps 4 --epochs 2 --lr 0.05 --margin 0.3
if "${train[@]}" --stage recall --resume --resume-changed-config --max-steps 4 --epochs 2 --lr 0.05 \
    >"$work/changed.log" 2>&1 && grep -qF "resuming with a changed training configuration: lr=0.02 in the checkpoint, 0.05 here" "$work/changed.log" &&
    grep -q "resuming from .* step 2" "$work/changed.log"; then
  pass "--resume-changed-config resumes with a warning"
else
  fail "--resume-changed-config: $(tail -3 "$work/changed.log")"
fi
if "${train[@]}" --stage recall --resume --max-steps 6 --epochs 2 --lr 0.05 >"$work/same.log" 2>&1; then
  pass "resume with the now stored configuration"
else
  fail "resume with the same configuration: $(tail -3 "$work/same.log")"
fi

# 5. A dataset without test queries stops before training when it is to be evaluated, and in the
#    eval stage; one without valid queries stops before training.
# convert_split NAME OTHER [FLAGS]: $work/NAME.h5 from 300 judged queries, the first 240 train
# and the others in split OTHER.
convert_split() {
  local name=$1 other=$2
  shift 2
  {
    echo "query,product_id,product_title,label,split"
    for i in $(seq 1 300); do
      echo "query $i,P$i,lamp $i,3,$([ "$i" -le 240 ] && echo train || echo "$other")"
    done
  } >"$work/$name.csv"
  "$bin/recsys_data" convert --format judgments --in "$work/$name.csv" --split-column split \
    --out "$work/$name.h5" "$@" >"$work/$name.log" 2>&1 ||
    fail "convert $name.csv: $(tail -3 "$work/$name.log")"
}
convert_split notest valid --test-fraction 0
expect_fail "all stages without test queries" 1 "the test split of $work/notest.h5 has no judged query" \
  "$bin/recsys_train" --out "$work/notest" --data "$work/notest.h5" --variant base
[ -e "$work/notest/checkpoints" ] && fail "trained before refusing" || pass "refused before training"
expect_fail "eval without test queries" 1 "the test split of $work/notest.h5 has no judged query" \
  "$bin/recsys_train" --out "$run" --data "$work/notest.h5" --stage eval
convert_split novalid test --valid-fraction 0
expect_fail "recall without valid queries" 1 "the valid split of $work/novalid.h5 has no judged query" \
  "$bin/recsys_train" --out "$work/novalid" --data "$work/novalid.h5" --variant base --stage recall --patience 0

finish
