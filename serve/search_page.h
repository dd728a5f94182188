#pragma once
// The small search page recsys_serve answers GET / with: a query box, and for each result its
// title, brand, final score, each stage's score, and the stage timings. It calls
// POST /recommend; ?q=... in the address runs that query at once (what the Chromium test uses),
// ?ranker=... picks the ranker.

namespace recsys::serve {

// The page's HTML, scripts and styles in one document.
const char* SearchPageHtml();

}  // namespace recsys::serve
