// Fuzzes the judged-file loaders and the label maps: the input's first byte chooses the optional
// columns and the layout, its first line is a label map (the default map when it does not
// parse), the rest is the judged CSV/TSV file. A loaded dataset must be valid (Validate), and
// every error a recsys::Error with a bounded message.

#include <cmath>

#include "data/judgment_loaders.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace recsys::data;
  if (size == 0) return 0;
  static const recsys::fuzz::ScratchFile file("judged.csv");
  const uint8_t flags = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t newline = std::min(text.find('\n'), text.size());
  const std::string map_text(text.substr(0, newline));
  const std::string_view body = text.substr(std::min(newline + 1, text.size()));
  file.Write(reinterpret_cast<const uint8_t*>(body.data()), body.size());

  LabelMap labels;
  try {
    labels = LabelMap::Parse(map_text);
    labels.Describe();
    // Every value the map accepts must come back as a grade 0..3.
    for (const auto& [label, grade] : labels.labels()) {
      recsys::fuzz::Require(labels.Map(label, "map", "label") == grade, "label maps back");
    }
  } catch (const recsys::Error&) {
    labels = LabelMap();  // the map is command-line text: its messages may quote all of it
  }
  double number = 0;
  if (ParseNumber(map_text, &number)) recsys::fuzz::Require(std::isfinite(number), "finite");

  try {
    if (flags & 1) {
      EsciOptions options;
      options.path = file.path();
      options.max_record_bytes = 4096;
      options.valid_fraction = (flags >> 4) / 16.0;
      LoadEsci(options).Validate();
    } else {
      JudgmentsOptions options;
      options.path = file.path();
      options.max_record_bytes = 4096;
      options.labels = labels;
      if (flags & 2) options.query_id_column = "query_id";
      if (flags & 4) options.split_column = "split";
      if (flags & 8) options.brand_column = "brand";
      options.valid_fraction = options.test_fraction = (flags >> 4) / 32.0;
      LoadJudgments(options).Validate();
    }
  } catch (const recsys::Error& e) {
    recsys::fuzz::CheckError(e);
  }
  return 0;
}
