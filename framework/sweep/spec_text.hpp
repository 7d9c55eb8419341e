// Internal helpers of the spec reader shared by spec.cpp, expand.cpp, evolution_options.cpp
// and slurm.cpp: value normalisation and error formatting. Not part of the sweep API.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "framework/sweep/spec.hpp"

namespace cellzoo::sweep {

// Throws cellzoo::Error("ORIGIN: message", hint).
[[noreturn]] void fail(const std::string& origin, const std::string& message,
                       const std::string& hint);
std::string trim(std::string_view s);
// The items separated by `sep`.
std::string join(const std::vector<std::string>& items, const std::string& sep);
// The whole text as a finite double, or nothing.
std::optional<double> parse_number(std::string_view text);
// Shortest text that parses back to exactly `v` (std::to_chars).
std::string format_number(double v);
// "a, b, c" -> normalised items; an empty item is an error naming `what`.
std::vector<std::string> split_list(std::string_view text, const std::string& origin,
                                    const std::string& what);
// to_text(), optionally without the `out` line (what spec_hash hashes).
std::string canonical_text(const Spec& spec, bool with_out);
Dimension parse_dimension(std::string_view value, const std::string& origin);

}  // namespace cellzoo::sweep
