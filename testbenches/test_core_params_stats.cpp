// Unit tests of the parameter registry (core/params.h), the statistics tree (core/stats.h) and the
// enum spellings of core/types.h.
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include <catch2/catch.hpp>

#include "core/params.h"
#include "core/stats.h"
#include "core/types.h"

using namespace sprint::core;
using Catch::Matchers::Contains;

namespace {

struct Cfg {
    uint64_t k_bytes = 16384;
    uint64_t base = 0;
    uint32_t tiles = 4;
    int bits = 4;
    double sigma = 0.0;
    bool dmi = true;
    std::string repl = "lru";
};

void register_all(ParamRegistry& r, Cfg& c) {
    r.add_uint("sprint.sram.k_bytes", c.k_bytes, "B", "K buffer capacity", 16, 1u << 20);
    r.add_uint("sprint.fetcher.window_base", c.base, "address", "window start", 0,
               std::numeric_limits<uint64_t>::max());
    r.add_uint("sprint.xbar.tiles", c.tiles, "tiles", "crossbar tiles", 1, 65536);
    r.add_int("sprint.xbar.key_bits", c.bits, "bits", "key bits", 1, 8);
    r.add_double("sprint.xbar.read_noise_sigma", c.sigma, "raw", "read noise", 0.0, 100.0);
    r.add_bool("sprint.fetcher.use_dmi", c.dmi, "use DMI");
    r.add_choice("sprint.sram.replacement", c.repl, "eviction", {"lru", "fifo"});
}

// Minimal INI reader: "[section]" and "key = value" lines -> dotted name -> value.
std::map<std::string, std::string> read_ini(const std::string& text) {
    std::map<std::string, std::string> out;
    std::istringstream is(text);
    std::string line, section;
    while (std::getline(is, line)) {
        if (line.empty() || line[0] == '#') continue;
        if (line[0] == '[') {
            section = line.substr(1, line.find(']') - 1);
            continue;
        }
        const auto eq = line.find(" = ");
        REQUIRE(eq != std::string::npos);
        const std::string key = line.substr(0, eq);
        out[section.empty() ? key : section + "." + key] = line.substr(eq + 3);
    }
    return out;
}

}  // namespace

TEST_CASE("core/params: set and get every kind of parameter", "[core][params]") {
    ParamRegistry r;
    Cfg c;
    register_all(r, c);

    CHECK(r.set("sprint.sram.k_bytes", "32768") == "");
    CHECK(c.k_bytes == 32768);
    CHECK(r.find("sprint.sram.k_bytes")->get() == "32768");
    CHECK(r.set("sprint.sram.k_bytes", "0x100") == "");  // hex
    CHECK(c.k_bytes == 256);
    CHECK(r.set("sprint.sram.k_bytes", "16") == "");  // inclusive bounds
    CHECK(r.set("sprint.sram.k_bytes", "1048576") == "");
    CHECK(r.set("sprint.fetcher.window_base", "18446744073709551615") == "");
    CHECK(c.base == std::numeric_limits<uint64_t>::max());
    CHECK(r.set("sprint.xbar.tiles", "65536") == "");
    CHECK(c.tiles == 65536u);
    CHECK(r.set("sprint.xbar.key_bits", "2") == "");
    CHECK(c.bits == 2);
    CHECK(r.set("sprint.xbar.read_noise_sigma", "0.25") == "");
    CHECK(c.sigma == 0.25);
    CHECK(r.set("sprint.xbar.read_noise_sigma", "1e-3") == "");
    CHECK(c.sigma == 1e-3);
    CHECK(r.find("sprint.xbar.read_noise_sigma")->get() == "0.001");
    CHECK(r.set("sprint.sram.replacement", "fifo") == "");
    CHECK(c.repl == "fifo");

    // the registry reads the variable, so a direct change is visible
    c.tiles = 7;
    CHECK(r.find("sprint.xbar.tiles")->get() == "7");
}

TEST_CASE("core/params: did_you_mean names the close known names, never far ones",
          "[core][params]") {
    const std::vector<std::string> known = {"lpddr4", "hbm2", "ddr4", "reram"};
    CHECK(did_you_mean("hbm3", known) == " (did you mean 'hbm2'?)");
    CHECK(did_you_mean("HBM2", known) == " (did you mean 'hbm2'?)");
    CHECK(did_you_mean("ddr3", known) == " (did you mean 'ddr4'?)");
    CHECK(did_you_mean("sram", known) == "");
    CHECK(did_you_mean("sprint.sram.kbytes", {"sprint.sram.k_bytes", "heads"}) ==
          " (did you mean 'sprint.sram.k_bytes'?)");
    CHECK(did_you_mean("x", {}) == "");
}

