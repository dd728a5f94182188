#!/usr/bin/env bash
# End-to-end tests of recsys_search with real MPI ranks and a real index.
# Usage: recsys_search_cli_test.sh BIN_DIR FIXTURE_MAKER   (run by ctest)
set -uo pipefail
bin=$1
make_fixture=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../cli_test_lib.sh"

if ! mpirun -np 2 --oversubscribe "$make_fixture" "$work" >"$work/fixture.log" 2>&1; then
  echo "FAIL: could not build the fixture: $(tail -5 "$work/fixture.log")"
  exit 1
fi
search=("$bin/recsys_search" --index "$work/index" --vectors "$work/vectors.h5")

# 1. --help documents every flag.
if "$bin/recsys_search" --help >"$work/help" 2>&1; then
  missing=""
  for flag in --index --vectors --rows --random --seed --k --nprobe --help; do
    grep -qF -- "$flag" "$work/help" || missing="$missing $flag"
  done
  if [ -z "$missing" ]; then pass "help lists every flag"; else fail "help lacks:$missing"; fi
else
  fail "--help exited non-zero"
fi

# 2. The same answers on 1, 2 and 4 ranks; every stored row finds itself first.
for np in 1 2 4; do
  if mpirun -np $np --oversubscribe "${search[@]}" --rows 0,17,42,2999 --k 5 --nprobe 1000 \
      >"$work/np$np.out" 2>"$work/np$np.err"; then
    tail -n +2 "$work/np$np.out" >"$work/np$np.results"  # without the timing line
    pass "search on $np rank(s)"
  else
    fail "search on $np rank(s): $(tail -5 "$work/np$np.err")"
  fi
done
if cmp -s "$work/np1.results" "$work/np2.results" && cmp -s "$work/np1.results" "$work/np4.results"; then
  pass "same results on 1, 2 and 4 ranks"
else
  fail "results differ between rank counts"
fi
firsts=$(awk '/^query/ {getline; print $3}' "$work/np1.results" | tr '\n' ' ')
if [ "$firsts" = "0 17 42 2999 " ]; then pass "each row finds itself first"; else fail "first results: $firsts"; fi
if [ "$(grep -c '^query' "$work/np1.results")" = 4 ] && [ "$(grep -c ' row ' "$work/np1.results")" -ge 20 ]; then
  pass "4 queries with 5 results each"
else
  fail "unexpected output: $(head -c 400 "$work/np1.results")"
fi
if mpirun -np 2 --oversubscribe "${search[@]}" --random 3 --seed 9 >"$work/random.out" 2>&1 &&
    [ "$(grep -c '^query' "$work/random.out")" = 3 ]; then
  pass "--random 3"
else
  fail "--random 3: $(head -c 400 "$work/random.out")"
fi

# 3. Bad usage and bad files.
# More results than products: clamped to the index's products with a note (issue 11 finding 4:
# before, --k 1000000000 took 11.8 GB).
if "${search[@]}" --rows 0 --k 1000000000 --nprobe 1000 >"$work/bigk.out" 2>"$work/bigk.err" &&
    grep -qF "note: --k 1000000000 is more than the 3000 products" "$work/bigk.err" &&
    grep -q "^query 1 (row 0): 3000 results" "$work/bigk.out"; then
  pass "--k 1000000000 clamped to the 3000 products"
else
  fail "--k 1000000000: $(head -c 400 "$work/bigk.err" "$work/bigk.out")"
fi
expect_fail "--random beyond memory" 2 "--random 1000000000000000 queries of" "${search[@]}" --random 1000000000000000
expect_fail "both --rows and --random" 2 "exactly one of --rows, --random" "${search[@]}" --rows 1 --random 2
expect_fail "bad row list" 2 "'x' is not a row number" "${search[@]}" --rows 1,x
expect_fail "row out of range" 2 "row 3000 is not in" "${search[@]}" --rows 3000
expect_fail "missing index" 1 "nowhere/manifest.h5: no such file" \
  "$bin/recsys_search" --index "$work/nowhere" --vectors "$work/vectors.h5" --rows 1
expect_fail "vectors of another width" 1 "16-dimensional vectors, the queries are 8-dimensional" \
  "$bin/recsys_search" --index "$work/index" --vectors "$work/narrow_vectors.h5" --random 40000
expect_fail "vectors of another model" 1 "expected 'tower@other'" \
  "$bin/recsys_search" --index "$work/index" --vectors "$work/other_vectors.h5" --rows 1
cp -r "$work/index" "$work/broken"
rm "$work/broken/shard-1-of-2.h5"
expect_fail "missing shard on 2 ranks" 1 "broken/shard-1-of-2.h5: no such file" \
  mpirun -np 2 --oversubscribe "$bin/recsys_search" --index "$work/broken" \
  --vectors "$work/vectors.h5" --rows 1

finish
