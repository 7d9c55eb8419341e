// cellzoo::Error: every user-facing failure is one of these. The message says what is
// wrong; the hint says how to fix it. The CLI prints both and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace cellzoo {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, std::string hint = {})
      : std::runtime_error(what), hint_(std::move(hint)) {}
  const std::string& hint() const { return hint_; }

 private:
  std::string hint_;
};

}  // namespace cellzoo
