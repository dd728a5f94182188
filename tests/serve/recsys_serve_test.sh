#!/usr/bin/env bash
# End-to-end tests of recsys_serve under mpiexec -n 2 on a small real run, with real HTTP
# requests (curl): search, product adds, the bad-input table, micro-batching, clean shutdown,
# restart with replay, kill -9 in the middle of a burst of adds, a stopped rank, and the search
# page in headless Chromium (screenshot kept in SCREENSHOT_DIR).
# Usage: recsys_serve_test.sh BIN_DIR [SCREENSHOT_DIR]   (run by ctest)
set -uo pipefail
bin=$1
shots=${2:-}
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null
  pkill -9 -f "recsys_serve --run $work/run" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
source "$(dirname "$0")/../cli_test_lib.sh"

run=$work/run
train() { mpirun -np 2 --oversubscribe "$bin/recsys_train" --out "$run" "$@" >>"$work/train.log" 2>&1; }
if ! train --products 2000 --queries 1500 --stage data || ! train --variant base --epochs 2 --stage recall ||
   ! train --stage embed || ! train --stage index --nlist 16 ||
   ! train --stage rank --rankers dcn-2 --rank-epochs 1; then
  echo "FAIL: could not build the run: $(tail -5 "$work/train.log")"
  exit 1
fi

# start_server LOG [FLAGS...]: starts recsys_serve on $ranks ranks (2 unless set) on a free port;
# sets $server_pid, $port and $url once it listens (at most 60 s).
start_server() {
  local log=$1
  shift
  mpirun -np "${ranks:-2}" --oversubscribe "$bin/recsys_serve" --run "$run" --port 0 --heartbeat-ms 200 "$@" \
    >"$log" 2>&1 &
  server_pid=$!
  port=""
  for _ in $(seq 600); do
    port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  url=http://127.0.0.1:$port
  [ -n "$port" ]
}

# rank_pid R: the process of rank R of the running server.
rank_pid() {
  local p
  for p in $(pgrep -f "$bin/recsys_serve --run $run"); do
    grep -qz "^OMPI_COMM_WORLD_RANK=$1\$" "/proc/$p/environ" 2>/dev/null && echo "$p"
  done
}

# stop_server [mpirun]: SIGTERM to rank 0 (or to mpirun, as Ctrl-C in its terminal does); returns
# the job's exit code (124 if it is still up after 20 s).
stop_server() {
  if [ "${1:-}" = mpirun ]; then kill -TERM "$server_pid"; else kill -TERM "$(rank_pid 0)"; fi
  local code=124
  for _ in $(seq 200); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      wait "$server_pid"
      code=$?
      break
    fi
    sleep 0.1
  done
  server_pid=""
  return $code
}

# http NAME EXPECTED_CODE FRAGMENT CURL_ARGS...: the reply has that status and contains FRAGMENT.
http() {
  local name=$1 code=$2 fragment=$3
  shift 3
  local got
  got=$(curl -s -o "$work/body" -w '%{http_code}' --max-time 20 "$@")
  if [ "$got" != "$code" ]; then
    fail "$name: HTTP $got, expected $code: $(head -c 300 "$work/body")"
  elif ! grep -qF -- "$fragment" "$work/body"; then
    fail "$name: reply lacks '$fragment': $(head -c 300 "$work/body")"
  else
    pass "$name"
  fi
}
post() { curl -s --max-time 20 -H 'Content-Type: application/json' -d "$2" "$url$1"; }
# The products of a /recommend reply (JSON keys are sorted: products come before "query").
products_of() { sed -E 's/.*"products":(\[.*\]),"query".*/\1/'; }

# 1. --help documents every flag.
"$bin/recsys_serve" --help >"$work/help" 2>&1
missing=""
for flag in --run --host --port --ranker --feature-buckets --batch-size --batch-wait-us \
    --http-threads --max-body-bytes --read-timeout --keep-alive-requests --heartbeat-ms \
    --rebuild-growth --collective-timeout; do
  grep -qF -- "$flag" "$work/help" || missing="$missing $flag"
done
if [ -z "$missing" ]; then pass "help lists every flag"; else fail "help lacks:$missing"; fi

if ! start_server "$work/serve1.log" --read-timeout 2 --batch-wait-us 20000; then
  echo "FAIL: recsys_serve did not start: $(tail -5 "$work/serve1.log")"
  exit 1
fi
pass "recsys_serve listens on port $port"

