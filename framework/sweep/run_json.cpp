// One resolved run as JSON (run_json.hpp).
#include "framework/sweep/run_json.hpp"

#include <cstdio>

#include "framework/sweep/spec_text.hpp"
#include "framework/train/hyperparameters.hpp"

namespace cellzoo::sweep {
namespace {

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// A resolved value of table row `spec` as JSON.
std::string value_json(const train::HyperparameterSpec& spec, const std::string& text) {
  using train::HyperType;
  if (spec.type == HyperType::boolean) return text;  // canonical: true | false
  if (spec.type == HyperType::integer || spec.type == HyperType::real) {
    if (text == "none") return "null";
    if (const auto v = parse_number(text)) return format_number(*v);
  }
  return quoted(text);
}

}  // namespace

std::string run_json(const RunSpec& run, std::int64_t n_params, const std::string& input_mode) {
  std::string out =
      "{\"run_id\": " + std::to_string(run.run_id) + ", \"run_key\": " + quoted(run.run_key) +
      ", \"cell\": " + quoted(run.cell) + ", \"task\": " + quoted(run.task) +
      ", \"trial\": " + std::to_string(run.trial) + ", \"seed\": " + std::to_string(run.seed);
  for (const auto& spec : train::hyperparameter_table()) {
    const auto it = run.config.values.find(spec.name);
    if (it != run.config.values.end())
      out += ", " + quoted(spec.name) + ": " + value_json(spec, it->second);
  }
  for (const auto& [key, text] : run.config.task_options) {
    const auto v = parse_number(text);
    out += ", " + quoted("task." + key) + ": " + (v ? format_number(*v) : quoted(text));
  }
  return out + ", \"n_params\": " + std::to_string(n_params) +
         ", \"input_mode\": " + quoted(input_mode) + "}";
}

}  // namespace cellzoo::sweep