TEST_CASE("core/params: bools", "[core][params]") {
    ParamRegistry r;
    Cfg c;
    register_all(r, c);
    for (const char* t : {"true", "1", "yes", "on"}) {
        c.dmi = false;
        CHECK(r.set("sprint.fetcher.use_dmi", t) == "");
        CHECK(c.dmi);
        CHECK(r.find("sprint.fetcher.use_dmi")->get() == "true");
    }
    for (const char* f : {"false", "0", "no", "off"}) {
        c.dmi = true;
        CHECK(r.set("sprint.fetcher.use_dmi", f) == "");
        CHECK_FALSE(c.dmi);
        CHECK(r.find("sprint.fetcher.use_dmi")->get() == "false");
    }
    c.dmi = true;
    const std::string err = r.set("sprint.fetcher.use_dmi", "maybe");
    CHECK_THAT(
        err, Contains("sprint.fetcher.use_dmi") && Contains("maybe") && Contains("true or false"));
    CHECK(c.dmi);
    CHECK(r.find("sprint.fetcher.use_dmi")->allowed == "true or false");
}

TEST_CASE("core/params: bad values name the parameter, the value and the allowed range",
          "[core][params]") {
    ParamRegistry r;
    Cfg c;
    register_all(r, c);
    struct Bad {
        const char *name, *value, *allowed;
    };
    const Bad bad[] = {
        {"sprint.sram.k_bytes", "0", "integer 16 to 1048576"},
        {"sprint.sram.k_bytes", "15", "integer 16 to 1048576"},
        {"sprint.sram.k_bytes", "1048577", "integer 16 to 1048576"},
        {"sprint.sram.k_bytes", "abc", "integer 16 to 1048576"},
        {"sprint.sram.k_bytes", "", "integer 16 to 1048576"},
        {"sprint.sram.k_bytes", "-5", "integer 16 to 1048576"},
        {"sprint.sram.k_bytes", "+64", "integer 16 to 1048576"},
        {"sprint.sram.k_bytes", "64k", "integer 16 to 1048576"},
        {"sprint.sram.k_bytes", "1.5", "integer 16 to 1048576"},
        {"sprint.sram.k_bytes", "0x", "integer 16 to 1048576"},
        {"sprint.sram.k_bytes", "99999999999999999999999", "integer 16 to 1048576"},
        {"sprint.fetcher.window_base", "-1", "integer 0 to 18446744073709551615"},
        {"sprint.fetcher.window_base", " -1", "integer 0 to 18446744073709551615"},
        {"sprint.fetcher.window_base", "18446744073709551616", "integer 0 to 18446744073709551615"},
        {"sprint.xbar.tiles", "4294967297", "integer 1 to 65536"},  // not truncated to 1
        {"sprint.xbar.tiles", "0", "integer 1 to 65536"},
        {"sprint.xbar.key_bits", "9", "integer 1 to 8"},
        {"sprint.xbar.key_bits", "0", "integer 1 to 8"},
        {"sprint.xbar.key_bits", "-3", "integer 1 to 8"},
        {"sprint.xbar.key_bits", "4.0", "integer 1 to 8"},
        {"sprint.xbar.key_bits", "", "integer 1 to 8"},
        {"sprint.xbar.key_bits", "99999999999999999999", "integer 1 to 8"},
        {"sprint.xbar.read_noise_sigma", "-0.1", "number 0 to 100"},
        {"sprint.xbar.read_noise_sigma", "100.5", "number 0 to 100"},
        {"sprint.xbar.read_noise_sigma", "nan", "number 0 to 100"},
        {"sprint.xbar.read_noise_sigma", "inf", "number 0 to 100"},
        {"sprint.xbar.read_noise_sigma", "1e400", "number 0 to 100"},
        {"sprint.xbar.read_noise_sigma", "0.5x", "number 0 to 100"},
        {"sprint.xbar.read_noise_sigma", "", "number 0 to 100"},
        {"sprint.sram.replacement", "random", "lru|fifo"},
        {"sprint.sram.replacement", "LRU", "lru|fifo"},
        {"sprint.sram.replacement", "", "lru|fifo"},
    };
    for (const Bad& b : bad) {
        const Cfg before = c;
        const std::string err = r.set(b.name, b.value);
        INFO(b.name << " = '" << b.value << "': " << err);
        CHECK_FALSE(err.empty());
        CHECK_THAT(err, Contains(b.name));
        CHECK_THAT(err, Contains(std::string("'") + b.value + "'"));
        CHECK_THAT(err, Contains(b.allowed));
        // a refused value changes nothing
        CHECK(c.k_bytes == before.k_bytes);
        CHECK(c.base == before.base);
        CHECK(c.tiles == before.tiles);
        CHECK(c.bits == before.bits);
        CHECK(c.sigma == before.sigma);
        CHECK(c.repl == before.repl);
    }
}

