#include "serve/search_page.h"

namespace recsys::serve {

const char* SearchPageHtml() {
  return R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>recsys search</title>
<style>
  body { font-family: sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
  form { display: flex; gap: .5em; margin-bottom: 1em; }
  input[type=search] { flex: 1; font-size: 1.1em; padding: .4em; }
  select, button { font-size: 1em; }
  #timings { color: #555; font-size: .9em; margin-bottom: .5em; }
  #error { color: #b00; }
  ol { padding-left: 1.5em; }
  li { margin-bottom: .6em; }
  .title { font-weight: bold; }
  .brand { color: #555; }
  .scores { font-size: .85em; color: #444; font-family: monospace; }
</style>
</head>
<body>
<h1>Product search</h1>
<form id="search">
  <input type="search" id="q" name="q" placeholder="what are you shopping for?" autofocus>
  <select id="mode"><option>hybrid</option><option>dense</option><option>lexical</option></select>
  <button type="submit">Search</button>
</form>
<div id="error"></div>
<div id="timings"></div>
<ol id="results"></ol>
<script>
const fmt = (x, d) => (typeof x === 'number' ? x.toFixed(d) : '-');
function text(tag, cls, value) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  e.textContent = value;
  return e;
}
// ?ranker=NAME in the address picks the ranker (none: the recall stage's order).
const ranker = new URLSearchParams(location.search).get('ranker');
async function run(query, mode) {
  document.getElementById('error').textContent = '';
  const results = document.getElementById('results');
  results.replaceChildren();
  const response = await fetch('/recommend', {
    method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify(Object.assign({query: query, mode: mode, k: 10},
                                       ranker ? {ranker: ranker} : {}))});
  const body = await response.json();
  if (!response.ok) {
    document.getElementById('error').textContent = body.error;
    return;
  }
  const t = body.timings_ms;
  document.getElementById('timings').textContent =
      `${body.products.length} products, ranker ${body.ranker}, batch of ${body.batch}: ` +
      `query tower ${fmt(t.query_tower, 2)} ms, vector index ${fmt(t.vector_index, 2)} ms, ` +
      `bm25 ${fmt(t.lexical_index, 2)} ms, fusion ${fmt(t.fusion, 2)} ms, ` +
      `ranking ${fmt(t.ranking, 2)} ms, re-rank ${fmt(t.rerank, 2)} ms`;
  for (const p of body.products) {
    const li = document.createElement('li');
    li.appendChild(text('div', 'title', p.title));
    li.appendChild(text('div', 'brand', `${p.brand || 'no brand'} · ${p.id}`));
    const s = p.stages;
    li.appendChild(text('div', 'scores',
        `score ${fmt(p.score, 4)} · ranker ${fmt(s.ranker, 4)} · fused ${fmt(s.fused, 4)} · ` +
        `dense ${s.dense ? fmt(s.dense.score, 4) + ' (#' + s.dense.rank + ')' : '-'} · ` +
        `bm25 ${s.bm25 ? fmt(s.bm25.score, 3) + ' (#' + s.bm25.rank + ')' : '-'}`));
    results.appendChild(li);
  }
}
document.getElementById('search').addEventListener('submit', (e) => {
  e.preventDefault();
  run(document.getElementById('q').value, document.getElementById('mode').value);
});
const start = new URLSearchParams(location.search);
if (start.get('q')) {
  document.getElementById('q').value = start.get('q');
  if (start.get('mode')) document.getElementById('mode').value = start.get('mode');
  run(start.get('q'), document.getElementById('mode').value);
}
</script>
</body>
</html>
)html";
}

}  // namespace recsys::serve
