// Parsing sprint-sim's command line and its --config INI file (Boost.Program_options) into the
// stored option values; the values are checked and applied by cli_validate.cpp.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/program_options.hpp>

#include "core/params.h"
#include "platforms/sim/cli.h"
#include "platforms/sim/cli_internal.h"
#include "platforms/sim/version.h"

namespace po = boost::program_options;

namespace sprint::platform {

namespace {

// Boost's error text puts the option's name into placeholders such as %canonical_option% and
// loops forever when the name holds one itself: a name with '%' (no option has one) is refused
// here, before Boost sees it.
void refuse_percent_name(const std::string& name, const std::string& where) {
    if (name.find('%') != std::string::npos)
        throw std::runtime_error(where + "unrecognised option '" + name + "'");
}

std::vector<std::string> long_names(const po::options_description& all) {
    std::vector<std::string> out;
    for (const auto& o : all.options()) out.push_back(o->long_name());
    return out;
}

// The command line into `vm`; no positional arguments: a stray word is an error, not ignored.
void store_command_line(int argc, const char* const argv[], const po::options_description& all,
                        po::variables_map& vm) {
    for (int i = 1; i < argc; ++i)
        if (argv[i][0] == '-') {
            const std::string w = argv[i];
            refuse_percent_name(w.substr(0, w.find('=')), "");
        }
    try {
        po::options_description cmdline;
        cmdline.add(all).add_options()("stray-argument", po::value<std::vector<std::string>>(), "");
        po::positional_options_description stray;
        stray.add("stray-argument", -1);
        po::store(po::command_line_parser(argc, argv)
                      .options(cmdline)
                      .positional(stray)
                      .style(po::command_line_style::default_style &
                             ~po::command_line_style::allow_guessing)
                      .run(),
                  vm);
    } catch (const po::unknown_option& e) {
        std::string name = e.get_option_name();
        while (!name.empty() && name.front() == '-') name.erase(name.begin());
        throw std::runtime_error(std::string(e.what()) + core::did_you_mean(name, long_names(all)));
    } catch (const po::error& e) {
        throw std::runtime_error(e.what());
    }
    if (vm.count("stray-argument"))
        throw std::runtime_error("unexpected argument '" +
                                 vm["stray-argument"].as<std::vector<std::string>>()[0] +
                                 "' (options start with --, e.g. --heads 2)");
}

// The --config file into `vm`, below what the command line already holds; returns every
// (name, value) the file gives, also those the command line overrides.
std::vector<std::pair<std::string, std::string>> store_config_file(
    const std::string& file, const po::options_description& all, po::variables_map& vm) {
    std::error_code ec;
    std::ifstream f(file);
    if (!std::filesystem::is_regular_file(file, ec) || !f)
        throw std::runtime_error("option '--config': file '" + file +
                                 "' cannot be opened for reading");
    std::stringstream in;
    in << f.rdbuf();
    for (std::string line; std::getline(in, line);) {
        const std::size_t at = line.find_first_not_of(" \t");
        if (at == std::string::npos || line[at] == '#' || line[at] == ';' || line[at] == '[')
            continue;
        std::string key = line.substr(at, line.find('=') - at);
        key.erase(key.find_last_not_of(" \t\r") + 1);
        refuse_percent_name(key, "config file '" + file + "': ");
    }
    in.clear();
    in.seekg(0);
    try {
        const po::parsed_options parsed = po::parse_config_file(in, all, false);
        // po::store keeps values already stored: a 'config' key in the file would be dropped
        // silently behind the command line's, so it is looked for before storing.
        for (const auto& opt : parsed.options)
            if (opt.string_key == "config")
                throw std::runtime_error("config file '" + file +
                                         "': 'config' cannot be nested (one config file per run)");
        po::store(parsed, vm);
        std::vector<std::pair<std::string, std::string>> given;
        for (const auto& opt : parsed.options)
            for (const std::string& v : opt.value) given.emplace_back(opt.string_key, v);
        return given;
    } catch (const po::unknown_option& e) {
        throw std::runtime_error("config file '" + file + "': " + e.what() +
                                 core::did_you_mean(e.get_option_name(), long_names(all)));
    } catch (const po::error& e) {
        throw std::runtime_error("config file '" + file + "': " + e.what());
    }
}

}  // namespace

Arguments::Action Arguments::parse(int argc, const char* const argv[]) {
    ArgumentsImpl& m = *m_impl;
    po::options_description all;
    for (const auto* e : m.run_reg.entries()) cli::add_entry(all, *e);
    for (const auto* e : registry.entries()) cli::add_entry(all, *e, false);
    po::variables_map vm;
    // -v, -vv, -vvv: SystemC report verbosity medium, high, full.
    std::vector<std::string> words(argv, argv + argc);
    run.command_line = words;
    run.started = utc_timestamp();
    for (auto& w : words) {
        if (w == "-v") w = "--verbosity=medium";
        if (w == "-vv") w = "--verbosity=high";
        if (w == "-vvv") w = "--verbosity=full";
    }
    std::vector<const char*> args;
    for (const auto& w : words) args.push_back(w.c_str());
    store_command_line(int(args.size()), args.data(), all, vm);
    if (vm.count("config")) {
        const std::string file = vm["config"].as<std::string>();
        // Every value of the file is checked, also one the command line overrides: a bad value
        // in a config file does not wait for the day the command line stops covering it.
        Arguments scratch;
        for (const auto& [name, value] : store_config_file(file, all, vm)) {
            core::ParamRegistry& reg =
                scratch.m_impl->run_reg.find(name) ? scratch.m_impl->run_reg : scratch.registry;
            const std::string err = reg.set(name, value);
            if (!err.empty()) throw std::runtime_error("config file '" + file + "': " + err);
        }
    }
    if (vm.count("help")) {
        cli::set_or_throw(m.run_reg, "help", vm["help"].as<std::string>());
        if (m.help) return Action::Help;
    }
    if (vm.count("version")) {
        cli::set_or_throw(m.run_reg, "version", vm["version"].as<std::string>());
        if (m.version) return Action::Version;
    }
    apply(vm);
    if (run.dump_regmap || run.dump_params || run.dump_tech) return Action::Exit;
    return Action::Run;
}

}  // namespace sprint::platform