# 2. Health, metrics, a query that repeats a product's title finds it, by GET and POST.
http "healthz: every rank answered" 200 '"status":"ok"' "$url/healthz"
grep -q '"rank":1' "$work/body" && pass "healthz lists rank 1" || fail "healthz: $(cat "$work/body")"
seed=$(post /recommend '{"query": "black", "k": 1, "mode": "lexical", "ranker": "none"}')
id=$(echo "$seed" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
title=$(echo "$seed" | sed -n 's/.*"title":"\([^"]*\)".*/\1/p')
[ -n "$id" ] && pass "a lexical query gives a product ($id)" || fail "no product for 'black': $seed"
# The recall stage's own order (ranker none): the briefly trained DCN of this run may demote it.
for mode in dense lexical hybrid; do
  http "POST $mode: the title finds $id" 200 "\"id\":\"$id\"" -H 'Content-Type: application/json' \
    -d "{\"query\": \"$title\", \"mode\": \"$mode\", \"k\": 10, \"ranker\": \"none\"}" \
    "$url/recommend"
done
http "GET /recommend" 200 "\"id\":\"$id\"" -G --data-urlencode "q=$title" -d k=10 -d ranker=none \
  "$url/recommend"
# By default the run's DCN orders the fused candidates: its score is each product's final score.
http "the default ranker" 200 '"ranker":"dcn-2"' -G --data-urlencode "q=$title" "$url/recommend"
grep -q '"vector_index"' "$work/body" && grep -q '"stages":{"bm25"' "$work/body" &&
  pass "the reply carries each stage's score and time" || fail "reply: $(head -c 300 "$work/body")"

# 3. Bad input: a 4xx with a JSON error saying what is wrong.
json=(-H 'Content-Type: application/json')
http "empty query" 400 'query is missing or empty' "${json[@]}" -d '{"query": ""}' "$url/recommend"
http "blank query" 400 'query is blank' "${json[@]}" -d '{"query": "  \t "}' "$url/recommend"
http "no query" 400 'query is missing' "${json[@]}" -d '{"k": 3}' "$url/recommend"
long=$(head -c 2000 /dev/zero | tr '\0' 'a')
http "2000-byte query" 400 'query is 2000 bytes; at most 1000' "${json[@]}" \
  -d "{\"query\": \"$long\"}" "$url/recommend"
head -c 1048576 /dev/zero | tr '\0' 'a' | sed 's/^/{"query": "/; s/$/"}/' >"$work/big.json"
http "1 MB body" 413 'over the limit' "${json[@]}" --data-binary "@$work/big.json" "$url/recommend"
http "non-UTF-8 query (GET)" 400 'not valid UTF-8' "$url/recommend?q=%ff%fe"
printf '{"query": "\xff\xfe"}' >"$work/bad-utf8.json"
http "non-UTF-8 body" 400 'not valid JSON' "${json[@]}" --data-binary "@$work/bad-utf8.json" \
  "$url/recommend"
http "k 0" 400 'k must be between 1 and 1000, is 0' "$url/recommend?q=shoes&k=0"
http "k negative" 400 'k must be between 1 and 1000, is -5' "$url/recommend?q=shoes&k=-5"
http "k huge" 400 'k must be between 1 and 1000' "$url/recommend?q=shoes&k=100000000000000"
http "k not a number" 400 'k must be an integer' "$url/recommend?q=shoes&k=ten"
http "unknown mode" 400 'hybrid' "$url/recommend?q=shoes&mode=psychic"
http "unknown ranker" 400 "unknown ranker 'gbdt'; this run has: none, dcn-2" \
  "$url/recommend?q=shoes&ranker=gbdt"
http "unknown field" 400 "unknown field 'colour_of_sky'" "${json[@]}" \
  -d '{"query": "shoes", "colour_of_sky": 1}' "$url/recommend"
http "diversity without a ranker" 400 'name a ranker' "${json[@]}" \
  -d '{"query": "shoes", "ranker": "none", "diversity": 0.5}' "$url/recommend"
http "malformed JSON" 400 'not valid JSON' "${json[@]}" -d '{"query": "shoes"' "$url/recommend"
http "JSON not an object" 400 'must be a JSON object' "${json[@]}" -d '["shoes"]' "$url/recommend"
http "wrong content type" 415 'Content-Type must be application/json' -H 'Content-Type: text/plain' \
  -d '{"query": "shoes"}' "$url/recommend"
http "product without a title" 400 'title is missing' "${json[@]}" -d '{"id": "NEW-0"}' \
  "$url/products"
http "product with a blank title" 400 'title is blank' "${json[@]}" \
  -d '{"id": "NEW-0", "title": "   "}' "$url/products"
http "product with a bad rating" 400 'rating must be a number between' "${json[@]}" \
  -d '{"id": "NEW-0", "title": "x", "rating": 9}' "$url/products"
http "duplicate product id (catalogue)" 409 "product id '$id' exists already" "${json[@]}" \
  -d "{\"id\": \"$id\", \"title\": \"another\"}" "$url/products"
http "unknown route" 404 'no such route' "$url/nothing-here"
# A client that never finishes its request is cut off after --read-timeout (2 s).
start=$(date +%s)
if exec 3<>"/dev/tcp/127.0.0.1/$port"; then
  printf 'GET /recommend?q=shoes HTTP/1.1\r\nHost: x\r\n' >&3
  if timeout 10 cat <&3 >/dev/null; then
    pass "a slow client is disconnected (after $(($(date +%s) - start)) s)"
  else
    fail "a slow client was not disconnected within 10 s"
  fi
  exec 3<&-
else
  fail "could not open a raw connection"
fi
http "a good request after the bad ones" 200 "\"id\":\"$id\"" -G --data-urlencode "q=$title" \
  -d ranker=none "$url/recommend"
http "healthz after the bad ones: no rank crashed" 200 '"status":"ok"' "$url/healthz"

# 4. A product added by POST is searchable when the reply is 200; the second add of its id is 409.
add='{"id": "NEW-1", "title": "zorblax quantum teapot", "brand": "Zorblax", "category": "Kitchen", "colour": "teal", "price": 19.5, "rating": 4.5, "release_day": 20400}'
http "POST /products" 200 '"durable":true' "${json[@]}" -d "$add" "$url/products"
for mode in lexical hybrid dense; do
  http "$mode: the added product is found" 200 '"id":"NEW-1"' "${json[@]}" \
    -d "{\"query\": \"zorblax quantum teapot\", \"mode\": \"$mode\", \"k\": 10}" "$url/recommend"
done
http "the same id again" 409 "product id 'NEW-1' exists already" "${json[@]}" -d "$add" \
  "$url/products"

# 5. Micro-batching: 12 concurrent queries are answered in shared batches, each with the results
#    it gets alone.
queries=("$title" "black shoes" "usb cable" "red dress" "wireless headphones" "water bottle"
  "phone case" "running shoes" "coffee mug" "laptop stand" "desk lamp" "yoga mat")
for i in "${!queries[@]}"; do
  post /recommend "{\"query\": \"${queries[$i]}\", \"k\": 10}" | products_of >"$work/alone.$i"
done
clients=()
for i in "${!queries[@]}"; do
  post /recommend "{\"query\": \"${queries[$i]}\", \"k\": 10}" >"$work/together.$i" &
  clients+=($!)
done
wait "${clients[@]}"
batched=0
same=0
for i in "${!queries[@]}"; do
  grep -q '"batch":1,' "$work/together.$i" || batched=$((batched + 1))
  products_of <"$work/together.$i" | cmp -s - "$work/alone.$i" && same=$((same + 1))
done
[ "$batched" -gt 0 ] && pass "concurrent queries shared batches ($batched of 12 in a batch > 1)" ||
  fail "no concurrent query was batched"
[ "$same" = 12 ] && pass "each query's results equal its results alone" ||
  fail "only $same of 12 queries got their results alone"

# 6. Metrics in Prometheus text format.
http "metrics" 200 'recsys_http_requests_total{code="400",route="recommend"}' "$url/metrics"
for name in recsys_stage_seconds_bucket recsys_batch_size_count recsys_add_log_syncs_total \
    recsys_rank_rows recsys_request_seconds_bucket; do
  grep -q "^$name" "$work/body" && pass "metrics has $name" || fail "metrics lacks $name"
done

# 7. The search page in headless Chromium shows a real query's results.
http "GET / serves the page" 200 '<input type="search"' "$url/"
if command -v chromium >/dev/null; then
  page="$url/?ranker=none&q=$(printf %s "$title" | sed 's/ /+/g')"
  chrome=(chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage
    --virtual-time-budget=10000 --window-size=1200,1000)
  timeout 60 "${chrome[@]}" --dump-dom "$page" >"$work/dom.html" 2>"$work/chromium.err"
  grep -qF "$id" "$work/dom.html" && grep -qF "ms, vector index" "$work/dom.html" &&
    pass "Chromium: the page shows $id and the stage timings" ||
    fail "Chromium: $id not on the page: $(head -c 300 "$work/chromium.err")"
  if [ -n "$shots" ]; then
    mkdir -p "$shots"
    timeout 60 "${chrome[@]}" --screenshot="$shots/search_page.png" "$page" >/dev/null 2>&1
    [ -s "$shots/search_page.png" ] && pass "screenshot in $shots/search_page.png" ||
      fail "no screenshot"
  fi
else
  fail "chromium is not installed (launch/setup.sh installs it)"
fi

# 8. SIGTERM to mpirun (what Ctrl-C does): in-flight requests finish, every rank stops cleanly
#    (mpirun itself reports 1 for a job it signalled, whatever the ranks return).
post /recommend '{"query": "black shoes"}' >"$work/inflight" &
client=$!
stop_server mpirun
code=$?
wait "$client"
[ "$code" != 124 ] && [ "$(grep -c 'stopped cleanly' "$work/serve1.log")" = 2 ] &&
  pass "SIGTERM to mpirun: both ranks stop cleanly" ||
  fail "SIGTERM to mpirun: exit $code: $(tail -5 "$work/serve1.log")"
grep -q '"products"' "$work/inflight" && pass "the request in flight was answered" ||
  fail "request in flight: $(head -c 200 "$work/inflight")"

# 9. Restart: the added product is replayed before the server answers.
start_server "$work/serve2.log" || fail "restart: $(tail -5 "$work/serve2.log")"
grep -q "replayed 1 product" "$work/serve2.log" && pass "restart replays the 1 logged add" ||
  fail "no replay line: $(grep -i replay "$work/serve2.log")"
http "after restart the added product is found" 200 '"id":"NEW-1"' "${json[@]}" \
  -d '{"query": "zorblax quantum teapot", "mode": "lexical", "k": 3}' "$url/recommend"

# 10. kill -9 of the whole job in the middle of a burst of adds loses no acknowledged product.
: >"$work/acked"
clients=()
for c in 1 2 3 4; do
  (for i in $(seq 1 400); do
    pid="BURST-$c-$i"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
      -d "{\"id\": \"$pid\", \"title\": \"burstprobe$c$i gadget\"}" "$url/products")
    [ "$code" = 200 ] && echo "$c $i" >>"$work/acked"
  done) &
  clients+=($!)
