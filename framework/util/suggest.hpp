// "Did you mean ...?" for a misspelt name: the closest of the known names.
#pragma once

#include <string>
#include <vector>

namespace cellzoo {

// The name in `known` closest to `name` (edit distance, case-insensitive) when it is close
// enough to be a likely misspelling (at most a third of the name's letters differ, and
// at least one may), else "".
std::string closest_name(const std::string& name, const std::vector<std::string>& known);

// " (did you mean 'lstm'?)" for closest_name, or "" when nothing is close.
std::string did_you_mean(const std::string& name, const std::vector<std::string>& known);

}  // namespace cellzoo
