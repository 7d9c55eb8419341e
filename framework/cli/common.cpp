#include "framework/cli/common.hpp"

#include <iostream>

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
  } catch (const po::error& e) {
    throw Error(std::string(e.what()), "see 'cellzoo " + command + " --help'");
  }
  return true;
}

}  // namespace cellzoo::cli