done
sleep 3
pkill -9 -f "recsys_serve --run $run"
kill -9 "$server_pid" 2>/dev/null
wait "${clients[@]}" "$server_pid" 2>/dev/null
server_pid=""
acked=$(wc -l <"$work/acked")
[ "$acked" -gt 0 ] && pass "$acked adds acknowledged before kill -9" || fail "no add acknowledged"
start_server "$work/serve3.log" || fail "restart after kill -9: $(tail -5 "$work/serve3.log")"
missing=0
while read -r c i; do
  post /recommend "{\"query\": \"burstprobe$c$i\", \"mode\": \"lexical\", \"k\": 1, \"ranker\": \"none\"}" |
    grep -qF "\"id\":\"BURST-$c-$i\"" || missing=$((missing + 1))
done <"$work/acked"
[ "$missing" = 0 ] && pass "every acknowledged add ($acked) is searchable after kill -9 and restart" ||
  fail "$missing of $acked acknowledged adds lost"
stop_server && pass "SIGTERM to rank 0: the job exits 0" ||
  fail "SIGTERM to rank 0: exit $?: $(tail -5 "$work/serve3.log")"

# 10b. The logs written by 2 ranks replay on 3: every rank reads every log, clusters move.
ranks=3 start_server "$work/serve3b.log" || fail "3 ranks: $(tail -5 "$work/serve3b.log")"
read -r c i <"$work/acked"
http "3 ranks: a product added on 2 ranks is found" 200 "\"id\":\"BURST-$c-$i\"" \
  "${json[@]}" -d "{\"query\": \"burstprobe$c$i\", \"mode\": \"lexical\", \"k\": 1}" \
  "$url/recommend"
http "3 ranks: healthz lists rank 2" 200 '"rank":2' "$url/healthz"
stop_server || fail "stop of the 3-rank server: $(tail -5 "$work/serve3b.log")"

# 11. A stopped rank: requests get 503 naming it, and the job exits non-zero with the message.
start_server "$work/serve4.log" --collective-timeout 2 || fail "start: $(tail -5 "$work/serve4.log")"
rank1=$(rank_pid 1)
if [ -n "$rank1" ]; then
  kill -STOP "$rank1"
  http "a stopped rank: 503 naming it" 503 'rank 1 did not arrive' "$url/recommend?q=shoes"
  kill -CONT "$rank1"
  code=124
  for _ in $(seq 200); do
    kill -0 "$server_pid" 2>/dev/null || { wait "$server_pid"; code=$?; break; }
    sleep 0.1
  done
  server_pid=""
  [ "$code" != 0 ] && [ "$code" != 124 ] && pass "the job exits non-zero ($code)" ||
    fail "the job's exit: $code"
  grep -q 'rank 1 did not arrive' "$work/serve4.log" && pass "its log names rank 1" ||
    fail "log: $(tail -5 "$work/serve4.log")"
else
  fail "rank 1's process not found"
fi

finish