TEST_CASE("core/params: unknown names, duplicates, find and entries", "[core][params]") {
    ParamRegistry r;
    Cfg c;
    register_all(r, c);
    const std::string err = r.set("sprint.sram.kbytes", "16");
    CHECK_THAT(err, Contains("unknown") && Contains("sprint.sram.kbytes"));
    CHECK(r.find("sprint.sram.kbytes") == nullptr);
    CHECK(r.find("") == nullptr);

    uint64_t other = 0;
    CHECK_THROWS_AS(r.add_uint("sprint.sram.k_bytes", other, "B", "again", 0, 1), std::logic_error);

    const auto* e = r.find("sprint.sram.k_bytes");
    REQUIRE(e != nullptr);
    CHECK(e->name == "sprint.sram.k_bytes");
    CHECK(e->unit == "B");
    CHECK(e->description == "K buffer capacity");
    CHECK(e->allowed == "integer 16 to 1048576");
    CHECK(e->default_value == "16384");
    REQUIRE(r.set("sprint.sram.k_bytes", "64") == "");
    CHECK(e->default_value == "16384");  // the default is the value at registration
    CHECK(e->get() == "64");
    CHECK(r.find("sprint.sram.replacement")->allowed == "lru|fifo");
    CHECK(r.find("sprint.xbar.read_noise_sigma")->allowed == "number 0 to 100");

    const auto all = r.entries();
    REQUIRE(all.size() == 7);
    for (std::size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1]->name < all[i]->name);
}

TEST_CASE("core/params: dump_ini lists every parameter and reads back", "[core][params]") {
    ParamRegistry r;
    Cfg c;
    register_all(r, c);
    uint32_t top = 3;
    r.add_uint("verbosity", top, "", "a name without a section", 0, 9);
    REQUIRE(r.set("sprint.xbar.read_noise_sigma", "0.1") == "");
    REQUIRE(r.set("sprint.sram.replacement", "fifo") == "");
    REQUIRE(r.set("sprint.fetcher.use_dmi", "off") == "");
    const std::string ini = r.dump_ini();
    INFO(ini);
    CHECK_THAT(ini, Contains("[sprint.sram]"));
    CHECK_THAT(ini, Contains("[sprint.xbar]"));
    CHECK_THAT(ini, Contains("[sprint.fetcher]"));
    CHECK_THAT(ini, Contains("k_bytes = 16384"));
    CHECK_THAT(ini, Contains("read_noise_sigma = 0.1"));
    CHECK_THAT(ini, Contains("replacement = fifo"));
    CHECK_THAT(ini, Contains("use_dmi = false"));
    CHECK_THAT(ini, Contains("# K buffer capacity [B]; integer 16 to 1048576; default 16384"));
    CHECK_THAT(ini, Contains("default lru"));

    const auto kv = read_ini(ini);
    CHECK(kv.size() == r.entries().size());
    for (const auto* e : r.entries()) {
        INFO(e->name);
        REQUIRE(kv.count(e->name) == 1);
        CHECK(kv.at(e->name) == e->get());
    }
    // the dump configures a fresh registry to the same values
    ParamRegistry r2;
    Cfg c2;
    register_all(r2, c2);
    uint32_t top2 = 3;  // same defaults as `r`, so the "default" comments match too
    r2.add_uint("verbosity", top2, "", "a name without a section", 0, 9);
    top2 = 0;
    for (const auto& p : kv) CHECK(r2.set(p.first, p.second) == "");
    CHECK(r2.dump_ini() == ini);
    CHECK(c2.sigma == c.sigma);
    CHECK(c2.repl == c.repl);
    CHECK(c2.dmi == c.dmi);
    CHECK(top2 == 3u);
}

