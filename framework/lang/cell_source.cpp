// Cell texts by name (cell_source.hpp): files, inline text, the embedded built-in twins,
// and the registry resolvers for their prefixes.
#include "framework/lang/cell_source.hpp"

#include <fstream>
#include <sstream>

#include "framework/lang/lang_cell.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::lang {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("cannot read cell file '" + path + "'",
                "file: paths are relative to the current directory, e.g. "
                "file:experiments/cells/mut1.cell");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::optional<std::string> builtin_cell_text(std::string_view name) {
  for (const auto& [n, text] : builtin_cell_texts())
    if (n == name) return text;
  return std::nullopt;
}

CellText load_cell(std::string_view spec) {
  if (spec.starts_with("file:")) {
    const std::string path(spec.substr(5));
    return parse_cell(read_file(path), path);
  }
  if (spec.starts_with("cell:")) return parse_cell(spec.substr(5), "<inline>");
  const std::string_view name = spec.starts_with("lang:") ? spec.substr(5) : spec;
  if (auto text = builtin_cell_text(name)) return parse_cell(*text, std::string(name) + ".cell");
  std::string known;
  for (const auto& [n, _] : builtin_cell_texts()) known += (known.empty() ? "" : ", ") + n;
  throw Error("no cell-language text for '" + std::string(spec) + "'",
              "give file:PATH, cell:TEXT (statements separated by ';'), or one of: " + known);
}

void install_language_cells(cells::CellRegistry& registry) {
  for (const char* prefix : {"file:", "cell:", "lang:"})
    registry.add_resolver(prefix, [](std::string_view name) {
      return make_entry(load_cell(name), std::string(name));
    });
}

}  // namespace cellzoo::lang
