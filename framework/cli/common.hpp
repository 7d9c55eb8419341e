// Helpers shared by the subcommands: option parsing with uniform --help and errors.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <utility>
#include <vector>

#include "framework/sweep/spec.hpp"

namespace cellzoo::cli {

namespace po = boost::program_options;

// Parses `args` (without the subcommand name) against `options` (and positional names).
// Returns false if --help was given (help already printed). Throws cellzoo::Error on a
// bad option, naming it and pointing at --help.
bool parse_args(const std::string& command, const std::string& usage,
                po::options_description& options, const std::vector<std::string>& args,
                po::variables_map& vm,
                const po::positional_options_description* positional = nullptr);

// A `--set key=value` argument as (key, value); throws cellzoo::Error("--set 'TEXT' is not
// key=value", "e.g. --set EXAMPLE") when there is no '=' or no key.
std::pair<std::string, std::string> split_setting(const std::string& text,
                                                  const std::string& example);

// Adds `--plugin PATH.so` (repeatable) to the options of a command that takes cells.
void add_plugin_option(po::options_description& options, std::vector<std::string>& paths);
// Loads the plugins of CELLZOO_PLUGIN_PATH and then `paths` into the cell registry
// (framework/plugins/loader.hpp); a bad plugin is one error naming its file.
void load_plugins(const std::vector<std::string>& paths);
// Loads the plugins of the spec's `plugins` key; an error names the spec line.
void load_spec_plugins(const sweep::Spec& spec);

}  // namespace cellzoo::cli