TEST_CASE("core/params: message label and display prefix, free-text parameters", "[core][params]") {
    ParamRegistry r("option", "--");
    int bits = 4;
    std::string path = "out.json";
    r.add_int("bits", bits, "", "key bits", 1, 8);
    r.add_string("stats", path, "", "statistics file", "a file name ending in .json",
                 [](const std::string& v) -> std::string {
                     return v.size() > 5 && v.substr(v.size() - 5) == ".json" ? "" : "not .json";
                 });
    CHECK(r.set("bits", "12") ==
          "option '--bits': value '12' is not allowed (allowed: integer 1 to 8)");
    CHECK_THAT(r.set("bitz", "1"), Contains("unknown option '--bitz'"));
    CHECK(r.set("stats", "run.json") == "");
    CHECK(path == "run.json");
    const std::string err = r.set("stats", "run.txt");
    CHECK_THAT(err, Contains("'--stats'") && Contains("'run.txt'") &&
                        Contains("a file name ending in .json") && Contains("not .json"));
    CHECK(path == "run.json");
    // without a check any text is taken
    std::string free = "";
    r.add_string("label", free, "", "any text", "any text");
    CHECK(r.set("label", "x y z") == "");
    CHECK(free == "x y z");
    CHECK(r.find("label")->default_value == "");
}

TEST_CASE("core/params: format_double is the shortest exact text", "[core][params]") {
    CHECK(format_double(0.1) == "0.1");
    CHECK(format_double(1.0) == "1");
    CHECK(format_double(-2.5) == "-2.5");
    CHECK(format_double(1e-300) == "1e-300");
    for (double v :
         {1.0 / 3.0, 0.1 + 0.2, 6.02214076e23, -1.0e-7 / 3.0, std::numeric_limits<double>::max(),
          std::numeric_limits<double>::denorm_min()}) {
        const std::string s = format_double(v);
        INFO(s);
        CHECK(std::strtod(s.c_str(), nullptr) == v);  // (std::stod throws on subnormals)
    }
}

TEST_CASE("core/types: enum spellings round trip", "[core][params]") {
    for (Mode m : {Mode::Sprint, Mode::Dense, Mode::OnchipPrune}) {
        Mode back = Mode::Dense;
        REQUIRE(parse(to_string(m), back));
        CHECK(back == m);
    }
    for (EmptyRowPolicy p : {EmptyRowPolicy::Self, EmptyRowPolicy::Max}) {
        EmptyRowPolicy back{};
        REQUIRE(parse(to_string(p), back));
        CHECK(back == p);
    }
    for (SoftmaxKind k : {SoftmaxKind::Fixed, SoftmaxKind::Float, SoftmaxKind::Prob8}) {
        SoftmaxKind back{};
        REQUIRE(parse(to_string(k), back));
        CHECK(back == k);
    }
    for (OutputFormat f : {OutputFormat::Float32, OutputFormat::Int16}) {
        OutputFormat back{};
        REQUIRE(parse(to_string(f), back));
        CHECK(back == f);
    }
    CHECK(std::string(to_string(Mode::OnchipPrune)) == "onchip-prune");
    Mode m = Mode::Dense;
    CHECK_FALSE(parse("Sprint", m));
    CHECK_FALSE(parse("", m));
    CHECK(m == Mode::Dense);  // unchanged on failure
    OutputFormat f = OutputFormat::Int16;
    CHECK_FALSE(parse("float", f));
    CHECK(f == OutputFormat::Int16);
    CHECK(output_element_bytes(OutputFormat::Float32) == 4);
    CHECK(output_element_bytes(OutputFormat::Int16) == 2);
    // register encodings (JOB_CFG fields)
    CHECK(uint32_t(Mode::Sprint) == 0);
    CHECK(uint32_t(Mode::Dense) == 1);
    CHECK(uint32_t(Mode::OnchipPrune) == 2);
    CHECK(uint32_t(EmptyRowPolicy::Max) == 1);
    CHECK(uint32_t(SoftmaxKind::Float) == 1);
    CHECK(uint32_t(SoftmaxKind::Prob8) == 2);
    CHECK(uint32_t(OutputFormat::Int16) == 1);
}

// ---- statistics ---------------------------------------------------------------------------------

