#pragma once
// How the label column of a judged file becomes a grade (0 I .. 3 E). A map is one of:
//  - text labels, "Exact=3,Substitute=2,C=1,0=0": the label's text (trimmed, case-insensitive)
//    must be one of the map's labels;
//  - numeric ranges, "1-1.5=I,1.5-2.25=C,2.25-2.75=S,2.75-3=E": the label is a decimal number
//    and falls in one range. Ranges are half-open, [LO, HI), except the one with the highest HI,
//    which is closed, [LO, HI]: above, 1.5 is C, 2.75 is E and 3 is E. Gaps are allowed (a
//    number in a gap is an error when it is read), overlaps are not;
//  - a threshold (Threshold): numbers >= T are E (3), numbers below T are I (0).
// A grade is written as 0..3 or as its letter I, C, S, E (case-insensitive).

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "data/dataset.h"

namespace recsys::data {

class LabelMap {
 public:
  struct Range {
    double lo, hi;
    bool closed;  // hi itself is in the range (the highest range)
    Grade grade;
  };

  // The default map: the text labels 0, 1, 2, 3 are the grades.
  LabelMap();

  // Parses comma-separated entries KEY=GRADE (spaces around either side ignored). A key of the
  // form NUMBER-NUMBER (e.g. 1.5-2.25, -1-0) is a numeric range; any other key is a text label.
  // Throws recsys::Error naming the map and the entry for: an empty map, an entry without '=',
  // an empty label, a grade that is not 0..3 or I/C/S/E, a text label given twice, a range
  // whose LO is not below its HI, two overlapping ranges (both named), and a map that mixes
  // ranges with text labels (a map is one or the other; an entry like 1-x is reported as a
  // range with a bound that is not a number).
  static LabelMap Parse(const std::string& text);

  // Numbers >= threshold are E (3), below it I (0). threshold must be finite.
  static LabelMap Threshold(double threshold);

  // The grade of one label as read from a file. where ("path:line") and column name the field
  // in the message of the recsys::Error thrown for an unknown text label, a label that is not
  // a number (numeric maps), and a number that no range covers.
  Grade Map(std::string_view label, const std::string& where, const std::string& column) const;

  bool numeric() const { return numeric_; }
  const std::map<std::string, Grade>& labels() const { return labels_; }  // lower-case keys
  const std::vector<Range>& ranges() const { return ranges_; }            // sorted by lo
  // "[1, 1.5) I, [1.5, 3] E", ">= 2.5 E, < 2.5 I" or "0, 1, 2, 3": what the map accepts.
  std::string Describe() const;

 private:
  bool numeric_ = false;
  bool threshold_ = false;
  std::map<std::string, Grade> labels_;
  std::vector<Range> ranges_;
};

// Parses a whole string as a finite decimal number (leading and trailing spaces ignored;
// "2", "2.33", "-1", "1e-3"); false for anything else, "nan" and "inf" included.
bool ParseNumber(std::string_view text, double* value);

}  // namespace recsys::data
