#!/usr/bin/env bash
# Generates the real-like regime (README.md, "The real-like regime") and converts it exactly as
# real judged data is converted:
#   OUT_DIR/judged.csv    titles-only judged pairs, relevance = mean of raters' 1..3 scores
#   OUT_DIR/catalog.csv   every product, judged or not
#   OUT_DIR/real_like.h5  the dataset: `recsys_train --data OUT_DIR/real_like.h5`
# Usage: bash launch/make_real_like.sh OUT_DIR [GENERATE OPTIONS...]
#   extra options go to `recsys_data generate` and override the defaults below (e.g. --seed 2,
#   --paraphrase-share 0.3). RECSYS_BIN names the folder of recsys_data (default build/bin).
set -euo pipefail
if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  [ $# -ge 1 ] && exit 0 || exit 2
fi
out=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
bin=${RECSYS_BIN:-$here/../build/bin}
source "$here/env.sh"
mkdir -p "$out"

# The shape of the real set (55K products, 12K queries, about 74K judged pairs); 15% of the
# queries are paraphrases that no title of their product type shares a word with.
defaults=(--products 55000 --queries 12000 --judged-per-query 6 --paraphrase-share 0.15 --seed 1)
args=()
for ((i = 0; i < ${#defaults[@]}; i += 2)); do
  given=0
  for a in "$@"; do [ "$a" = "${defaults[i]}" ] || [[ "$a" == "${defaults[i]}="* ]] && given=1; done
  [ $given -eq 1 ] || args+=("${defaults[i]}" "${defaults[i + 1]}")
done
# --force: running the script again remakes the folder's files.
"$bin/recsys_data" generate --format judged-csv "${args[@]}" "$@" --force \
  --out "$out/judged.csv" --catalog-out "$out/catalog.csv"

# Relevant (E) = mean grade >= 2; [1.5, 2) is S, below 1.5 I. No split column: 10% of the
# queries go to valid and 10% to test by a hash of the query id. Titles only, like the real set
# (add --catalog-brand-column brand etc. to use the catalogue's other columns).
"$bin/recsys_data" convert --format judgments --in "$out/judged.csv" --out "$out/real_like.h5" --force \
  --query-id-column query_id --query-column query --product-column product_id \
  --title-column product_title --label-column relevance --label-map '1-1.5=I,1.5-2=S,2-3=E' \
  --catalog "$out/catalog.csv"
