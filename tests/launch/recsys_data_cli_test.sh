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

# 6. The real-like regime: a judged CSV and a catalogue, identical on 1 and 2 ranks, converted
#    with numeric label ranges and the catalogue, as launch/make_real_like.sh does.
real=(generate --format judged-csv --products 2000 --queries 400 --judged-per-query 6
      --paraphrase-share 0.3 --seed 3)
for np in 1 2; do
  mpirun -np $np --oversubscribe "$bin/recsys_data" "${real[@]}" --out "$work/judged$np.csv" \
    --catalog-out "$work/catalog$np.csv" >"$work/real$np.log" 2>&1 ||
    fail "generate --format judged-csv on $np rank(s): $(tail -3 "$work/real$np.log")"
done
if cmp -s "$work/judged1.csv" "$work/judged2.csv" && cmp -s "$work/catalog1.csv" "$work/catalog2.csv" &&
    [ "$(wc -l <"$work/judged1.csv")" -eq 2401 ] && [ "$(wc -l <"$work/catalog1.csv")" -eq 2001 ] &&
    head -1 "$work/judged1.csv" | grep -qx "query_id,query,product_id,product_title,relevance"; then
  pass "judged-csv: 2400 pairs, 2000 products, identical on 1 and 2 ranks"
else
  fail "judged-csv files differ or have the wrong size: $(wc -l "$work"/judged?.csv "$work"/catalog?.csv)"
fi
ranges='1-1.5=I,1.5-2=S,2-3=E'
conv=(convert --format judgments --in "$work/judged1.csv" --query-id-column query_id
      --label-column relevance)
if "$bin/recsys_data" "${conv[@]}" --label-map "$ranges" --catalog "$work/catalog1.csv" \
    --out "$work/real.h5" >"$work/conv" 2>&1 && "$bin/recsys_data" inspect "$work/real.h5" >"$work/insp" 2>&1 &&
    grep -q "^products:   2000 " "$work/insp" && grep -q "^pairs:      2400 " "$work/insp" &&
    grep -q "C 0.0%" "$work/insp"; then
  pass "convert the judged CSV with numeric ranges and the catalogue"
else
  fail "convert the judged CSV: $(cat "$work/conv" "$work/insp" | head -8)"
fi
if "$bin/recsys_data" "${conv[@]}" --label-threshold 2.5 --out "$work/thr.h5" >"$work/conv" 2>&1 &&
    "$bin/recsys_data" inspect "$work/thr.h5" | grep -q "S 0.0%, C 0.0%"; then
  pass "convert with --label-threshold: only E and I"
else
  fail "convert with --label-threshold: $(head -5 "$work/conv")"
fi
if RECSYS_BIN=$bin bash "$(dirname "$0")/../../launch/make_real_like.sh" "$work/rl" --products 1000 \
    --queries 300 >"$work/rl.log" 2>&1 && "$bin/recsys_data" inspect "$work/rl/real_like.h5" |
    grep -q "^products:   1000 "; then
  pass "make_real_like.sh writes real_like.h5"
else
  fail "make_real_like.sh: $(tail -5 "$work/rl.log")"
fi

# 7. Bad label maps, catalogues and generate flags.
expect_fail "label map and threshold together" 2 "--label-map or --label-threshold, not both" \
  "$bin/recsys_data" "${conv[@]}" --label-map "$ranges" --label-threshold 2 --out "$work/b.h5"
expect_fail "overlapping ranges" 1 "ranges '1-2' and '1.5-3' overlap" \
  "$bin/recsys_data" "${conv[@]}" --label-map '1-2=I,1.5-3=E' --out "$work/b.h5"
expect_fail "ranges mixed with a text label" 1 "text label 'Exact' mixed with numeric ranges" \
  "$bin/recsys_data" "${conv[@]}" --label-map '1-2=I,Exact=3' --out "$work/b.h5"
line=$(awk -F, 'NR > 1 && $NF > 2.5 { print NR; exit }' "$work/judged1.csv")
expect_fail "a grade no range covers names file and line" 1 "judged1.csv:$line: label" \
  "$bin/recsys_data" "${conv[@]}" --label-map '1-2.5=I' --out "$work/b.h5"
printf 'product_id,product_title\nP1,a\nP1,b\n' >"$work/dup.csv"
expect_fail "duplicate catalogue id names both lines" 1 "dup.csv:3: product id 'P1' is in the catalogue twice (also on line 2)" \
  "$bin/recsys_data" "${conv[@]}" --label-map "$ranges" --catalog "$work/dup.csv" --out "$work/b.h5"
expect_fail "catalogue without the named column" 1 "no column 'price' (catalogue price)" \
  "$bin/recsys_data" "${conv[@]}" --label-map "$ranges" --catalog "$work/dup.csv" \
  --catalog-price-column price --out "$work/b.h5"
[ -e "$work/b.h5" ] && fail "a failed convert left an output file" || pass "no output after the failures"
expect_fail "catalog-out needs judged-csv" 2 "--catalog-out needs --format judged-csv" \
  "$bin/recsys_data" generate --out "$work/x.h5" --catalog-out "$work/c.csv"
expect_fail "unknown generate format" 2 "--format must be h5 or judged-csv" \
  "$bin/recsys_data" generate --format parquet --out "$work/x.h5"
