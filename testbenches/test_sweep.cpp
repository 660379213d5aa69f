// Unit tests of the sweep pieces that need no process: expressions (platforms/sweep/expr.h),
// spec parsing and expansion (spec.h), the in-process point check (runner.h), the figures read
// from a stats document (figures.h) and the database's resume and merge rules (db.h).
#include <sqlite3.h>
#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <catch2/catch.hpp>

#include "platforms/sweep/db.h"
#include "platforms/sweep/expr.h"
#include "platforms/sweep/figures.h"
#include "platforms/sweep/runner.h"
#include "platforms/sweep/spec.h"

using namespace sprint::sweep;

namespace {

std::optional<Value> eval(const std::string& text, const std::map<std::string, std::string>& vars) {
    return Expr(text).eval([&](const std::string& n) -> std::optional<Value> {
        auto it = vars.find(n);
        if (it == vars.end()) return std::nullopt;
        return Value::of(it->second);
    });
}

double num(const std::string& text, const std::map<std::string, std::string>& vars = {}) {
    const auto v = eval(text, vars);
    REQUIRE(v);
    REQUIRE(v->number);
    return *v->number;
}

Spec spec_of(const std::string& yaml) {
    return parse_spec(yaml, "test.yaml", "/data");
}

// What parse_spec refuses `yaml` with ("" when it takes it).
std::string spec_error(const std::string& yaml) {
    try {
        spec_of(yaml);
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

std::string values_of(const Axis& a) {
    std::string s;
    for (const auto& v : a.values) s += (s.empty() ? "" : " ") + v;
    return s;
}

}  // namespace

TEST_CASE("sweep/expr: precedence, comparisons, text, names with dashes and dots", "[sweep]") {
    CHECK(num("1 + 2 * 3") == 7);
    CHECK(num("(1 + 2) * 3") == 9);
    CHECK(num("-2 * -3") == 6);
    CHECK(num("7 % 4 + 10 / 4") == 5.5);
    CHECK(num("1 < 2 and 2 < 3") == 1);
    CHECK(num("1 > 2 or not 2 > 3") == 1);
    CHECK(num("not 1 == 2") == 1);  // not (1 == 2)
    CHECK(num("true and false") == 0);
    const std::map<std::string, std::string> v = {
        {"keep-fraction", "0.25"}, {"sprint.sram.k_bytes", "4096"}, {"dram.preset", "hbm2"}};
    CHECK(num("keep-fraction * 4", v) == 1);
    CHECK(num("sprint.sram.k_bytes >= 2 * 1024", v) == 1);
    CHECK(num("dram.preset == 'hbm2'", v) == 1);
    CHECK(num("dram.preset != \"hbm2\"", v) == 0);
    CHECK(num("sprint.sram.k_bytes == 4096.0", v) == 1);  // numbers compare as numbers
    CHECK(num("'10' > '9'") == 0);                        // 'quoted' is text, compared as text
    CHECK(num("'abc' < 'abd'") == 1);                     // text compares as text
    CHECK(Expr("a - b > c-d").names() == std::vector<std::string>{"a", "b", "c-d"});
    // A name without a value makes the result unknown, not false by accident.
    CHECK_FALSE(eval("mass_retained >= 0.9", {}));
    CHECK_FALSE(eval("not (mass_retained >= 0.9)", {}));
    // ... unless the other side of and/or decides it.
    CHECK(eval("1 == 2 and mass_retained >= 0.9", {})->number == 0);
    CHECK(eval("1 == 1 or mass_retained >= 0.9", {})->number == 1);
}

TEST_CASE("sweep/expr: syntax and type errors name the position", "[sweep]") {
    auto message = [](const std::string& text) {
        try {
            Expr e(text);
            e.eval([](const std::string&) { return Value::of(std::string("x")); });
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    CHECK(message("a >") ==
          "expression 'a >': expected a number, a 'string', a name or '(' at "
          "position 4 (the end)");
    CHECK(message("(a") == "expression '(a': expected ')' at position 3 (the end)");
    CHECK(message("a < b < c") ==
          "expression 'a < b < c': expected 'and' or 'or' between comparisons at position 7 ('<')");
    CHECK(message("a $ b") == "expression 'a $ b': unexpected character '$' at position 3");
    CHECK(message("'open") == "expression ''open': unterminated string at position 1");
    CHECK(message("a + 1") == "expression 'a + 1': '+' needs numbers, got the text 'x'");
    CHECK(message("1 / 0") == "expression '1 / 0': division by zero");
}

TEST_CASE("sweep/expr: nesting beyond kMaxExprDepth is refused with the limit and position",
          "[sweep]") {
    auto message = [](const std::string& text) {
        try {
            (void)Expr(text);
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    auto repeat = [](const std::string& s, std::size_t n) {
        std::string out;
        for (std::size_t i = 0; i < n; ++i) out += s;
        return out;
    };
    const std::size_t max = kMaxExprDepth;
    const std::string limit =
        ": nested deeper than the limit of " + std::to_string(max) + " levels at position ";
    // The fuzzing pass's inputs (a stack overflow before): quoted by their start and length.
    const std::string parens = repeat("(", 20000) + "1" + repeat(")", 20000);
    CHECK(message(parens) == "expression '" + repeat("(", 80) + "...' (40001 characters)" + limit +
                                 std::to_string(max + 1) + " ('(')");
    const std::string nots = repeat("not ", 20000) + "1";
    CHECK(message(nots) == "expression '" + nots.substr(0, 80) + "...' (80001 characters)" + limit +
                               std::to_string(4 * max + 1) + " ('not')");
    CHECK(message(repeat("-", 20000) + "1").find(limit + std::to_string(max + 1) + " ('-')") !=
          std::string::npos);
    CHECK(message(repeat("! ", 20000) + "1").find(limit + std::to_string(2 * max + 1) + " ('!')") !=
          std::string::npos);
    // A chain parses in a loop but builds a tree as deep as it is long; the evaluator and the
    // tree's destructor recurse down it, so it has the same bound (at its operator).
    CHECK(
        message("1" + repeat(" + 1", 20000)).find(limit + std::to_string(4 * max + 3) + " ('+')") !=
        std::string::npos);
    CHECK(message(repeat("(", max) + "1" + repeat(")", max + 1)) ==
          "expression '" + repeat("(", 80) + "...' (" + std::to_string(2 * max + 2) +
              " characters): expected an operator at position " + std::to_string(2 * max + 2) +
              " (')')");
    // At the limit everything parses and evaluates.
    CHECK(num(repeat("(", max) + "1" + repeat(")", max)) == 1);
    CHECK(num(repeat("not ", max) + "1") == 1);
    CHECK(num(repeat("-", max) + "3") == 3);
    CHECK(num("1" + repeat(" + 1", max)) == double(max + 1));
    CHECK(num(repeat("not (", max / 2) + "1" + repeat(")", max / 2)) == 1);
    CHECK(num(repeat("-(", max / 2) + "2" + repeat(")", max / 2)) == 2);
}

TEST_CASE("sweep/spec: lists, stepped, counted and log ranges, linked options", "[sweep]") {
    const Spec s = spec_of(R"(
name: t
base: {heads: 2, --seq-len: 64, q: in/q.npy}
axes:
  keep-fraction: {from: 0.1, to: 0.3, step: 0.1}
  sprint.sram.k_bytes, sprint.sram.v_bytes: [1024, 4096]
  sprint.fetcher.max_outstanding: {from: 1, to: 64, num: 4, scale: log, type: int}
  sharpness: {from: 1, to: 2, num: 3}
  dram.preset: hbm2
)");
    REQUIRE(s.axes.size() == 5);
    CHECK(values_of(s.axes[0]) == "0.1 0.2 0.3");  // no 0.30000000000000004
    CHECK(s.axes[1].params ==
          std::vector<std::string>{"sprint.sram.k_bytes", "sprint.sram.v_bytes"});
    CHECK(values_of(s.axes[2]) == "1 4 16 64");
    CHECK(values_of(s.axes[3]) == "1 1.5 2");
    CHECK(values_of(s.axes[4]) == "hbm2");
    // The leading dashes go; file names are taken relative to the spec's directory.
    CHECK(s.base == Options{{"heads", "2"}, {"seq-len", "64"}, {"q", "/data/in/q.npy"}});

    const std::vector<Point> pts = expand(s);
    REQUIRE(pts.size() == 3 * 2 * 4 * 3);
    // The last axis varies fastest; a linked axis sets both options; base options stay.
    CHECK(pts[0].axis_values[0].second == "0.1");
    CHECK(pts[1].axis_values[3].second == "1.5");
    CHECK(pts.back().axis_values[0].second == "0.3");
    const Options& o = pts[5].options;
    auto get = [&](const std::string& n) {
        for (const auto& [k, v] : o)
            if (k == n) return v;
        return std::string("?");
    };
    CHECK(get("sprint.sram.k_bytes") == get("sprint.sram.v_bytes"));
    CHECK(get("heads") == "2");
    std::set<std::string> keys;
    for (const auto& p : pts) keys.insert(p.key);
    CHECK(keys.size() == pts.size());
    CHECK(pts[7].index == 7);
}

TEST_CASE("sweep/spec: workloads, random and Latin-hypercube sampling are seeded", "[sweep]") {
    const std::string yaml = R"(
name: t
workloads:
  a: {heads: 1}
  b: {heads: 2}
axes:
  keep-fraction: {from: 0.01, to: 1, scale: log}
  sprint.units: [1, 2, 4, 8]
sampling: lhs
samples: 8
seed: 3
)";
    const std::vector<Point> p1 = expand(spec_of(yaml)), p2 = expand(spec_of(yaml));
    REQUIRE(p1.size() == 16);
    for (std::size_t i = 0; i < p1.size(); ++i) CHECK(p1[i].key == p2[i].key);
    // LHS: each of the 8 strata (of the log range) once per workload; each of the 4 units
    // values twice.
    std::map<std::string, int> units;
    std::set<int> strata;
    for (std::size_t i = 0; i < 8; ++i) {
        const double kf = std::stod(p1[i].axis_values[0].second);
        const double u = std::log(kf / 0.01) / std::log(100.0);
        strata.insert(int(u * 8));
        units[p1[i].axis_values[1].second]++;
    }
    CHECK(strata.size() == 8);
    CHECK(units == std::map<std::string, int>{{"1", 2}, {"2", 2}, {"4", 2}, {"8", 2}});
    // Another seed gives other points.
    std::string other = yaml;
    other.replace(other.find("seed: 3"), 7, "seed: 4");
    CHECK(expand(spec_of(other))[0].key != p1[0].key);
    // Random sampling of a discrete axis drops repeated draws.
    const std::vector<Point> r =
        expand(spec_of("name: r\naxes:\n  sprint.units: [1, 2]\nsampling: random\nsamples: 50\n"));
    CHECK(r.size() == 2);
}

TEST_CASE("sweep/spec: mistakes are refused with the file, line and reason", "[sweep]") {
    const auto message = spec_error;
    CHECK(message("axes: {}\n") == "test.yaml:1: the spec needs a name");
    CHECK(message("name: x\nnaxes: {}\n") ==
          "test.yaml:2: unknown key 'naxes' (name, description, workloads, base, axes, sampling, "
          "samples, seed, constraints)");
    CHECK(message("name: x\naxes:\n  seq-len: {from: 4, to: 1, step: 1}\n") ==
          "test.yaml:3: axis 'seq-len': to is below from");
    CHECK(message("name: x\naxes:\n  seq-len: {from: 1, to: 4}\n") ==
          "test.yaml:3: axis 'seq-len': grid sampling needs step or num on a range");
    CHECK(message("name: x\naxes:\n  a: [1]\n  b, a: [2]\n") ==
          "test.yaml:4: option 'a' is swept twice");
    CHECK(message("name: x\nsampling: lhs\n") == "test.yaml:1: lhs sampling needs samples: N");
    CHECK(message("name: x\nseed: -1\n") ==
          "test.yaml:2: seed must be a whole number from 0 to 2^53");
    CHECK(message("name: x\naxes:\n  vcd: [a.vcd]\n") ==
          "test.yaml:3: option 'vcd' is set by the sweep itself and cannot be swept");
    CHECK(message("name: x\naxes:\n  seq-len: {from: 1, to: x, step: 1}\n") ==
          "test.yaml:3: axis 'seq-len': to must be a number, not 'x'");
    CHECK(message("name: x\nconstraints: ['a >']\n") ==
          "test.yaml:2: expression 'a >': expected a number, a 'string', a name or '(' at "
          "position 4 (the end)");
    // An axis without an option name crashed expand (found when the spec parser was split).
    CHECK(message("name: x\naxes:\n  \"\": [1]\n") ==
          "test.yaml:3: an axis needs the name of the option it sweeps, not ''");
    CHECK(message("name: x\naxes:\n  \"--\": [1]\n") ==
          "test.yaml:3: axis '--' has an empty name in it");
    CHECK(message("name: x\naxes:\n  \" , \": [1]\n") ==
          "test.yaml:3: axis ' , ' has an empty name in it");
}

TEST_CASE(
    "sweep/spec: beyond kMaxPoints points or values, or kMaxExpansionBytes, a spec is refused",
    "[sweep]") {
    const auto message = spec_error;
    auto list = [](int n) {
        std::string s = "[";
        for (int i = 1; i <= n; ++i) s += (i > 1 ? ", " : "") + std::to_string(i);
        return s + "]";
    };
    const std::string max = std::to_string(kMaxPoints);
    const std::string advice =
        ", more than the " + max +
        " a sweep may have: split it into several specs, or sample it (sampling: random or lhs "
        "with samples: N)";
    // Three axes of 1,000 values (a billion points) ended in std::bad_alloc after 30 s.
    CHECK(message("name: x\naxes:\n  seq-len: " + list(1000) + "\n  heads: " + list(1000) +
                  "\n  head-dim: " + list(1000) + "\n") ==
          "test.yaml:3: the spec expands to 1000000000 points (1 workload x 1000 x 1000 x 1000 "
          "axis values)" +
              advice);
    CHECK(message("name: x\nworkloads: {a: {}, b: {}}\naxes:\n  seq-len: {from: 1, to: 1000, "
                  "step: 1}\n  heads: {from: 1, to: 1000, num: 1000}\n") ==
          "test.yaml:4: the spec expands to 2000000 points (2 workloads x 1000 x 1000 axis "
          "values)" +
              advice);
    // Thirty axes of 10 values: 10^30 points, more than 64 bits count.
    std::string wide = "name: x\naxes:\n";
    for (int a = 0; a < 30; ++a) wide += "  o" + std::to_string(a) + ": " + list(10) + "\n";
    CHECK(message(wide).find("expands to more than 1.8e19 points (1 workload x 10 x 10 x 10 x 10 "
                             "x 10 x 10 x 10 x 10 x ... axis values)") != std::string::npos);
    // A range's values are counted before any is made: a step of 1e-9 would make a billion.
    CHECK(message("name: x\naxes:\n  keep-fraction: {from: 0, to: 1, step: 1e-9}\n") ==
          "test.yaml:3: axis 'keep-fraction': 1000000001 values, more than the " + max +
              " a spec's axes may hold together");
    CHECK(message("name: x\naxes:\n  keep-fraction: {from: -1e308, to: 1e308, step: 1}\n") ==
          "test.yaml:3: axis 'keep-fraction': more than 1e308 values, more than the " + max +
              " a spec's axes may hold together");
    CHECK(message("name: x\nsampling: lhs\naxes:\n  a: {from: 0, to: 1, num: 1e9}\n"
                  "samples: 4\n") == "test.yaml:4: axis 'a': 1000000000 values, more than the " +
                                         max + " a spec's axes may hold together");
    // The values of all axes together are bounded as well (so random sampling over many long
    // axes cannot exhaust memory either); whole numbers here, which are quick to make.
    CHECK(message("name: x\nsampling: random\nsamples: 1\naxes:\n  a: {from: 1, to: 600000, "
                  "step: 1, type: int}\n  b: {from: 1, to: 5e5, num: 5e5, type: int}\n") ==
          "test.yaml:6: axis 'b': 500000 values (and 600000 on the axes before it), more than "
          "the " +
              max + " a spec's axes may hold together");
    // Random and Latin-hypercube sampling: samples per workload, times the workloads.
    CHECK(message("name: x\nsampling: random\nsamples: 1e7\n") ==
          "test.yaml:3: samples must be a whole number from 1 to " + max);
    CHECK(message("name: x\nworkloads: {a: {}, b: {}}\nsampling: lhs\nsamples: 600000\n") ==
          "test.yaml:4: the spec expands to 1200000 points (2 workloads x 600000 samples)" +
              advice);
    // So does the memory the points would take: here 150 linked options of 1,000 characters.
    std::string linked = "o0", long_values = "[";
    for (int o = 1; o < 150; ++o) linked += ", o" + std::to_string(o);
    for (int v = 0; v < 10; ++v)
        long_values += (v ? ", v" : "v") + std::to_string(v) + std::string(999, 'x');
    long_values += "]";
    const std::string too_big = message(
        "name: x\naxes:\n  seq-len: {from: 1, to: 1000, step: 1, "
        "type: int}\n  " +
        linked + ": " + long_values + "\n");
    CHECK(too_big ==
          "test.yaml:3: expanding the spec's 10000 points would take about 4458 MB of memory (up "
          "to 151 options and 150649 bytes of option text a point), more than the 2048 MB a sweep "
          "may take: split it, or make its values shorter");
    const std::vector<Point> few = expand(
        spec_of("name: x\nbase: {heads: 1, seq-len: 64}\nworkloads: {w: {seq-len: 128, sinks: "
                "1}}\naxes:\n  " +
                linked + ", heads: [1, 2]\n"));
    REQUIRE(few.size() == 2);
    // An axis's option keeps the place the base gave it and takes the axis's value.
    CHECK(few[1].options.size() == 153);
    CHECK(few[1].options[0] == std::pair<std::string, std::string>{"heads", "2"});
    CHECK(few[1].options[1] == std::pair<std::string, std::string>{"seq-len", "128"});
    CHECK(few[1].options[2] == std::pair<std::string, std::string>{"sinks", "1"});
    CHECK(few[1].options[152] == std::pair<std::string, std::string>{"o149", "2"});
    // At the limit a spec is taken (counted here, not expanded: a million points take seconds).
    const Spec at_limit = spec_of("name: x\naxes:\n  seq-len: " + list(100) +
                                  "\n  heads: " + list(100) + "\n  head-dim: " + list(100) + "\n");
    CHECK(point_count(at_limit) == kMaxPoints);
    CHECK(expansion_bytes(at_limit) < kMaxExpansionBytes);
    // expand() counts too, for a spec built in code.
    Spec grown = at_limit;
    grown.axes.push_back(grown.axes.back());
    grown.axes.back().name = grown.axes.back().params[0] = "sinks";
    CHECK(point_count(grown) == 100 * kMaxPoints);
    CHECK_THROWS_WITH(expand(grown),
                      "sweep 'x': the spec expands to 100000000 points (1 workload "
                      "x 100 x 100 x 100 x 100 axis values)" +
                          advice);
}

TEST_CASE("sweep/check: sprint-sim's parser, the constraints and the fit check decide a point",
          "[sweep]") {
    const Spec s = spec_of(R"(
name: t
base: {heads: 1, seq-len: 64}
axes:
  dram.size_mb: [1, 1024]
  sprint.sram.k_bytes: [8, 4096]
constraints:
  - sprint.sram.k_bytes * 4 >= sprint.sram.v_bytes or dram.size_mb == 1
)");
    check_names(s);
    const std::vector<Point> p = expand(s);
    REQUIRE(p.size() == 4);
    const Checked a = check_point(s, p[0]), b = check_point(s, p[3]);
    CHECK(a.status == kFailed);  // k_bytes 8: sprint-sim's own range check
    CHECK(a.message.find("parameter 'sprint.sram.k_bytes': value '8' is not allowed") == 0);
    CHECK(b.status.empty());
    CHECK(b.config.find("k_bytes = 4096") != std::string::npos);
    const Checked c = check_point(s, p[1]);  // 1 MiB, 4096 B: passes the constraint; fits
    CHECK(c.status.empty());
    const Spec tight = spec_of(R"(
name: t
base: {heads: 64, seq-len: 2048}
axes:
  dram.size_mb: [1]
  keep-fraction: [0.1]
constraints: ["keep-fraction < 0.5"]
)");
    const Checked d = check_point(tight, expand(tight)[0]);
    CHECK(d.status == kDoesNotFit);
    CHECK(d.message.find("MiB of memory but dram.size_mb is 1") != std::string::npos);
    const Spec odd = spec_of("name: t\nconstraints: ['keep-fraction > 0.5']\n");
    const Checked e = check_point(odd, expand(odd)[0]);
    CHECK(e.status == kDoesNotFit);
    CHECK(e.message == "constraint 'keep-fraction > 0.5' is false");
    CHECK_THROWS_WITH(check_names(spec_of("name: t\nconstraints: ['nosuch > 1']\n")),
                      "constraint 'nosuch > 1': sprint-sim has no option or parameter 'nosuch'; "
                      "sprint-sim --help lists them");
}

TEST_CASE("sweep/figures: read from a stats document, the baseline gives speed-up", "[sweep]") {
    const nlohmann::json stats = nlohmann::json::parse(R"({
      "jobs": [
        {"mode": "sprint", "cycles": {"value": 100, "unit": "cycles"},
         "energy": {"total": {"value": 2.0}, "per_block": {"dram": {"value": 1.5}}},
         "mem_read_bytes": {"value": 300}, "mem_write_bytes": {"value": 100},
         "fidelity": {"overall": {"attention_mass_retained": {"value": 0.9},
                                  "output_relative_l2_vs_dense_float": {"value": null}}},
         "bounds": {"limit": "datapath", "datapath": {"value": 80}},
         "bit_exact_vs_core": {"value": true}},
        {"mode": "dense", "cycles": {"value": 400}, "energy": {"total": {"value": 5.0}},
         "mem_read_bytes": {"value": 1500}, "mem_write_bytes": {"value": 100}}
      ],
      "wall_seconds": {"value": 0.5}
    })");
    std::map<std::string, Figure> f;
    for (const auto& x : extract_figures(stats)) f[x.name] = x;
    CHECK(f.at("cycles").value == 100);
    CHECK(f.at("energy_dram_uj").value == 1.5);
    CHECK(f.at("mass_retained").value == 0.9);
    CHECK_FALSE(f.at("output_error").value);  // skipped checks stay unknown, not 0
    CHECK(f.at("bound_limit").text == "datapath");
    CHECK(f.at("bound_datapath").value == 80);
    CHECK(f.at("bit_exact").value == 1);
    CHECK(f.at("speedup").value == 4);
    CHECK(f.at("energy_saving").value == 2.5);
    CHECK(f.at("traffic_saving").value == 4);
    CHECK(f.at("sim_wall_seconds").value == 0.5);
    for (const auto& i : figure_infos()) CHECK(f.count(i.name) == 1);
    CHECK(figure_name("mass") == "mass_retained");
    CHECK_THROWS(extract_figures(nlohmann::json::object()));
}

TEST_CASE("sweep/db: pending points, one transaction per result, merge by key", "[sweep]") {
    const std::string dir =
        std::filesystem::temp_directory_path() / ("sprint-sweep-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    const Spec s = spec_of("name: t\naxes:\n  keep-fraction: [0.1, 0.2, 0.3]\n");
    const std::vector<Point> pts = expand(s);
    {
        Database a(dir + "/a.db"), b(dir + "/b.db");
        a.bind(s);
        b.bind(s);
        a.add_points(pts);
        a.add_points(pts);  // again: nothing doubles
        b.add_points(pts);
        CHECK(a.statuses().size() == 3);
        PointResult ok{kOk, "", "cfg", "0.1.0", "abc", "h", 1.0, {{"cycles", 10.0, ""}}, "{}"};
        PointResult bad{kFailed, "boom", "cfg", "0.1.0", "abc", "h", 1.0, {}, "{}"};
        a.record(pts[0].key, ok);
        a.record(pts[1].key, bad);
        b.record(pts[1].key, ok);
        b.record(pts[2].key, bad);
        // a's failure is replaced by b's ok; b's failure fills a's pending point; a's ok stays.
        CHECK(a.merge_from(dir + "/b.db") == 2);
        auto st = a.statuses();
        CHECK(st[pts[0].key] == kOk);
        CHECK(st[pts[1].key] == kOk);
        CHECK(st[pts[2].key] == kFailed);
        const std::vector<Row> rows = a.rows();
        REQUIRE(rows.size() == 3);
        CHECK(rows[1].figures.at("cycles").value == 10.0);
        CHECK(rows[0].id == 0);
        CHECK(a.merge_from(dir + "/b.db") == 0);
        // An edited spec of the same sweep is taken (its points are matched by key); the spec
        // it replaced is kept; a sweep of another name is refused.
        CHECK_FALSE(a.bind(s));
        const Spec grown = spec_of("name: t\naxes:\n  keep-fraction: [0.1, 0.2, 0.3, 0.5]\n");
        CHECK(a.bind(grown));
        CHECK(a.meta("spec_text") == grown.text);
        CHECK(nlohmann::json::parse(*a.meta("spec_history")).at(0).at("text") == s.text);
        const std::vector<Point> more = expand(grown);
        a.add_points(more);
        const std::vector<Row> after = a.rows();
        REQUIRE(after.size() == 4);
        CHECK(after[3].id == 3);
        CHECK(after[3].status == kPending);
        CHECK(a.statuses()[pts[0].key] == kOk);  // the finished points stay as they were
        const Spec other = spec_of("name: u\naxes:\n  keep-fraction: [0.5]\n");
        CHECK_THROWS_WITH(a.bind(other), Catch::Contains("holds sweep 't', not 'u'"));
        CHECK_THROWS_WITH(a.merge_from(dir + "/none.db"), Catch::Contains("does not exist"));
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("sweep/progress: the time left weighs each waiting point by its workload's cost",
          "[sweep]") {
    // bert points took 2 s each, gpt2 points 14 s: ten gpt2 points left on 2 workers are 70 s,
    // not the 15 s that the mean of all 11 points (about 3.1 s each) would give.
    const std::map<std::string, std::pair<double, std::size_t>> cost = {{"bert", {20.0, 10}},
                                                                        {"gpt2", {14.0, 1}}};
    CHECK(estimate_seconds_left(cost, std::vector<std::string>(10, "gpt2"), {}, 2) == Approx(70.0));
    // A workload not timed yet costs the mean of all timed points (34 s / 11).
    CHECK(estimate_seconds_left(cost, {"new"}, {}, 4) == Approx(34.0 / 11.0));
    // A running point counts what it has left, never less than nothing.
    CHECK(estimate_seconds_left(cost, {}, {{"gpt2", 4.0}, {"bert", 5.0}}, 2) == Approx(5.0));
    CHECK(estimate_seconds_left({}, {"bert"}, {}, 2) == -1);
}

TEST_CASE("sweep/db: a database keyed by options is re-keyed by settings, equal points merged",
          "[sweep]") {
    const std::string dir = std::filesystem::temp_directory_path() /
                            ("sprint-sweep-upgrade-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    // timing: lt is the default, so the two points of this spec have the same settings.
    const Spec s = spec_of("name: t\naxes:\n  timing: [lt]\n  keep-fraction: [0.1, 0.2]\n");
    const Spec plain = spec_of("name: t\naxes:\n  keep-fraction: [0.1]\n");
    {
        Database db(dir + "/old.db");
        db.bind(s);
        std::vector<Point> pts = expand(s);
        Point same = expand(plain)[0];  // keep-fraction 0.1 without timing: another options key
        same.index = 2;
        pts.push_back(same);
        db.add_points(pts);  // keys: the options, as before settings keyed points
        PointResult ok{kOk, "", "cfg", "0.1.0", "abc", "h", 1.0, {{"cycles", 10.0, ""}}, "{}"};
        db.record(pts[0].key, ok);
        REQUIRE(db.statuses().size() == 3);
    }
    {
        // Made "old": no identity in meta.
        sqlite3* raw = nullptr;
        REQUIRE(sqlite3_open((dir + "/old.db").c_str(), &raw) == SQLITE_OK);
        REQUIRE(sqlite3_exec(raw, "DELETE FROM meta WHERE key = 'identity'", nullptr, nullptr,
                             nullptr) == SQLITE_OK);
        sqlite3_close(raw);
        Database db(dir + "/old.db");
        db.upgrade_keys(settings_key);
        const auto st = db.statuses();
        REQUIRE(st.size() == 2);  // the two keep-fraction 0.1 points are one
        Point p = expand(plain)[0];
        CHECK(st.at(settings_key(p.options)) == kOk);  // the finished one kept
        CHECK(db.meta("identity") == std::optional<std::string>("settings"));
        db.upgrade_keys(settings_key);  // a second time: nothing to do
        CHECK(db.statuses().size() == 2);
    }
    std::filesystem::remove_all(dir);
}
