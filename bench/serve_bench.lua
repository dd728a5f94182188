-- wrk script of bench/run_serve_bench.sh. Environment:
--   BENCH_KIND   "recommend" (POST /recommend with rotating queries) or "add" (POST /products,
--                a new product id per request)
--   BENCH_BODY   extra JSON fields of a /recommend request, e.g. '"ranker": "none"'
-- At the end prints one line: "result requests=N errors=N p50_ms=X p95_ms=X p99_ms=X rps=X".
local kind = os.getenv("BENCH_KIND") or "recommend"
local extra = os.getenv("BENCH_BODY") or ""
local queries = {"wireless bluetooth headphones", "red running shoes", "usb c cable",
  "stainless steel water bottle", "phone case", "coffee mug", "laptop stand", "desk lamp",
  "yoga mat", "black dress", "kids toys", "hdmi cable", "smart speaker", "backpack",
  "winter jacket", "kitchen knife set"}
local counter = 0
thread_id = 0  -- global: setup() gives each thread its own (thread:set)
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local body
  if kind == "add" then
    body = string.format('{"id": "BENCH-%d-%d-%d", "title": "benchmark gadget %d model %d", ' ..
      '"brand": "Benchco", "category": "Electronics", "price": 9.5}',
      thread_id, counter, os.time(), counter, thread_id)
    return wrk.format(nil, "/products", nil, body)
  end
  local q = queries[(counter + thread_id * 7) % #queries + 1]
  body = '{"query": "' .. q .. '"' .. (extra ~= "" and (", " .. extra) or "") .. '}'
  return wrk.format(nil, "/recommend", nil, body)
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.status + summary.errors.timeout
  io.write(string.format("result requests=%d errors=%d p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f rps=%.1f\n",
    summary.requests, errors, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6)))
end