expect_fail "paraphrase share out of range" 2 "paraphrase_share must be in [0, 1]" \
  "$bin/recsys_data" generate --paraphrase-share 2 --out "$work/x.h5"

# 8. A split column with train and test only gets a valid split carved from train.
{
  echo "query,product_id,product_title,label,split"
  for i in $(seq 1 200); do echo "q$i,P$i,t,3,$([ $i -le 150 ] && echo train || echo test)"; done
} >"$work/split.csv"
if "$bin/recsys_data" convert --format judgments --in "$work/split.csv" --split-column split \
    --out "$work/split.h5" >"$work/conv" 2>&1 && grep -q "names no valid query" "$work/conv" &&
    "$bin/recsys_data" inspect "$work/split.h5" | grep -Eq "^queries: +200 \(train 1[0-9][0-9], valid [1-9][0-9]*, test 50\)"; then
  pass "split column with train and test only: valid carved from train"
else
  fail "split carving: $(cat "$work/conv"; "$bin/recsys_data" inspect "$work/split.h5" 2>&1 | grep queries)"
fi

# 9. Issue 11, finding 6: an output never replaces an input, and an existing file needs --force.
cp "$work/good.csv" "$work/keep.csv"
expect_fail "convert: --out is --in" 2 "--out '$work/keep.csv' is the same file as --in" \
  "$bin/recsys_data" convert --format esci --in "$work/keep.csv" --out "$work/keep.csv"
ln -s keep.csv "$work/link.csv"
expect_fail "convert: --out is --in through a link" 2 "is the same file as --in" \
  "$bin/recsys_data" convert --format esci --in "$work/keep.csv" --out "$work/link.csv" --force
expect_fail "convert: --out is --in spelt another way" 2 "is the same file as --in" \
  "$bin/recsys_data" convert --format esci --in "$work/keep.csv" --out "$work/./sub/../keep.csv"
expect_fail "convert: --out is the catalogue" 2 "is the same file as --catalog" \
  "$bin/recsys_data" "${conv[@]}" --label-map "$ranges" --catalog "$work/catalog1.csv" \
  --out "$work/catalog1.csv" --force
cmp -s "$work/good.csv" "$work/keep.csv" && cmp -s "$work/catalog1.csv" "$work/catalog2.csv" &&
  pass "the inputs are untouched" || fail "an input was changed"
expect_fail "convert: existing output without --force" 2 "'$work/good.h5' exists; pass --force" \
  "$bin/recsys_data" convert --format esci --in "$work/good.csv" --out "$work/good.h5"
if "$bin/recsys_data" convert --format esci --in "$work/good.csv" --out "$work/good.h5" --force \
    >"$work/conv" 2>&1; then
  pass "convert --force replaces an existing output"
else
  fail "convert --force: $(cat "$work/conv")"
fi
expect_fail "generate: existing output without --force" 2 "'$work/np1.h5' exists; pass --force" \
  mpirun -np 2 --oversubscribe "$bin/recsys_data" "${gen[@]}" --out "$work/np1.h5"
expect_fail "generate: --catalog-out is --out" 2 "--catalog-out '$work/same.csv' is the same file as --out" \
  "$bin/recsys_data" generate --format judged-csv --out "$work/same.csv" --catalog-out "$work/same.csv"
if "$bin/recsys_data" "${gen[@]}" --out "$work/np1.h5" --force >"$work/gen" 2>&1 &&
    h5diff "$work/np1.h5" "$work/np2.h5" >/dev/null 2>&1; then
  pass "generate --force replaces an existing output"
else
  fail "generate --force: $(tail -3 "$work/gen")"
fi

# 10. Issue 11, finding 3: input that never ends a line, NUL bytes, huge lines.
expect_fail "convert /dev/zero ends at once" 1 "/dev/zero:1: NUL byte (0x00) in column 1" \
  timeout 20 "$bin/recsys_data" convert --format esci --in /dev/zero --out "$work/z.h5"
head -c 9000000 /dev/zero | tr '\0' 'a' >"$work/one_line.csv"
expect_fail "a 9 MB line is refused at the default limit" 1 "longer than the limit of 8388608 bytes" \
  timeout 20 "$bin/recsys_data" convert --format esci --in "$work/one_line.csv" --out "$work/z.h5"
[ "$(wc -c <"$work/err")" -lt 400 ] && pass "the message is short" ||
  fail "the message is $(wc -c <"$work/err") bytes"
expect_fail "--max-line-bytes lowers the limit" 1 "good.csv:1: the record starting on this line is longer than the limit of 60 bytes" \
  "$bin/recsys_data" convert --format esci --in "$work/good.csv" --out "$work/z.h5" --max-line-bytes 60
expect_fail "--max-line-bytes 0" 2 "--max-line-bytes must be > 0" \
  "$bin/recsys_data" convert --format esci --in "$work/good.csv" --out "$work/z.h5" --max-line-bytes 0
printf '%s\n1,red\0shoes,P1,t,b,c,E,train\n' "$header" >"$work/nul.csv"
expect_fail "a NUL byte names line and column" 1 "nul.csv:2: NUL byte (0x00) in column 2 (query)" \
  "$bin/recsys_data" convert --format esci --in "$work/nul.csv" --out "$work/z.h5"
[ -e "$work/z.h5" ] && fail "a failed convert left an output file" || pass "no output after the failures"

finish
