// Helpers shared by the subcommands: option parsing with uniform --help and errors.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace cellzoo::cli {

namespace po = boost::program_options;

// Parses `args` (without the subcommand name) against `options` (and positional names).
// Returns false if --help was given (help already printed). Throws cellzoo::Error on a
// bad option, naming it and pointing at --help.
bool parse_args(const std::string& command, const std::string& usage,
                po::options_description& options, const std::vector<std::string>& args,
                po::variables_map& vm,
                const po::positional_options_description* positional = nullptr);

}  // namespace cellzoo::cli
