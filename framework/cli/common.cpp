#include "framework/cli/common.hpp"

#include <iostream>

#include "framework/plugins/loader.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::cli {

bool parse_args(const std::string& command, const std::string& usage,
                po::options_description& options, const std::vector<std::string>& args,
                po::variables_map& vm, const po::positional_options_description* positional) {
  options.add_options()("help,h", "show this help");
  try {
    po::command_line_parser parser(args);
    parser.options(options);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), vm);
    if (vm.count("help")) {
      std::cout << "usage: cellzoo " << command << " " << usage << "\n\n" << options << "\n";
      return false;
    }
    po::notify(vm);
  } catch (const po::required_option& e) {
    // A missing positional argument is named as the usage names it, not as '--spec'.
    const std::string name = e.get_option_name();  // "--spec"
    const std::string bare = name.rfind("--", 0) == 0 ? name.substr(2) : name;
    // Positions run up to max_total_count(), which is huge for an unlimited last name;
    // that name then repeats, so the scan stops at the first repeat.
    for (unsigned i = 0; positional && i < positional->max_total_count(); ++i) {
      const std::string& at = positional->name_for_position(i);
      if (at == bare)
        throw Error("missing the " + bare + " argument", "usage: cellzoo " + command + " " + usage);
      if (i > 0 && at == positional->name_for_position(i - 1)) break;
    }
    throw Error(std::string(e.what()), "see 'cellzoo " + command + " --help'");
  } catch (const po::error& e) {
    throw Error(std::string(e.what()), "see 'cellzoo " + command + " --help'");
  }
  return true;
}

std::pair<std::string, std::string> split_setting(const std::string& text,
                                                  const std::string& example) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error("--set '" + text + "' is not key=value", "e.g. --set " + example);
  return {text.substr(0, eq), text.substr(eq + 1)};
}

void add_plugin_option(po::options_description& options, std::vector<std::string>& paths) {
  options.add_options()("plugin", po::value(&paths)->composing(),
                        "load the cells of this plugin (a .so built against the cellzoo SDK; "
                        "repeatable; see docs/plugins.md). CELLZOO_PLUGIN_PATH (colon-separated "
                        ".so files or directories) adds more");
}

void load_plugins(const std::vector<std::string>& paths) {
  plugins::load_plugins(paths);
}

void load_spec_plugins(const sweep::Spec& spec) {
  for (const auto& path : sweep::plugin_files(spec)) {
    try {
      plugins::load_plugin(path);
    } catch (const Error& e) {
      const auto origin = spec.origins.find("plugins");
      throw Error((origin == spec.origins.end() ? spec.source : origin->second) + ": " + e.what(),
                  e.hint());
    }
  }
}

}  // namespace cellzoo::cli