TEST_CASE("core/stats: to_json structure", "[core][stats]") {
    uint64_t reads = 3, writes = 0;
    double energy = 1.5;
    StatGroup top("sprint", "the IP");
    top.add("reads", &reads, "B", "bytes read");
    top.add("energy", &energy, "pJ", "total energy");
    StatGroup& xbar = top.group("xbar", "crossbar array");
    xbar.add("cell_writes", &writes, "cells", "ReRAM cell writes");
    xbar.add(
        "ratio", [&] { return nlohmann::json(double(reads) / 2.0); }, "", "computed");
    StatGroup& deep = xbar.group("tile0", "first tile");
    deep.add("evals", &reads, "", "evaluations");
    CHECK(&top.group("xbar", "ignored") == &xbar);  // same name: the same group

    StatGroup ext("dram", "memory model");
    uint64_t bursts = 9;
    ext.add("bursts", &bursts, "", "bursts served");
    top.attach(&ext);

    reads = 5;  // counters are read when the tree is written
    writes = 12;
    const nlohmann::json j = top.to_json();
    CHECK(top.name() == "sprint");
    CHECK(j["description"] == "the IP");
    CHECK(j["reads"]["value"] == 5);
    CHECK(j["reads"]["unit"] == "B");
    CHECK(j["reads"]["description"] == "bytes read");
    CHECK(j["energy"]["value"] == 1.5);
    CHECK(j["energy"]["unit"] == "pJ");
    CHECK(j["xbar"]["description"] == "crossbar array");
    CHECK(j["xbar"]["cell_writes"]["value"] == 12);
    CHECK(j["xbar"]["cell_writes"]["unit"] == "cells");
    CHECK(j["xbar"]["ratio"]["value"] == 2.5);
    CHECK(j["xbar"]["tile0"]["evals"]["value"] == 5);
    CHECK(j["xbar"]["tile0"]["description"] == "first tile");
    CHECK(j["dram"]["bursts"]["value"] == 9);
    CHECK(j["dram"]["description"] == "memory model");
    CHECK(j["reads"]["value"].is_number_unsigned());
    CHECK(j["energy"]["value"].is_number_float());
    // exactly: description + 2 stats + 2 groups
    CHECK(j.size() == 5);
    CHECK(j["xbar"].size() == 4);
    // valid JSON text
    CHECK(nlohmann::json::parse(j.dump()) == j);
}

TEST_CASE("core/stats: value() by dotted path", "[core][stats]") {
    uint64_t a = 1, b = 2, c = 3;
    StatGroup top("top", "");
    top.add("a", &a, "", "");
    StatGroup& g = top.group("g", "");
    g.add("b", &b, "", "");
    g.group("h", "").add("c", &c, "", "");
    StatGroup ext("ext", "");
    uint64_t x = 42;
    ext.add("x", &x, "", "");
    top.attach(&ext);

    CHECK(top.value("a") == 1);
    CHECK(top.value("g.b") == 2);
    CHECK(top.value("g.h.c") == 3);
    CHECK(top.value("ext.x") == 42);
    c = 30;
    CHECK(top.value("g.h.c") == 30);
    CHECK(g.value("h.c") == 30);
    // A path that names no statistic is an error, never a silent 0.
    for (const char* bad : {"missing", "g", "g.missing", "nogroup.b", "g.h.c.d", ""})
        CHECK_THROWS_AS(top.value(bad), std::out_of_range);
    CHECK_THROWS_WITH(top.value("g.missing"), Catch::Contains("missing") && Catch::Contains("'g'"));
    CHECK(top.count("g.h.c") == 30u);
}

TEST_CASE("core/stats: typed counters and durations belong to their group", "[core][stats]") {
    StatGroup g("block", "a block");
    Counter reads(g, "reads", "accesses", "read accesses");
    Duration busy(g, "busy_ns", "ns", "busy time");
    ++reads;
    reads += 4;
    busy += 2.5;
    Counter peak(g, "peak", "rows", "most rows at once");
    peak.record_max(3);
    peak.record_max(2);
    CHECK(g.count("reads") == 5u);
    CHECK(g.real("busy_ns") == 2.5);
    CHECK(g.count("peak") == 3u);
    CHECK_THROWS_AS(g.count("busy_ns"), std::out_of_range);  // not a count
    const nlohmann::json j = g.to_json();
    CHECK(j["reads"]["value"].is_number_unsigned());
    CHECK(j["busy_ns"]["value"].is_number_float());
    CHECK(j["reads"]["unit"] == "accesses");
}
