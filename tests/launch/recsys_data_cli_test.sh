#!/usr/bin/env bash
# End-to-end tests of the recsys_data command line with real MPI ranks and real files.
# Usage: recsys_data_cli_test.sh BIN_DIR   (run by ctest)
set -uo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/../cli_test_lib.sh"

gen=(generate --products 3000 --queries 800 --seed 5)

# 1. The generated file is identical whatever the number of ranks.
for np in 1 2 4; do
  if mpirun -np $np --oversubscribe "$bin/recsys_data" "${gen[@]}" --out "$work/np$np.h5" \
      >"$work/gen$np.log" 2>&1; then
    pass "generate on $np rank(s)"
  else
    fail "generate on $np rank(s): $(tail -5 "$work/gen$np.log")"
  fi
done
for np in 2 4; do
  if h5diff "$work/np1.h5" "$work/np$np.h5" >"$work/diff" 2>&1; then
    pass "np1 and np$np files identical (h5diff)"
  else
    fail "np1 and np$np files differ: $(head -5 "$work/diff")"
  fi
done
# ... and a different seed gives a different file (so the comparison above can fail).
"$bin/recsys_data" generate --products 3000 --queries 800 --seed 6 --out "$work/seed6.h5" \
  >/dev/null 2>&1
if h5diff -q "$work/np1.h5" "$work/seed6.h5" >/dev/null 2>&1; then
  fail "seeds 5 and 6 gave identical files"
else
  pass "another seed gives another file"
fi

# 2. inspect prints the counts.
if "$bin/recsys_data" inspect "$work/np1.h5" >"$work/inspect" 2>&1 &&
    grep -q "^products:   3000 " "$work/inspect" && grep -q "^queries:    800 " "$work/inspect"; then
  pass "inspect prints counts"
else
  fail "inspect: $(cat "$work/inspect")"
fi

# 3. Help on every command.
for cmd in "" generate convert inspect; do
  if "$bin/recsys_data" $cmd --help >"$work/help" 2>&1 && grep -q "Usage: recsys_data" "$work/help"; then
    pass "help for '${cmd:-recsys_data}'"
  else
    fail "help for '${cmd:-recsys_data}': $(head -3 "$work/help")"
  fi
done

# 4. Bad input: clear message, non-zero exit, no output file.
expect_fail "unknown command" 2 "unknown command 'frobnicate'" "$bin/recsys_data" frobnicate
expect_fail "generate without --out" 2 "out" "$bin/recsys_data" generate --products 1000
expect_fail "too few products" 2 "products" "$bin/recsys_data" generate --products 3 --out "$work/x.h5"
expect_fail "bad product count on 2 ranks" 2 "products" \
  mpirun -np 2 --oversubscribe "$bin/recsys_data" generate --products 3 --out "$work/x.h5"
expect_fail "output folder missing" 1 "$work/missing/x.h5" \
  "$bin/recsys_data" "${gen[@]}" --out "$work/missing/x.h5"
expect_fail "inspect a missing file" 1 "$work/none.h5: no such file" \
  "$bin/recsys_data" inspect "$work/none.h5"
printf 'not hdf5\n' >"$work/text.h5"
expect_fail "inspect a non-HDF5 file" 1 "not an HDF5 file" "$bin/recsys_data" inspect "$work/text.h5"
expect_fail "convert: unknown format" 2 "--format must be esci or judgments" \
  "$bin/recsys_data" convert --format xml --in "$work/a.csv" --out "$work/a.h5"
expect_fail "convert: missing input" 1 "$work/none.csv" \
  "$bin/recsys_data" convert --format esci --in "$work/none.csv" --out "$work/a.h5"

header='query_id,query,product_id,product_title,product_brand,product_color,esci_label,split'
printf '%s\n1,red shoes,P1,Red running shoes,Acme,red,E,train\n2,blue mug,P2,Blue mug,,blue,X,test\n' \
  "$header" >"$work/bad_label.csv"
expect_fail "convert: unknown label names file and line" 1 "bad_label.csv:3" \
  "$bin/recsys_data" convert --format esci --in "$work/bad_label.csv" --out "$work/a.h5"
[ -e "$work/a.h5" ] && fail "a failed convert left an output file" || pass "no output after failure"

# 5. A good ESCI file converts and inspects.
printf '%s\n1,red shoes,P1,"Red running shoes, size 9",Acme,red,E,train\n1,red shoes,P2,Blue mug,,blue,I,train\n2,blue mug,P2,Blue mug,,blue,E,test\n' \
  "$header" >"$work/good.csv"
if "$bin/recsys_data" convert --format esci --in "$work/good.csv" --out "$work/good.h5" \
    --valid-fraction 0 >"$work/conv" 2>&1 &&
    "$bin/recsys_data" inspect "$work/good.h5" >>"$work/conv" 2>&1 &&
    grep -q "^pairs:      3 " "$work/conv" && grep -q "^products:   2 " "$work/conv"; then
  pass "convert a good ESCI file"
else
  fail "convert a good ESCI file: $(cat "$work/conv")"
fi

finish
