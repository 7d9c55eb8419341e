// Numbers as text for people and JSON: the shortest text that reads back as the same
// double ("0.1", "1e-06"), never "0.10000000000000001".
#pragma once

#include <charconv>
#include <string>

namespace cellzoo {

inline std::string shortest_text(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace cellzoo
