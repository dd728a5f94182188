#include "data/label_map.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "data/csv_reader.h"

namespace recsys::data {
namespace {

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

std::string_view Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

// "0".."3" or a grade letter; false for anything else.
bool ParseGrade(std::string_view text, Grade* grade) {
  if (text.size() != 1) return false;
  switch (text[0]) {
    case '0':
    case 'i':
    case 'I':
      *grade = Grade::kIrrelevant;
      return true;
    case '1':
    case 'c':
    case 'C':
      *grade = Grade::kComplement;
      return true;
    case '2':
    case 's':
    case 'S':
      *grade = Grade::kSubstitute;
      return true;
    case '3':
    case 'e':
    case 'E':
      *grade = Grade::kExact;
      return true;
    default:
      return false;
  }
}

// The first '-' after the key's first character: where LO ends in LO-HI (LO may be negative).
size_t RangeDash(std::string_view key) { return key.size() < 2 ? key.npos : key.find('-', 1); }

}  // namespace

bool ParseNumber(std::string_view text, double* value) {
  text = Trim(text);
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, *value);
  return error == std::errc() && stop == end && std::isfinite(*value);
}

LabelMap::LabelMap()
    : labels_{{"0", Grade::kIrrelevant},
              {"1", Grade::kComplement},
              {"2", Grade::kSubstitute},
              {"3", Grade::kExact}} {}

LabelMap LabelMap::Parse(const std::string& text) {
  if (Trim(text).empty()) {
    RECSYS_THROW("label map is empty (expected e.g. Exact=3,Irrelevant=0 or 1-2=I,2-3=E)");
  }
  struct Entry {
    std::string key;
    Grade grade;
    bool range;
    double lo, hi;
  };
  std::vector<Entry> entries;
  const std::string_view all(text);
  for (size_t begin = 0;;) {
    const size_t comma = std::min(all.find(',', begin), all.size());
    const std::string_view entry = Trim(all.substr(begin, comma - begin));
    const size_t equals = entry.find('=');
    if (equals == std::string_view::npos) {
      RECSYS_THROW("label map '" << text << "': entry '" << entry
                                 << "' is not LABEL=GRADE or LO-HI=GRADE (e.g. Exact=3, 2-3=E)");
    }
    Entry e;
    e.key = std::string(Trim(entry.substr(0, equals)));
    const std::string_view grade = Trim(entry.substr(equals + 1));
    if (e.key.empty()) {
      RECSYS_THROW("label map '" << text << "': entry '" << entry << "' has an empty label");
    }
    if (!ParseGrade(grade, &e.grade)) {
      RECSYS_THROW("label map '" << text << "': grade '" << grade << "' of label '" << Lower(e.key)
                                 << "' is not one of 0, 1, 2, 3 or I, C, S, E");
    }
    const size_t dash = RangeDash(e.key);
    e.range = dash != std::string::npos && ParseNumber(e.key.substr(0, dash), &e.lo) &&
              ParseNumber(e.key.substr(dash + 1), &e.hi);
    entries.push_back(std::move(e));
    if (comma == all.size()) break;
    begin = comma + 1;
  }

  LabelMap map;
  map.labels_.clear();
  map.numeric_ =
      std::any_of(entries.begin(), entries.end(), [](const Entry& e) { return e.range; });
  if (!map.numeric_) {
    for (const Entry& e : entries) {
      if (!map.labels_.emplace(Lower(e.key), e.grade).second) {
        RECSYS_THROW("label map '" << text << "': label '" << Lower(e.key)
                                   << "' is given twice (labels are case-insensitive)");
      }
    }
    return map;
  }

  std::vector<const Entry*> ranges;
  for (const Entry& e : entries) {
    if (!e.range) {
      const size_t dash = RangeDash(e.key);
      if (dash == std::string::npos) {
        RECSYS_THROW("label map '" << text << "': text label '" << e.key
                                   << "' mixed with numeric ranges (a map holds only LO-HI "
                                      "ranges or only text labels)");
      }
      double unused;
      const std::string lo = e.key.substr(0, dash), hi = e.key.substr(dash + 1);
      RECSYS_THROW("label map '" << text << "': range '" << e.key << "' has a bound '"
                                 << (ParseNumber(lo, &unused) ? hi : lo)
                                 << "' that is not a number");
    }
    if (!(e.lo < e.hi)) {
      RECSYS_THROW("label map '" << text << "': range '" << e.key << "' is empty: LO " << e.lo
                                 << " is not below HI " << e.hi);
    }
    ranges.push_back(&e);
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const Entry* a, const Entry* b) { return a->lo < b->lo; });
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i]->lo < ranges[i - 1]->hi) {
      RECSYS_THROW("label map '" << text << "': ranges '" << ranges[i - 1]->key << "' and '"
                                 << ranges[i]->key
                                 << "' overlap (ranges are [LO, HI), the highest one [LO, HI])");
    }
  }
  for (const Entry* e : ranges) map.ranges_.push_back({e->lo, e->hi, false, e->grade});
  map.ranges_.back().closed = true;
  return map;
}

LabelMap LabelMap::Threshold(double threshold) {
  RECSYS_CHECK(std::isfinite(threshold),
               "label threshold " << threshold << " is not a finite number");
  LabelMap map;
  map.labels_.clear();
  map.numeric_ = map.threshold_ = true;
  map.ranges_ = {{-HUGE_VAL, threshold, false, Grade::kIrrelevant},
                 {threshold, HUGE_VAL, true, Grade::kExact}};
  return map;
}

Grade LabelMap::Map(std::string_view label, const std::string& where,
                    const std::string& column) const {
  if (!numeric_) {
    const auto it = labels_.find(Lower(Trim(label)));
    if (it == labels_.end()) {
      RECSYS_THROW(where << ": unknown label '" << Excerpt(label) << "' in column '" << column
                         << "' (known labels, case-insensitive: " << Describe() << ")");
    }
    return it->second;
  }
  double value;
  if (!ParseNumber(label, &value)) {
    RECSYS_THROW(where << ": label '" << Excerpt(label) << "' in column '" << column
                       << "' is not a number (the label map is numeric: " << Describe() << ")");
  }
  for (const Range& range : ranges_) {
    if (value >= range.lo && (value < range.hi || (range.closed && value == range.hi))) {
      return range.grade;
    }
  }
  RECSYS_THROW(where << ": label " << Excerpt(label) << " in column '" << column
                     << "' is in no range of the label map (" << Describe() << ")");
}

std::string LabelMap::Describe() const {
  std::ostringstream out;
  if (threshold_) {
    out << ">= " << ranges_[1].lo << " E, < " << ranges_[1].lo << " I";
  } else if (numeric_) {
    for (size_t i = 0; i < ranges_.size(); ++i) {
      const Range& r = ranges_[i];
      out << (i ? ", " : "") << "[" << r.lo << ", " << r.hi << (r.closed ? "] " : ") ")
          << GradeLetter(r.grade);
    }
  } else {
    bool first = true;
    for (const auto& entry : labels_) {
      out << (first ? "" : ", ") << entry.first;
      first = false;
    }
  }
  return out.str();
}

}  // namespace recsys::data
