// sprint-sim as a user meets it: the tool runs as a subprocess in a private temporary directory;
// the tests check its exit status (0 ok, 1 job problem, 2 bad input before simulating), what it
// says on stdout and stderr, and the files it writes (.npy, JSON, VCD, INI). No SystemC module is
// built in this process. Workloads are small (2 heads x 96 tokens) except one default run.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_checks.h"
#include "core/energy.h"
#include "core/workload.h"
#include "platforms/sim/cli.h"
#include "platforms/sim/npy_io.h"
#include "platforms/sim/simulator.h"
#include "platforms/sim/version.h"
#include "tlm_interfaces/register_map.h"

using namespace sprint;
using namespace sprint::test;
using Catch::Matchers::Contains;

namespace {

// The line of stdout that starts with `prefix` ("memory:", "IP (", "sprint-sim:").
std::string line_starting(const std::string& out, const std::string& prefix) {
    for (const auto& l : split_lines(out))
        if (l.rfind(prefix, 0) == 0) return l;
    return "";
}

// A successful run with --stats: the document, and the run's output in `r` when given.
nlohmann::json run_stats(const TempDir& dir, std::vector<std::string> args,
                         RunResult* r = nullptr) {
    const std::string f = dir.file("run_stats.json");
    args.insert(args.end(), {"--stats", f});
    run_ok(dir, args, r);
    return nlohmann::json::parse(read_text(f));
}

struct QkvFiles {
    std::string q, k, v;
};

core::Workload synthetic(int heads, int n, int d, uint64_t seed = 1) {
    core::SyntheticSpec s;  // the CLI's defaults: locality 0.9, sharpness 2.5
    s.heads = heads;
    s.n = n;
    s.d = d;
    s.seed = seed;
    return core::generate_synthetic(s);
}

QkvFiles write_qkv(const TempDir& dir, const std::string& prefix, const core::Workload& w) {
    QkvFiles f{dir.file(prefix + "q.npy"), dir.file(prefix + "k.npy"), dir.file(prefix + "v.npy")};
    platform::save_tensor_npy(f.q, w.q);
    platform::save_tensor_npy(f.k, w.k);
    platform::save_tensor_npy(f.v, w.v);
    return f;
}

std::vector<std::string> qkv_args(const QkvFiles& f, std::vector<std::string> more = {}) {
    std::vector<std::string> a{"--q", f.q, "--k", f.k, "--v", f.v};
    a.insert(a.end(), more.begin(), more.end());
    return a;
}

}  // namespace

// ---- --help
// --------------------------------------------------------------------------------------

TEST_CASE("cli/help: lists every run option and model parameter with its default and unit",
          "[cli]") {
    TempDir dir;
    const RunResult r = run_sim(dir, {"--help"});
    SHOW(r);
    REQUIRE(r.exit_code == kOk);
    CHECK(r.err.empty());
    CHECK_FALSE(parse_summary(r.out).found());
    const auto blocks = help_blocks(r.out);

    // Run options, written out here so that a renamed option or a changed default shows up.
    struct Opt {
        const char *name, *unit, *default_value, *allowed;
    };
    const Opt run_options[] = {
        {"help", "", "false", "true or false"},
        {"config", "file", "", ""},
        {"dump-config", "file", "", ""},
        {"dump-regmap", "", "false", "true or false"},
        {"verbosity", "", "low", "none|low|medium|high|full|debug"},
        {"heads", "heads", "12", "integer 1 to"},
        {"seq-len", "tokens", "512", "integer 1 to"},
        {"head-dim", "elements", "64", "integer 1 to"},
        {"valid-len", "tokens", "0", "integer 0 to"},
        {"locality", "", "0.9", "number 0 to"},
        {"sharpness", "logit std-dev", "2.5", "number"},
        {"seed", "", "1", "integer 0 to"},
        {"q", "file", "", ""},
        {"k", "file", "", ""},
        {"v", "file", "", ""},
        {"keep-fraction", "fraction", "0.1", "number"},
        {"threshold", "logit", "", "comma"},
        {"mode", "", "sprint", "sprint|dense|onchip-prune|dense-stream"},
        {"keep-mass", "share", "0.9", ""},
        {"calibrate-on", "", "ideal", "ideal|hardware"},
        {"calibrate-queries", "queries", "0", ""},
        {"causal", "", "false", "true or false"},
        {"softmax", "", "fixed", "fixed|prob8|float"},
        {"output-format", "", "int16", "float32|int16"},
        {"empty-row", "", "self", "self|max"},
        {"timing", "", "lt", "lt"},
        {"compare", "", "true", "true|false|all"},
        {"stats", "file", "", ""},
        {"output", "file", "", ""},
        {"vcd", "file", "", ""},
    };
    for (const Opt& o : run_options) {
        INFO("option --" << o.name);
        const auto it = blocks.find(o.name);
        REQUIRE(it != blocks.end());
        const std::string& b = it->second;
        CHECK_THAT(b, Contains("--" + std::string(o.name)));
        if (*o.unit) CHECK_THAT(b, Contains("[" + std::string(o.unit) + "]"));
        if (*o.default_value) CHECK_THAT(b, Contains("default " + std::string(o.default_value)));
        if (*o.allowed) CHECK_THAT(b, Contains(o.allowed));
    }
    CHECK_THAT(r.out, Contains("-h [ --help ]"));

    // Model parameters, from the registry the tool itself uses.
    platform::Arguments args;
    const auto entries = args.registry.entries();
    REQUIRE(entries.size() > 20);
    for (const auto* e : entries) {
        INFO("parameter " << e->name << " (unit '" << e->unit << "', default '" << e->default_value
                          << "')");
        const auto it = blocks.find(e->name);
        REQUIRE(it != blocks.end());
        const std::string& b = it->second;
        CHECK_FALSE(e->default_value.empty());
        CHECK_THAT(b, Contains("default " + e->default_value));
        if (!e->unit.empty()) CHECK_THAT(b, Contains("[" + e->unit + "]"));
        CHECK_THAT(b, Contains(squash_spaces(e->allowed)));
        CHECK_THAT(b, Contains(squash_spaces(e->description)));
    }
    // Units of a few well-known parameters, in case the registry lost them.
    CHECK_THAT(blocks.at("sprint.sram.k_bytes"), Contains("[B]"));
    CHECK_THAT(blocks.at("dram.bandwidth_gbps"), Contains("[GB/s]"));
    CHECK_THAT(blocks.at("dram.latency_ns"), Contains("[ns]"));
    CHECK_THAT(blocks.at("sprint.xbar.evaluate_cycles"), Contains("[cycles]"));
}

// ---- the default run
// -----------------------------------------------------------------------------

TEST_CASE("cli/run: the default run prints sprint and dense side by side", "[cli]") {
    TempDir dir;
    RunResult r;
    const SummaryTable t = run_ok(dir, {}, &r);
    CHECK(r.err.empty());
    CHECK_THAT(line_starting(r.out, "sprint-sim:"), Contains("12 heads x N=512 x d=64"));
    REQUIRE(t.columns == std::vector<std::string>{"sprint", "dense"});
    for (const char* row :
         {"cycles", "memory read", "memory written", "keep fraction",
          "K rows fetched / visible pairs", "new kept keys per query (paper)",
          "attention mass retained", "error vs dense float", "bit-exact vs core reference"}) {
        INFO("row " << row);
        CHECK(t.has_row(row));
    }
    CHECK(t.row("bit-exact vs core reference") == std::vector<std::string>{"yes", "yes"});
    const auto cycles = t.row("cycles");
    CHECK(parse_grouped(cycles[0]) > 0);
    CHECK(parse_grouped(cycles[1]) > 0);
    // The dense baseline keeps every pair; SPRINT's kept keys hold the default 90% of the mass
    // (calibrated on every query: at least the target, within a point).
    CHECK(std::stod(t.row("keep fraction")[1]) == Approx(1.0));
    CHECK(std::stod(t.row("keep fraction")[0]) < 0.5);
    CHECK(std::stod(t.row("attention mass retained")[0]) >= 0.9);
    CHECK(std::stod(t.row("attention mass retained")[0]) < 0.91);
    CHECK(std::stod(t.row("attention mass retained")[1]) == Approx(1.0));
    CHECK_THAT(r.out, Contains("sprint vs dense: speed-up"));
}

TEST_CASE("cli/dense: the online softmax runs past the score buffer, bit-exact in LT and AT",
          "[cli]") {
    // 1,024 keys through a 512-entry score buffer: tiles of 64 keys, 8 contexts of one tile each.
    TempDir dir;
    const std::vector<std::string> base = {
        "--heads", "1",     "--seq-len",       "1024",
        "--mode",  "dense", "--compare=false", "--sprint.datapath.score_entries",
        "512"};
    auto job = [&](std::vector<std::string> more, const std::string& out) {
        auto a = base;
        a.insert(a.end(), more.begin(), more.end());
        a.insert(a.end(), {"--output", dir.file(out)});
        return run_stats(dir, a)["jobs"][0];
    };
    const auto lt = job({}, "lt.npy"), at = job({"--timing", "at"}, "at.npy");
    for (const auto& j : {lt, at}) {
        CHECK(j["bit_exact_vs_core"]["value"].get<bool>());
        const auto& dp = j["model"]["unit_0"]["datapath"];
        // every key weighed once; the running maximum rose and rescaled (d + 1 MACs each)
        CHECK(dp["exp_ops"]["value"].get<double>() == 1024.0 * 1024.0);
        const double rescale = dp["rescale_macs"]["value"].get<double>();
        CHECK(rescale > 0);
        CHECK(std::fmod(rescale, 65.0) == 0.0);
        CHECK(dp["score_peak"]["value"].get<double>() <= 512);
        CHECK(j["fidelity"]["overall"]["output_relative_l2_vs_dense_float"]["value"].get<double>() <
              0.05);
    }
    CHECK(read_text(dir.file("lt.npy")) == read_text(dir.file("at.npy")));
    // a tile larger than the score buffer is refused, naming both
    auto big = base;
    big.insert(big.end(), {"--sprint.datapath.softmax_tile", "1024"});
    check_bad_input(dir, big, {"sprint.datapath.softmax_tile", "sprint.datapath.score_entries"});
}

TEST_CASE("cli/run: --compare=false runs one job and --mode selects the column", "[cli]") {
    TempDir dir;
    SECTION("--compare=false") {
        const SummaryTable t = run_ok(dir, small({"--compare=false"}));
        CHECK(t.columns == std::vector<std::string>{"sprint"});
        CHECK(t.row("bit-exact").size() == 1);
    }
    SECTION("--mode dense") {
        const SummaryTable t = run_ok(dir, small({"--mode", "dense"}));
        CHECK(t.columns == std::vector<std::string>{"dense"});
        CHECK(t.row("bit-exact") == std::vector<std::string>{"yes"});
    }
    SECTION("--mode onchip-prune compares with dense") {
        const SummaryTable t = run_ok(dir, small({"--mode", "onchip-prune"}));
        CHECK(t.columns == std::vector<std::string>{"onchip-prune", "dense"});
        CHECK(t.row("bit-exact") == std::vector<std::string>{"yes", "yes"});
    }
    SECTION("--compare all: every mode, each pruning mode with its own thresholds") {
        RunResult r;
        // 256 keys do not fit the 128-row buffers
        const SummaryTable t = run_ok(
            dir, {"--heads", "1", "--seq-len", "256", "--compare", "all", "--keep-fraction", "0.1"},
            &r);
        CHECK(t.columns ==
              std::vector<std::string>{"sprint", "dense", "dense-stream", "onchip-prune"});
        CHECK(t.row("bit-exact") == std::vector<std::string>{"yes", "yes", "yes", "yes"});
        const auto keep = t.row("keep fraction");
        CHECK(std::stod(keep[3]) == Approx(0.1).margin(0.002));  // onchip-prune: exact scores
        for (const char* b :
             {"sprint vs dense:", "sprint vs dense-stream:", "sprint vs onchip-prune:"})
            CHECK_THAT(r.out, Contains(b));
        // the strong baseline fetches each row once per query block, the naive one per query
        const auto fetched = t.row("K rows fetched");
        CHECK(std::stod(fetched[1]) < std::stod(fetched[2]) / 4);
        CHECK(parse_grouped(t.row("cycles")[1]) < parse_grouped(t.row("cycles")[2]));
    }
    SECTION("--compare (implicit true) and --compare true") {
        CHECK(run_ok(dir, small({"--compare"})).columns.size() == 2);
        CHECK(run_ok(dir, small({"--compare", "true"})).columns.size() == 2);
    }
}

TEST_CASE(
    "cli/calibration: each mode keeps the target on its own scores, mass and hardware "
    "targets, bad values exit 2",
    "[cli][calibration]") {
    TempDir dir;
    auto overall = [&](const std::vector<std::string>& args) {
        const std::string f = dir.file("cal.json");
        RunResult r;
        run_ok(dir, small(args), &r);
        const auto j = nlohmann::json::parse(read_text(f));
        return j["jobs"][0]["fidelity"]["overall"];
    };
    const std::vector<std::string> one{"--compare=false", "--stats", dir.file("cal.json")};
    auto with = [&](std::vector<std::string> a) {
        a.insert(a.end(), one.begin(), one.end());
        return a;
    };
    // onchip-prune is calibrated on the exact scores it prunes on: it keeps the target (the
    // empty-row policy adds nothing at 0.1)
    const auto op = overall(with({"--mode", "onchip-prune", "--keep-fraction", "0.1"}));
    CHECK(op["keep_fraction"]["value"].get<double>() == Approx(0.1).margin(0.002));
    const auto sp = overall(with({"--keep-fraction", "0.1"}));
    CHECK(sp["keep_fraction"]["value"].get<double>() == Approx(0.1).margin(0.01));
    const auto ms = overall(with({"--keep-mass", "0.9"}));
    CHECK(ms["attention_mass_retained"]["value"].get<double>() >= 0.9);
    CHECK(ms["attention_mass_retained"]["value"].get<double>() <= 0.95);
    // with strong non-idealities only the hardware calibration keeps the target
    const std::vector<std::string> noisy{"--sprint.xbar.read_noise_sigma", "60",
                                         "--sprint.comparators.offset_sigma", "30"};
    auto noisy_with = [&](const std::string& on) {
        auto a = with({"--calibrate-on", on, "--keep-fraction", "0.1"});
        a.insert(a.end(), noisy.begin(), noisy.end());
        return overall(a)["keep_fraction"]["value"].get<double>();
    };
    const double hw = noisy_with("hardware"), ideal = noisy_with("ideal");
    INFO("noisy keep: hardware-calibrated " << hw << ", ideal-calibrated " << ideal);
    CHECK(hw == Approx(0.1).margin(0.01));
    CHECK(std::fabs(ideal - 0.1) > 0.03);
    check_bad_input(dir, small({"--calibrate-on", "sometimes"}),
                    {"--calibrate-on", "ideal|hardware"});
    check_bad_input(dir, small({"--keep-mass", "1.5"}), {"--keep-mass"});
    // one threshold rule: --keep-fraction replaces the default --keep-mass, both is an error
    check_bad_input(dir, small({"--keep-mass", "0.8", "--keep-fraction", "0.1"}),
                    {"'--keep-mass' and '--keep-fraction'"});
    CHECK(overall(with({"--keep-mass", "0", "--keep-fraction", "0.1"}))["keep_fraction"]["value"]
              .get<double>() == Approx(0.1).margin(0.01));
}

TEST_CASE("cli/calibration: a separate calibration set from files sets the thresholds",
          "[cli][calibration]") {
    TempDir dir;
    // The workload's own queries and keys as the calibration set: the same thresholds, the same
    // run as calibrating on the workload.
    const QkvFiles self = write_qkv(dir, "w_", synthetic(2, 96, 64));
    auto job = [&](const std::vector<std::string>& more) {
        const std::string f = dir.file("c.json");
        RunResult r;
        std::vector<std::string> a =
            qkv_args(self, {"--compare=false", "--keep-fraction", "0.1", "--stats", f});
        a.insert(a.end(), more.begin(), more.end());
        run_ok(dir, a, &r);
        const auto j = nlohmann::json::parse(read_text(f))["jobs"][0];
        return std::make_pair(j, r.out);
    };
    const auto [own, own_out] = job({});
    const auto [same, same_out] = job({"--calibrate-q", self.q, "--calibrate-k", self.k});
    CHECK(same["kept_keys"]["value"] == own["kept_keys"]["value"]);
    CHECK_THAT(line_starting(same_out, "sprint-sim:"), Contains("of the calibration files"));
    // Another input (a different seed, 160 tokens) as the calibration set: thresholds that keep
    // about the target on it keep about it here too, but not exactly the same pairs.
    const QkvFiles other = write_qkv(dir, "o_", synthetic(2, 160, 64, 9));
    const auto [cal, cal_out] = job({"--calibrate-q", other.q, "--calibrate-k", other.k});
    CHECK(cal["kept_keys"]["value"] != own["kept_keys"]["value"]);
    CHECK(cal["fidelity"]["overall"]["keep_fraction"]["value"].get<double>() ==
          Approx(0.1).margin(0.05));
    // Bad calibration sets are refused before simulating.
    const QkvFiles narrow = write_qkv(dir, "n_", synthetic(2, 96, 32));
    check_bad_input(dir, qkv_args(self, {"--calibrate-q", narrow.q, "--calibrate-k", narrow.k}),
                    {narrow.q, "d = 32"});
    check_bad_input(dir, qkv_args(self, {"--calibrate-q", other.q}),
                    {"'--calibrate-q' and '--calibrate-k' must be given together"});
    check_bad_input(dir, qkv_args(self, {"--calibrate-q", other.q, "--calibrate-k", self.k}),
                    {"must have the same shape"});
}

TEST_CASE("cli/workload: every preset loads with its shape and structure - explicit options win",
          "[cli][workload]") {
    TempDir dir;
    struct Want {
        const char* name;
        int heads, n, d;
        bool causal;
    };
    const Want presets[] = {{"bert-base", 12, 384, 64, false},  {"bert-large", 16, 512, 64, false},
                            {"albert-xl", 16, 512, 128, false}, {"albert-xxl", 64, 512, 64, false},
                            {"vit-base", 12, 197, 64, false},   {"gpt2-large", 20, 1024, 64, true},
                            {"synth-1", 8, 2048, 64, false},    {"synth-2", 8, 4096, 64, false}};
    std::set<std::string> sources;
    for (const Want& w : presets) {
        INFO(w.name);
        // One head of each (the long synthetic ones at 512 tokens), calibrated by mass: the
        // measured statistics are in the ranges docs/workloads.md gives.
        std::vector<std::string> a{
            "--workload",       w.name,          "--heads",         "1",
            "--keep-mass",      "0.9",           "--compare=false", "--stats",
            dir.file("w.json"), "--dump-config", dir.file("w.ini")};
        if (w.n > 1024) a.insert(a.end(), {"--seq-len", "512"});
        RunResult r;
        run_ok(dir, a, &r);
        const std::string ini = read_text(dir.file("w.ini"));
        CHECK_THAT(ini, Contains(std::string("workload = ") + w.name));
        CHECK_THAT(ini, Contains("head-dim = " + std::to_string(w.d)));
        CHECK_THAT(ini, Contains(std::string("causal = ") + (w.causal ? "true" : "false")));
        if (w.n <= 1024) CHECK_THAT(ini, Contains("seq-len = " + std::to_string(w.n)));
        const auto j = nlohmann::json::parse(read_text(dir.file("w.json")));
        const auto& f = j["jobs"][0]["fidelity"]["overall"];
        CHECK(f["attention_mass_retained"]["value"].get<double>() >= 0.9);
        CHECK(f["keep_fraction"]["value"].get<double>() > 0.03);
        CHECK(f["keep_fraction"]["value"].get<double>() < 0.6);
        CHECK(f["ideal_new_fetch_fraction"]["value"].get<double>() > 0.005);
        CHECK(f["ideal_new_fetch_fraction"]["value"].get<double>() < 0.2);
        CHECK(j["jobs"][0]["bit_exact_vs_core"]["value"] == true);
        sources.insert(j["workload"]["source"].get<std::string>());
    }
    CHECK(sources.size() == 8);  // no two presets are the same run
    // Padding: the BERT-like heads have their own valid lengths, below N.
    run_ok(dir, {"--workload", "bert-base", "--heads", "4", "--compare=false", "--stats",
                 dir.file("p.json")});
    std::set<uint64_t> lens;
    const auto padded = nlohmann::json::parse(read_text(dir.file("p.json")));
    for (const auto& h : padded["jobs"][0]["per_head"])
        lens.insert(h["queries"]["value"].get<uint64_t>());
    CHECK(lens.size() > 1);
    CHECK(*lens.rbegin() <= 384u);
    CHECK(*lens.begin() >= 230u);  // min-valid 0.6 of 384
    check_bad_input(dir, {"--workload", "bert-huge"}, {"--workload", "'bert-huge'"});
}

TEST_CASE("cli/run: warnings say when a workload suits the pruning badly", "[cli]") {
    TempDir dir;
    auto warnings = [&](const std::vector<std::string>& args, bool is_small = true) {
        RunResult r;
        run_ok(dir, is_small ? small(args) : args, &r);
        std::vector<std::string> w;
        for (const auto& l : split_lines(r.out))
            if (l.find("warning: ") != std::string::npos) w.push_back(l);
        return w;
    };
    // keep everything: no mass lost, but the crossbar's work buys nothing
    const auto all = warnings({"--keep-fraction", "1", "--heads", "1", "--seq-len", "512"}, false);
    REQUIRE(all.size() == 1);
    CHECK_THAT(all[0], Contains("sprint is slower than dense"));
    // keep 2%: the kept keys hold too little of the softmax mass, and the output is far off
    const auto few = warnings({"--keep-fraction", "0.02"});
    REQUIRE(few.size() == 2);
    CHECK_THAT(few[0], Contains("of the softmax mass (under 90%)"));
    CHECK_THAT(few[1], Contains("off dense float attention"));
    // enough mass and accuracy, and faster than the strong dense baseline: nothing to say
    CHECK(warnings({"--keep-fraction", "0.2", "--seq-len", "512", "--heads", "1"}, false).empty());
    // dense alone has nothing to compare with
    CHECK(warnings({"--mode", "dense"}).empty());
    // the JSON lists the same warnings
    const std::string f = dir.file("w.json");
    run_ok(dir, small({"--keep-fraction", "0.02", "--stats", f}));
    CHECK(nlohmann::json::parse(read_text(f))["warnings"].size() == 2);
    // Flat heads at N = 1024 with the paper's 8-bit probabilities: the dense baseline, keeping
    // every key, is itself far from float (the probabilities round to zero): said, also when
    // dense runs alone; with the default fixed-point softmax (unnormalised exponentials) and with
    // the float one it is close and nothing is said of it.
    const std::vector<std::string> flat = {"--heads",     "1",   "--seq-len",   "1024",
                                           "--sharpness", "0.2", "--keep-mass", "0.9"};
    auto baseline_warning = [](const std::vector<std::string>& w) {
        std::size_t n = 0;
        for (const auto& l : w)
            if (l.find("the dense output keeps every key and is") != std::string::npos) ++n;
        return n;
    };
    auto prob8 = flat;
    prob8.insert(prob8.end(), {"--softmax", "prob8"});
    CHECK(baseline_warning(warnings(prob8, false)) == 1);
    auto dense_alone = prob8;
    dense_alone.insert(dense_alone.end(), {"--mode", "dense", "--compare=false"});
    CHECK(baseline_warning(warnings(dense_alone, false)) == 1);
    CHECK(baseline_warning(warnings(flat, false)) == 0);
    auto with_float = flat;
    with_float.insert(with_float.end(), {"--softmax", "float"});
    CHECK(baseline_warning(warnings(with_float, false)) == 0);
}

TEST_CASE("cli/run: a job the IP rejects exits 1 naming the job and the error", "[cli]") {
    // A memory window of 4 KiB cannot hold the workload: the IP fails the job (STATUS.ERROR).
    TempDir dir;
    const RunResult r = run_sim(dir, small({"--sprint.fetcher.window_size", "4096"}));
    SHOW(r);
    if (r.exit_code == kBad) {  // also fine: the tool sees it coming and refuses before simulating
        CHECK_THAT(r.err, Contains("sprint.fetcher.window"));
        return;
    }
    CHECK(r.exit_code == platform::kExitJobProblem);
    CHECK_THAT(r.err, Contains("job 1 (sprint)"));
    CHECK_THAT(r.err, Contains("memory window"));
}

// ---- bad options: exit 2 before simulating
// --------------------------------------------------------

TEST_CASE("cli/bad-option: unknown option and malformed values exit 2 naming the option", "[cli]") {
    TempDir dir;
    SECTION("unknown option") {
        check_bad_input(dir, small({"--bogus", "3"}), {"'--bogus'", "--help"});
    }
    SECTION("non-integer --heads") {
        check_bad_input(dir, {"--heads", "two", "--seq-len", "96"},
                        {"'--heads'", "'two'", "integer 1 to 4096"});
    }
    SECTION("--heads 0") {
        check_bad_input(dir, {"--heads", "0", "--seq-len", "96"},
                        {"'--heads'", "'0'", "integer 1 to 4096"});
    }
    SECTION("out-of-range --keep-fraction") {
        check_bad_input(dir, small({"--keep-fraction", "1.5"}),
                        {"'--keep-fraction'", "'1.5'", "1e-06 to 1"});
    }
    SECTION("NaN --keep-fraction") {
        check_bad_input(dir, small({"--keep-fraction", "nan"}), {"'--keep-fraction'", "'nan'"});
    }
    SECTION("unknown --mode") {
        check_bad_input(dir, small({"--mode", "fast"}),
                        {"'--mode'", "'fast'", "sprint|dense|onchip-prune"});
    }
    SECTION("bad boolean") {
        check_bad_input(dir, small({"--causal=maybe"}), {"'--causal'", "'maybe'", "true or false"});
    }
    SECTION("bad --compare") {
        check_bad_input(dir, small({"--compare=maybe"}),
                        {"'--compare'", "'maybe'", "true|false|all"});
    }
    SECTION("missing value") {
        check_bad_input(dir, {"--seq-len", "96", "--heads"}, {"'--heads'"});
    }
    SECTION("option given twice") {
        check_bad_input(dir, small({"--heads", "3"}), {"'--heads'"});
    }
    SECTION("integers with a blank or a plus sign") {
        check_bad_input(dir, {"--heads", " 2", "--seq-len", "96"},
                        {"'--heads'", "' 2'", "integer"});
        check_bad_input(dir, {"--heads", "+2", "--seq-len", "96"},
                        {"'--heads'", "'+2'", "integer"});
        check_bad_input(dir, small({"--seed", "+3"}), {"'--seed'", "'+3'"});
        check_bad_input(dir, small({"--sprint.sram.k_bytes", " 4096"}),
                        {"sprint.sram.k_bytes", "' 4096'"});
        check_bad_input(dir, small({"--locality", " 0.5"}), {"'--locality'", "' 0.5'"});
    }
}

TEST_CASE("cli/bad-option: bad --threshold lists exit 2", "[cli]") {
    TempDir dir;
    SECTION("not a number") {
        check_bad_input(dir, small({"--threshold", "1,x"}),
                        {"'--threshold'", "'x'", "not a finite number"});
    }
    SECTION("empty item") {
        check_bad_input(dir, small({"--threshold", "1,,2"}), {"'--threshold'", "empty value"});
        // A trailing comma is an empty value too, not one threshold for both heads.
        check_bad_input(dir, small({"--threshold", "1,"}),
                        {"'--threshold'", "'1,'", "empty value"});
    }
    SECTION("beyond float32") {
        // The head table holds float32: the option says so before anything is simulated.
        check_bad_input(dir, small({"--threshold", "1e39"}),
                        {"'--threshold'", "'1e39'", "float32"});
        check_bad_input(dir, small({"--threshold", "0.5,-1e39"}),
                        {"'--threshold'", "'-1e39'", "float32"});
    }
    SECTION("infinite") {
        check_bad_input(dir, small({"--threshold", "inf"}), {"'--threshold'", "'inf'"});
    }
    SECTION("wrong count") {
        check_bad_input(dir, small({"--threshold", "1,2,3"}),
                        {"'--threshold'", "3 values", "one per head (2)"});
    }
    SECTION("one value or one per head are accepted") {
        run_ok(dir, small({"--threshold", "0.5", "--compare=false"}));
        run_ok(dir, small({"--threshold", "0.5,-0.25", "--compare=false"}));
        run_ok(dir,
               small({"--threshold", "0.5, -0.25", "--compare=false"}));  // blanks after commas
    }
}

TEST_CASE("cli/bad-option: workload that does not fit the configuration exits 2", "[cli]") {
    TempDir dir;
    SECTION("--valid-len above --seq-len") {
        check_bad_input(dir, small({"--valid-len", "200"}), {"'--valid-len'", "200", "96"});
    }
    SECTION("model parameter out of range") {
        check_bad_input(dir, small({"--sprint.sram.k_bytes", "5"}),
                        {"sprint.sram.k_bytes", "'5'", "integer 16 to 1048576"});
    }
    SECTION("unknown dram preset") {
        check_bad_input(dir, small({"--dram.preset", "foo"}),
                        {"dram.preset", "'foo'", "lpddr4|hbm2|ddr4|reram"});
    }
    SECTION("--seq-len above the score buffer of the two-pass modes (--compare all)") {
        check_bad_input(dir,
                        {"--heads", "1", "--seq-len", "300", "--sprint.datapath.score_entries",
                         "256", "--compare", "all"},
                        {"300", "score buffer", "sprint.datapath.score_entries"});
    }
    SECTION("--seq-len above the score buffer of dense with 8-bit probabilities") {
        check_bad_input(dir,
                        {"--heads", "1", "--seq-len", "200", "--sprint.datapath.score_entries",
                         "128", "--softmax", "prob8"},
                        {"200", "sprint.datapath.score_entries = 128"});
    }
    SECTION("workload too big for dram.size_mb") {
        check_bad_input(dir, {"--heads", "8", "--seq-len", "512", "--dram.size_mb", "1"},
                        {"MiB", "dram.size_mb is 1"});
    }
    SECTION("the size checks come before the workload is generated or loaded") {
        // 4096 x 1024 x 64 would take 3 GiB of floats to generate (and minutes to calibrate):
        // refused from the shape alone, the process never gets near that.
        const std::vector<std::string> huge = {"--heads", "4096",           "--seq-len",
                                               "1024",    "--dram.size_mb", "1"};
        const RunResult r = run_sim(dir, huge);
        SHOW(r);
        CHECK(r.exit_code == kBad);
        CHECK_THAT(r.err, Contains("dram.size_mb is 1"));
        CHECK(r.peak_rss_kib < 1024 * 1024);  // peak resident memory below 1 GiB
        // Likewise for files: the headers decide before the data is read (a NaN in K is only found
        // by loading it).
        core::Workload w = synthetic(2, 96, 64);
        w.k.data[5] = std::numeric_limits<float>::quiet_NaN();
        const QkvFiles f = write_qkv(dir, "", w);
        const RunResult big = run_sim(dir, qkv_args(f, {"--sprint.fetcher.window_size", "4096"}));
        SHOW(big);
        CHECK(big.exit_code == kBad);
        CHECK_THAT(big.err, Contains("address window"));
    }
    SECTION("head dimension larger than the SRAM row") {
        check_bad_input(
            dir,
            {"--heads", "1", "--seq-len", "8", "--head-dim", "64", "--sprint.sram.k_bytes", "32"},
            {"head dimension 64", "sprint.sram.k_bytes"});
    }
}

TEST_CASE("cli/bad-option: config file problems exit 2 naming the file", "[cli]") {
    TempDir dir;
    SECTION("missing --config file") {
        const std::string f = dir.file("nope.ini");
        check_bad_input(dir, small({"--config", f}), {"'--config'", f, "cannot be opened"});
    }
    SECTION("unknown key in a section") {
        const std::string f = dir.file("bad.ini");
        write_text(f, "[sprint.sram]\nk_bytes = 4096\nbogus_key = 3\n");
        check_bad_input(dir, small({"--config", f}), {f, "sprint.sram.bogus_key"});
    }
    SECTION("unknown top-level key") {
        const std::string f = dir.file("bad.ini");
        write_text(f, "not-an-option = 1\n");
        check_bad_input(dir, small({"--config", f}), {f, "not-an-option"});
    }
    SECTION("bad value in the file") {
        const std::string f = dir.file("bad.ini");
        write_text(f, "[dram]\npreset = foo\n");
        check_bad_input(dir, small({"--config", f}),
                        {"dram.preset", "'foo'", "lpddr4|hbm2|ddr4|reram"});
    }
    SECTION("a config file naming another config file") {
        const std::string f = dir.file("outer.ini"), g = dir.file("inner.ini");
        write_text(g, "heads = 3\n");
        write_text(f, "config = " + g + "\nseed = 4\n");
        check_bad_input(dir, small({"--config", f}), {f, "'config' cannot be nested"});
    }
}

TEST_CASE("cli/bad-option: a directory given as --config is rejected", "[cli]") {
    // std::ifstream opens a directory; the tool must still refuse it.
    TempDir dir;
    check_bad_input(dir, small({"--config", dir.path()}), {"'--config'", dir.path()});
}

TEST_CASE("cli/bad-option: a stray positional argument is rejected", "[cli]") {
    // `sprint-sim --heads 2 --seq-len 96 extra` (or a mistyped `heads=2`) must not run silently.
    TempDir dir;
    check_bad_input(dir, small({"extra"}), {"extra"});
}

TEST_CASE("cli/bad-option: --q without --k and --v exits 2", "[cli]") {
    TempDir dir;
    const QkvFiles f = write_qkv(dir, "", synthetic(2, 96, 64));
    check_bad_input(dir, {"--q", f.q}, {"'--q'", "'--k'", "'--v'", "together"});
    check_bad_input(dir, {"--q", f.q, "--k", f.k}, {"'--v'", "together"});
}

TEST_CASE("cli/bad-option: unwritable output paths exit 2 before simulating", "[cli]") {
    TempDir dir;
    const std::string missing_dir = dir.file("no/such/dir/x");
    for (const char* opt : {"stats", "output", "vcd", "dump-config"}) {
        INFO("--" << opt);
        check_bad_input(dir, small({std::string("--") + opt, missing_dir}),
                        {"'--" + std::string(opt) + "'", missing_dir, "cannot be written"});
        check_bad_input(dir, small({std::string("--") + opt, dir.path()}),
                        {"'--" + std::string(opt) + "'", "cannot be written"});
    }
    CHECK_FALSE(file_exists(dir.file("no")));
}

// ---- .npy input
// -----------------------------------------------------------------------------------

TEST_CASE("cli/npy: a bad .npy file exits 2 naming the file and the problem", "[cli]") {
    TempDir dir;
    const core::Workload w = synthetic(2, 96, 64);
    const QkvFiles good = write_qkv(dir, "good_", w);
    const std::string bad = dir.file("bad_k.npy");
    // The bad file goes in as K, so the message must name that file and not Q's.
    auto check_bad_k = [&](const std::vector<std::string>& says) {
        std::vector<std::string> all{bad};
        all.insert(all.end(), says.begin(), says.end());
        check_bad_input(dir, {"--q", good.q, "--k", bad, "--v", good.v}, all);
    };
    const std::vector<float> k(w.k.data.begin(), w.k.data.end());

    SECTION("missing file") {
        check_bad_k({"cannot be opened"});
    }
    SECTION("not an npy file") {
        write_text(bad, "this is a text file, not a numpy array\n");
        check_bad_k({"not a valid .npy file"});
    }
    SECTION("empty file") {
        write_text(bad, "");
        check_bad_k({"not a valid .npy file"});
    }
    SECTION("float64 dtype") {
        write_npy_raw(bad, "<f8", "(2, 96, 64)", double_bytes(k));
        check_bad_k({"'<f8'", "float32"});
    }
    SECTION("int8 dtype") {
        write_npy_raw(bad, "|i1", "(2, 96, 64)", std::string(2 * 96 * 64, '\1'));
        check_bad_k({"'|i1'", "float32"});
    }
    SECTION("1-D shape") {
        write_npy_raw(bad, "<f4", "(12288,)", float_bytes(k));
        check_bad_k({"shape (12288)", "[heads, N, d] or [N, d]"});
    }
    SECTION("4-D shape") {
        write_npy_raw(bad, "<f4", "(1, 2, 96, 64)", float_bytes(k));
        check_bad_k({"shape (1, 2, 96, 64)", "[heads, N, d] or [N, d]"});
    }
    SECTION("zero dimension") {
        write_npy_raw(bad, "<f4", "(2, 0, 64)", "");
        check_bad_k({"zero dimension"});
    }
    SECTION("truncated data") {
        std::string data = float_bytes(k);
        data.resize(data.size() - 100);
        write_npy_raw(bad, "<f4", "(2, 96, 64)", data);
        check_bad_k({"truncated"});
    }
    SECTION("extra data after the array") {
        write_npy_raw(bad, "<f4", "(2, 96, 64)", float_bytes(k) + std::string(8, '\0'));
        check_bad_k({"holds"});
    }
    SECTION("absurd declared shape") {
        write_npy_raw(bad, "<f4", "(100000, 100000, 100000)", float_bytes(k));
        check_bad_k({"shape"});
    }
    SECTION("truncated header") {
        std::string cut = "\x93NUMPY";
        cut += {'\x01', '\x00', '\x76', '\x00'};  // version 1.0, header of 118 bytes
        cut += "{'descr': '<f4'";                 // ... of which only 15 are there
        write_text(bad, cut);
        check_bad_k({"not a valid .npy file"});
    }
    SECTION("NaN inside") {
        core::Tensor3 t = w.k;
        t.data[1234] = std::numeric_limits<float>::quiet_NaN();
        platform::save_tensor_npy(bad, t);
        check_bad_k({"non-finite", "1234"});
    }
    SECTION("infinity inside") {
        core::Tensor3 t = w.k;
        t.data[7] = std::numeric_limits<float>::infinity();
        platform::save_tensor_npy(bad, t);
        check_bad_k({"non-finite", "7"});
    }
}

TEST_CASE("cli/npy: Q K V shapes that differ or disagree with --heads exit 2", "[cli]") {
    TempDir dir;
    const QkvFiles a = write_qkv(dir, "a_", synthetic(2, 96, 64));
    const QkvFiles b = write_qkv(dir, "b_", synthetic(2, 64, 64));
    const QkvFiles c = write_qkv(dir, "c_", synthetic(2, 96, 32));
    SECTION("K has another N") {
        check_bad_input(dir, {"--q", a.q, "--k", b.k, "--v", a.v}, {a.q, b.k, a.v, "same shape"});
    }
    SECTION("V has another d") {
        check_bad_input(dir, {"--q", a.q, "--k", a.k, "--v", c.v}, {c.v, "same shape"});
    }
    SECTION("--heads disagrees with the files") {
        check_bad_input(dir, qkv_args(a, {"--heads", "3"}), {"'--heads'", "(3)", "(2)", ".npy"});
    }
    SECTION("--seq-len disagrees with the files") {
        check_bad_input(dir, qkv_args(a, {"--seq-len", "128"}), {"'--seq-len'", "(128)", "(96)"});
    }
    SECTION("--valid-len above the files' N") {
        check_bad_input(dir, qkv_args(a, {"--valid-len", "97"}), {"'--valid-len'", "97", "96"});
    }
}

TEST_CASE("cli/npy: 3-D and 2-D files run and --output reads back with the expected shape",
          "[cli]") {
    TempDir dir;
    SECTION("[heads, N, d] files give the same result as the same synthetic workload") {
        const QkvFiles f = write_qkv(dir, "", synthetic(2, 96, 64));
        RunResult from_files, from_gen;
        const SummaryTable tf =
            run_ok(dir, qkv_args(f, {"--output", dir.file("files.npy")}), &from_files);
        const SummaryTable tg = run_ok(dir, small({"--output", dir.file("gen.npy")}), &from_gen);
        CHECK_THAT(line_starting(from_files.out, "sprint-sim:"), Contains("2 heads x N=96 x d=64"));
        CHECK(tf.row("bit-exact") == std::vector<std::string>{"yes", "yes"});
        CHECK(tf.row("cycles") == tg.row("cycles"));
        const core::Tensor3 o = platform::load_tensor_npy(dir.file("files.npy"));
        CHECK(o.heads == 2);
        CHECK(o.n == 96);
        CHECK(o.d == 64);
        CHECK(read_text(dir.file("files.npy")) == read_text(dir.file("gen.npy")));
        // --heads that agrees with the files is accepted.
        run_ok(dir, qkv_args(f, {"--heads", "2", "--seq-len", "96", "--head-dim", "64",
                                 "--compare=false"}));
    }
    SECTION("[N, d] files run as one head and match [1, N, d] files of the same data") {
        const core::Workload w = synthetic(1, 96, 32, 5);
        const QkvFiles three = write_qkv(dir, "3d_", w);
        const QkvFiles two{dir.file("2d_q.npy"), dir.file("2d_k.npy"), dir.file("2d_v.npy")};
        write_npy_raw(two.q, "<f4", "(96, 32)", float_bytes(w.q.data));
        write_npy_raw(two.k, "<f4", "(96, 32)", float_bytes(w.k.data));
        write_npy_raw(two.v, "<f4", "(96, 32)", float_bytes(w.v.data));
        RunResult r2;
        run_ok(dir, qkv_args(two, {"--output", dir.file("o2.npy")}), &r2);
        run_ok(dir, qkv_args(three, {"--output", dir.file("o3.npy")}));
        CHECK_THAT(line_starting(r2.out, "sprint-sim:"), Contains("1 heads x N=96 x d=32"));
        const core::Tensor3 o = platform::load_tensor_npy(dir.file("o2.npy"));
        CHECK(o.heads == 1);
        CHECK(o.n == 96);
        CHECK(o.d == 32);
        CHECK(read_text(dir.file("o2.npy")) == read_text(dir.file("o3.npy")));
    }
    SECTION("Fortran-order file is read in row-major order") {
        // Same [N, d] data stored column-major: the tool must see the same tensor.
        const core::Workload w = synthetic(1, 16, 8, 3);
        const QkvFiles c{dir.file("c_q.npy"), dir.file("c_k.npy"), dir.file("c_v.npy")};
        const QkvFiles f{dir.file("f_q.npy"), dir.file("f_k.npy"), dir.file("f_v.npy")};
        auto transpose = [](const std::vector<float>& x, int n, int d) {
            std::vector<float> t(x.size());
            for (int i = 0; i < n; ++i)
                for (int j = 0; j < d; ++j) t[std::size_t(j) * n + i] = x[std::size_t(i) * d + j];
            return t;
        };
        const std::pair<const core::Tensor3*, std::pair<std::string, std::string>> files[] = {
            {&w.q, {c.q, f.q}}, {&w.k, {c.k, f.k}}, {&w.v, {c.v, f.v}}};
        for (const auto& [t, paths] : files) {
            write_npy_raw(paths.first, "<f4", "(16, 8)", float_bytes(t->data));
            write_npy_raw(paths.second, "<f4", "(16, 8)", float_bytes(transpose(t->data, 16, 8)),
                          true);
        }
        run_ok(dir, qkv_args(c, {"--output", dir.file("oc.npy"), "--compare=false"}));
        run_ok(dir, qkv_args(f, {"--output", dir.file("of.npy"), "--compare=false"}));
        CHECK(read_text(dir.file("oc.npy")) == read_text(dir.file("of.npy")));
    }
}

TEST_CASE("cli/npy: two identical runs write identical --output files", "[cli]") {
    TempDir dir;
    const SummaryTable a =
        run_ok(dir, small({"--output", dir.file("a.npy"), "--causal", "--valid-len", "80"}));
    const SummaryTable b =
        run_ok(dir, small({"--output", dir.file("b.npy"), "--causal", "--valid-len", "80"}));
    const std::string fa = read_text(dir.file("a.npy")), fb = read_text(dir.file("b.npy"));
    REQUIRE(fa.size() > 2 * 96 * 64 * 4);
    CHECK(fa == fb);
    CHECK(a.rows == b.rows);
    const core::Tensor3 o = platform::load_tensor_npy(dir.file("a.npy"));
    CHECK(o.heads == 2);
    CHECK(o.n == 96);
    CHECK(o.d == 64);
}

TEST_CASE("cli/npy: --output-format int16 still writes float32 .npy", "[cli]") {
    TempDir dir;
    run_ok(dir,
           small({"--output-format", "int16", "--output", dir.file("o.npy"), "--compare=false"}));
    const core::Tensor3 o = platform::load_tensor_npy(dir.file("o.npy"));  // checks '<f4'
    CHECK(o.heads == 2);
    CHECK(o.n == 96);
}

// ---- configuration: --dump-config, --config, presets
// -----------------------------------------------

TEST_CASE("cli/config: --dump-config round-trips through --config", "[cli]") {
    TempDir dir;
    const std::string a = dir.file("a.ini"), b = dir.file("b.ini");
    const SummaryTable ta = run_ok(
        dir,
        small({"--dump-config", a, "--causal", "--keep-fraction", "0.2", "--sprint.sram.k_bytes",
               "4096", "--dram.preset", "hbm2", "--sprint.xbar.read_noise_sigma", "0.5"}));
    const SummaryTable tb = run_ok(dir, {"--config", a, "--dump-config", b});
    // The provenance lines (tool, commit, host, date, command) say how each file was written;
    // everything else is the same.
    auto body = [](const std::string& text) {
        std::istringstream in(text);
        std::string line, out;
        while (std::getline(in, line))
            if (line.rfind("# written by ", 0) != 0 && line.rfind("# command: ", 0) != 0)
                out += line + "\n";
        return out;
    };
    const std::string ia = body(read_text(a)), ib = body(read_text(b));
    REQUIRE_FALSE(ia.empty());
    CHECK(ia == ib);
    CHECK_THAT(read_text(a), Contains("# written by sprint-sim "));
    CHECK_THAT(read_text(b), Contains("# command: " + sim_path() + " --config " + a));
    CHECK(ta.rows == tb.rows);
    CHECK_THAT(ia, Contains("heads = 2"));
    CHECK_THAT(ia, Contains("causal = true"));
    CHECK_THAT(ia, Contains("k_bytes = 4096"));
    CHECK_THAT(ia, Contains("preset = hbm2"));
}

TEST_CASE("cli/config: the command line overrides the config file", "[cli]") {
    TempDir dir;
    const std::string f = dir.file("c.ini");
    write_text(f,
               "heads = 3\nseq-len = 96\ncompare = false\n[sprint.sram]\nk_bytes = 4096\nv_bytes = "
               "4096\n");
    RunResult r;
    const SummaryTable t =
        run_ok(dir, {"--config", f, "--heads", "2", "--sprint.sram.v_bytes", "2048"}, &r);
    CHECK_THAT(line_starting(r.out, "sprint-sim:"), Contains("2 heads x N=96"));
    CHECK_THAT(line_starting(r.out, "IP ("), Contains("SRAM 4096 + 2048 B"));
    CHECK(t.columns == std::vector<std::string>{"sprint"});
}

TEST_CASE("cli/config: section keys and dotted keys both work in the file", "[cli]") {
    TempDir dir;
    const std::string f = dir.file("c.ini");
    write_text(f,
               "# comment\n"
               "heads = 2\n"
               "seq-len = 96\n"
               "sprint.sram.v_bytes = 2048\n"
               "[sprint.sram]\n"
               "k_bytes = 4096\n"
               "[dram]\n"
               "latency_ns = 42\n");
    RunResult r;
    run_ok(dir, {"--config", f, "--stats", dir.file("s.json")}, &r);
    CHECK_THAT(line_starting(r.out, "IP ("), Contains("SRAM 4096 + 2048 B"));
    CHECK_THAT(line_starting(r.out, "memory:"), Contains("42 ns"));
    const auto j = nlohmann::json::parse(read_text(dir.file("s.json")));
    CHECK(j["config"]["sprint.sram.k_bytes"] == 4096);
    CHECK(j["config"]["sprint.sram.v_bytes"] == 2048);
    CHECK(j["config"]["dram.latency_ns"] == 42.0);
}

TEST_CASE("cli/config: dram.preset sets the bandwidth unless it is given explicitly", "[cli]") {
    TempDir dir;
    auto memory_line = [&](const std::vector<std::string>& more) {
        RunResult r;
        run_ok(dir, small(more), &r);
        return line_starting(r.out, "memory:");
    };
    CHECK_THAT(memory_line({}), Contains("lpddr4, 19.2 GB/s"));
    CHECK_THAT(memory_line({"--dram.preset", "hbm2"}), Contains("hbm2, 256 GB/s"));
    CHECK_THAT(memory_line({"--dram.preset", "hbm2", "--dram.bandwidth_gbps", "100"}),
               Contains("hbm2, 100 GB/s"));
    CHECK_THAT(memory_line({"--dram.bandwidth_gbps", "100", "--dram.preset", "hbm2"}),
               Contains("hbm2, 100 GB/s"));
    SECTION("preset in the file, bandwidth on the command line") {
        const std::string f = dir.file("p.ini");
        write_text(f, "[dram]\npreset = hbm2\n");
        CHECK_THAT(memory_line({"--config", f}), Contains("hbm2, 256 GB/s"));
        CHECK_THAT(memory_line({"--config", f, "--dram.bandwidth_gbps", "100"}),
                   Contains("hbm2, 100 GB/s"));
    }
}

TEST_CASE(
    "cli/config: --preset S M L set units and buffers - shown in --dump-config - explicit "
    "values win",
    "[cli]") {
    TempDir dir;
    const std::pair<const char*, const char*> sizes[] = {{"S", "1"}, {"M", "2"}, {"L", "4"}};
    for (const auto& [preset, units] : sizes) {
        INFO("preset " << preset);
        const std::string f = dir.file(std::string(preset) + ".ini");
        RunResult r;
        run_ok(dir, small({"--preset", preset, "--dump-config", f, "--compare=false"}), &r);
        const std::string ini = read_text(f);
        CHECK_THAT(ini, Contains(std::string("preset = ") + preset));
        CHECK_THAT(ini, Contains(std::string("units = ") + units));
        CHECK_THAT(ini, Contains("k_bytes = 8192"));
        CHECK_THAT(ini, Contains("v_bytes = 8192"));
        CHECK_THAT(ini, Contains("max_outstanding = " + std::to_string(16 * std::stoi(units))));
        CHECK_THAT(line_starting(r.out, "IP ("), Contains(std::string(units) + " compute unit"));
    }
    // An explicit parameter wins over the preset, wherever it stands.
    RunResult r;
    run_ok(dir,
           small({"--sprint.units", "3", "--preset", "L", "--sprint.sram.k_bytes", "4096",
                  "--compare=false"}),
           &r);
    CHECK_THAT(line_starting(r.out, "IP ("),
               Contains("3 compute units with SRAM 4096 + 8192 B each"));
    // Every unit's stages and datapath have their own rows.
    for (const char* row : {"unit 0: stage compute (datapath)", "unit 2: datapath units"})
        CHECK_THAT(r.out, Contains(row));
    check_bad_input(dir, small({"--preset", "XL"}), {"--preset", "'XL'"});
}

TEST_CASE("cli/config: a dumped config still runs after moving platform.dram_base", "[cli]") {
    // --dump-config once wrote the IP's window derived from platform.dram_base as explicit values,
    // so moving the DRAM on the command line left the window behind and the job failed (exit 1).
    TempDir dir;
    const std::string a = dir.file("a.ini");
    run_ok(dir, small({"--dump-config", a, "--compare=false"}));
    const RunResult r = run_sim(dir, {"--config", a, "--platform.dram_base", "3221225472"});
    SHOW(r);
    CHECK(r.exit_code == kOk);
}

// ---- --stats
// ----------------------------------------------------------------------------------------

TEST_CASE("cli/stats: JSON with modes units bit-exactness and the printed cycles", "[cli]") {
    TempDir dir;
    const std::string f = dir.file("s.json");
    const SummaryTable t = run_ok(dir, small({"--stats", f}));
    nlohmann::json j;
    REQUIRE_NOTHROW(j = nlohmann::json::parse(read_text(f)));
    REQUIRE(j["jobs"].is_array());
    REQUIRE(j["jobs"].size() == 2);
    CHECK(j["jobs"][0]["mode"] == "sprint");
    CHECK(j["jobs"][1]["mode"] == "dense");
    const auto cycles = t.row("cycles");
    for (int i = 0; i < 2; ++i) {
        INFO("job " << i);
        const auto& job = j["jobs"][i];
        CHECK(job["cycles"]["unit"] == "cycles");
        CHECK(job["bit_exact_vs_core"]["value"] == true);
        CHECK(job["cycles"]["value"].get<double>() ==
              double(parse_grouped(cycles[std::size_t(i)])));
        CHECK(job["model"]["fetcher"]["mem_read_bytes"]["unit"] == "B");
        CHECK(job["model"]["fetcher"]["mem_read_bytes"]["value"] == job["mem_read_bytes"]["value"]);
        // Every statistic of the model tree carries a unit.
        int leaves = 0;
        std::function<void(const nlohmann::json&, const std::string&)> walk =
            [&](const nlohmann::json& n, const std::string& path) {
                if (!n.is_object()) return;
                if (n.contains("value")) {
                    INFO(path);
                    ++leaves;
                    CHECK(n.contains("unit"));
                    CHECK(n["unit"].is_string());
                    return;
                }
                for (auto it = n.begin(); it != n.end(); ++it) walk(*it, path + "." + it.key());
            };
        walk(job["model"], "model");
        CHECK(leaves > 10);
    }
    CHECK(j["workload"]["heads"] == 2);
    CHECK(j["workload"]["seq_len"] == 96);
    CHECK(j["config"]["sprint.sram.k_bytes"] == 8192);
}

TEST_CASE("cli/k-readback: the K traffic saved is the top bits of every fetched K row", "[cli]") {
    TempDir dir;
    auto job = [&](const char* readback, const std::string& out) {
        const std::string f = dir.file(std::string("s_") + readback + ".json");
        run_ok(dir, small({"--k-readback", readback, "--compare=false", "--stats", f, "--output",
                           out, "--head-dim", "64"}));
        return nlohmann::json::parse(read_text(f))["jobs"][0];
    };
    const auto on = job("true", dir.file("on.npy")), off = job("false", dir.file("off.npy"));
    // The same rows are kept and fetched (the K buffer holds whole rows either way) ...
    const auto rows = on["k_rows_fetched"]["value"].get<uint64_t>();
    REQUIRE(rows > 0);
    CHECK(off["k_rows_fetched"]["value"].get<uint64_t>() == rows);
    CHECK(on["model"]["fetcher"]["readback_rows"]["value"].get<uint64_t>() == rows);
    CHECK(on["model"]["xbar"]["keys_read_back"]["value"].get<uint64_t>() == rows);
    CHECK(off["model"]["fetcher"]["readback_rows"]["value"].get<uint64_t>() == 0);
    // ... but each K row read 32 of its 64 bytes (the 4 low bits of each element) from memory.
    CHECK(off["mem_read_bytes"]["value"].get<uint64_t>() -
              on["mem_read_bytes"]["value"].get<uint64_t>() ==
          rows * 32);
    CHECK(read_text(dir.file("on.npy")) == read_text(dir.file("off.npy")));  // ideal cells
}

TEST_CASE(
    "cli/front: an evaluation costs evaluate_cycles of the array, the read-outs and Q reads "
    "overlap it, in LT and AT",
    "[cli]") {
    TempDir dir;
    // Keys resident and no read-back: the array does evaluations only.
    for (const char* timing : {"lt", "at"}) {
        INFO(timing);
        auto job = [&](const char* ahead) {
            return run_stats(dir, {"--heads", "1", "--seq-len", "512", "--timing", timing,
                                   "--sprint.xbar.k_resident", "true", "--k-readback", "false",
                                   "--compare=false", "--sprint.xbar.evaluate_cycles", "5",
                                   "--sprint.controller.q_groups_ahead", ahead})["jobs"][0];
        };
        const auto on = job("2"), off = job("0");
        const auto& m = on["model"];
        const double queries = 512, evals = m["xbar"]["evaluations"]["value"].get<double>();
        CHECK(evals == queries);
        CHECK(m["xbar"]["busy_ns"]["value"].get<double>() == Approx(5 * evals));
        // Each query's 512-bit mask read out in 512 / 64 = 8 cycles, on its own port.
        CHECK(m["comparators"]["busy_ns"]["value"].get<double>() == Approx(8 * queries));
        CHECK(m["comparators"]["mask_bits_read"]["value"].get<double>() == 512 * queries);
        // The front bound: the busier of the two, here the read-out.
        CHECK(on["bounds"]["front"]["value"].get<double>() == Approx(8 * queries));
        // Reading Q ahead moves no more bytes, and the front stage's own time per query falls
        // from a share of each group's memory latency to less than one evaluation.
        CHECK(on["mem_read_bytes"]["value"] == off["mem_read_bytes"]["value"]);
        const auto front = [](const nlohmann::json& j) {
            return j["model"]["controller"]["stage_front"]["busy_ns"]["value"].get<double>();
        };
        CHECK(front(on) < 5 * queries);
        CHECK(front(off) > 2 * front(on));
    }
}

TEST_CASE(
    "cli/front: a head scored in passes after heads the crossbar holds whole reads its own "
    "masks, in LT and AT",
    "[cli]") {
    TempDir dir;
    // Valid lengths 60 to 300 on a 128-key array: heads in one pass and in several mixed, keys
    // resident (no programming time for the mask stage to catch up in).
    for (const char* timing : {"lt", "at"})
        for (const char* seed : {"1", "3", "4"}) {
            INFO(timing << " seed " << seed);
            const auto j =
                run_stats(dir, {"--heads", "6", "--seq-len", "300", "--sprint.xbar.tiles", "2",
                                "--sprint.xbar.tile_cols", "64", "--min-valid", "0.2", "--seed",
                                seed, "--k-readback", "false", "--sprint.xbar.k_resident", "true",
                                "--timing", timing, "--compare=false"})["jobs"][0];
            CHECK(j["bit_exact_vs_core"]["value"] == true);
        }
}

TEST_CASE("cli/energy: every energy line is a count the model made x its table entry",
          "[cli][energy]") {
    TempDir dir;
    const std::string f = dir.file("e.json");
    RunResult r;
    run_ok(dir, small({"--keep-fraction", "0.1", "--stats", f}), &r);
    const auto doc = nlohmann::json::parse(read_text(f));
    for (const auto& job : doc["jobs"]) {
        INFO(job["mode"]);
        const auto& e = job["energy"];
        const auto& m = job["model"];
        double sum = 0.0;
        std::map<std::string, double> count;
        for (const auto& l : e["lines"]) {
            const std::string key =
                l["block"].get<std::string>() + "." + l["action"].get<std::string>();
            const double pj = l["pJ"].get<double>();
            sum += pj;
            count[key] = l["count"].get<double>();
            // the table's value, as --dump-tech and the config give it
            if (l["action"] != "leakage")
                CHECK(pj == Approx(l["count"].get<double>() * l["per_event"].get<double>()));
            CHECK(doc["config"]["tech." + key] == l["per_event"].get<double>());
        }
        CHECK(e["total"]["value"].get<double>() == Approx(sum * 1e-6));
        // The counts are the modules' counts of this job.
        CHECK(count.at("xbar.mac") == m["xbar"]["analog_macs"]["value"].get<double>());
        CHECK(count.at("dram.read") == 8.0 * job["mem_read_bytes"]["value"].get<double>());
        CHECK(count.at("dram.write") == 8.0 * job["mem_write_bytes"]["value"].get<double>());
        CHECK(count.at("datapath.qk_mac") ==
              m["unit_0"]["datapath"]["qk_macs"]["value"].get<double>());
        CHECK(count.at("sram.read") == m["unit_0"]["sram"]["read_bytes"]["value"].get<double>());
        // Leakage lines: the structures of the job's own design (the dense baseline has no
        // crossbar and no comparators).
        if (job["mode"] == "sprint")
            CHECK(count.at("xbar.leakage") == 32);  // the tiles
        else
            CHECK(count.count("xbar.leakage") == 0);
        CHECK(e["area"]["value"].get<double>() > 0.0);
    }
    CHECK_THAT(r.out, Contains("energy by block, uJ"));
    CHECK_THAT(line_starting(r.out, "  sprint vs dense:"), Contains("x lower"));
}

TEST_CASE(
    "cli/summary: the comparison line reads right when SPRINT loses (slow-down, energy higher)",
    "[cli]") {
    TempDir dir;
    RunResult r;
    // Keeping every key, SPRINT does the dense work one query at a time, plus the crossbar's.
    const auto doc = run_stats(dir, small({"--keep-fraction", "1"}), &r);
    const auto& s = doc["jobs"][0];
    const auto& d = doc["jobs"][1];
    const double slower = s["cycles"]["value"].get<double>() / d["cycles"]["value"].get<double>();
    const double more =
        s["energy"]["total"]["value"].get<double>() / d["energy"]["total"]["value"].get<double>();
    REQUIRE(slower > 1.0);
    REQUIRE(more > 1.0);
    char expect[120];
    std::snprintf(expect, sizeof expect, "  sprint vs dense: slow-down %.2fx, energy %.2fx higher",
                  slower, more);
    const std::string line = line_starting(r.out, "  sprint vs dense:");
    CHECK(line.rfind(expect, 0) == 0);
    CHECK(line.find("% higher") != std::string::npos);
}

TEST_CASE(
    "cli/energy: each mode pays for its own hardware: no crossbar or comparators in the "
    "baselines",
    "[cli][energy]") {
    TempDir dir;
    const auto doc = run_stats(dir, small({"--compare", "all"}));
    const double tiles = doc["config"]["sprint.xbar.tiles"].get<double>();
    const double columns = tiles * doc["config"]["sprint.xbar.tile_cols"].get<double>();
    const double xbar_area = tiles * doc["config"]["tech.xbar.area"].get<double>();
    const double comparator_area = columns * doc["config"]["tech.comparators.area"].get<double>();
    std::map<std::string, double> area;
    REQUIRE(doc["jobs"].size() == 4);
    for (const auto& job : doc["jobs"]) {
        const std::string mode = job["mode"];
        INFO(mode);
        const auto& e = job["energy"];
        area[mode] = e["area"]["value"].get<double>();
        std::map<std::string, double> leak;
        for (const auto& l : e["lines"])
            if (l["action"] == "leakage") leak[l["block"]] = l["count"].get<double>();
        const bool sprint = mode == "sprint";
        CHECK(leak.count("xbar") == (sprint ? 1u : 0u));
        CHECK(leak.count("comparators") == (sprint ? 1u : 0u));
        CHECK(e["area_per_block"].contains("xbar") == sprint);
        CHECK(e["area_per_block"].contains("comparators") == sprint);
        if (sprint) {
            CHECK(leak.at("xbar") == tiles);
            CHECK(leak.at("comparators") == columns);
        }
        // What every design has: control, the SRAM buffers and the datapath.
        CHECK(leak.count("control") == 1);
        CHECK(leak.count("sram") == 1);
        CHECK(leak.count("datapath") == 1);
    }
    // The same SRAM and datapath: the baselines' area is SPRINT's less the crossbar and
    // comparators.
    for (const char* m : {"dense", "dense-stream", "onchip-prune"})
        CHECK(area.at(m) == Approx(area.at("sprint") - xbar_area - comparator_area));
}

TEST_CASE("cli/energy: each compute unit's share is its buffers' and datapath's energy",
          "[cli][energy]") {
    TempDir dir;
    const std::string f = dir.file("u.json");
    RunResult r;
    run_ok(dir, small({"--preset", "M", "--stats", f}), &r);
    const auto doc = nlohmann::json::parse(read_text(f));
    for (const auto& job : doc["jobs"]) {
        INFO(job["mode"]);
        const auto& e = job["energy"];
        const double u0 = e["per_unit"]["unit_0"]["value"].get<double>(),
                     u1 = e["per_unit"]["unit_1"]["value"].get<double>();
        CHECK(u0 > 0.0);
        CHECK(u1 > 0.0);
        CHECK(u0 + u1 == Approx(e["per_block"]["sram"]["value"].get<double>() +
                                e["per_block"]["datapath"]["value"].get<double>()));
    }
    CHECK_THAT(r.out, Contains("unit 1: sram + datapath"));
}

TEST_CASE("cli/energy: each memory preset bills its own energy per bit, explicit tech.dram.* wins",
          "[cli][energy]") {
    TempDir dir;
    struct Run {
        double read_pj = 0, write_pj = 0, per_bit_read = 0, per_bit_write = 0, bytes = 0;
        std::string memory_line;
    };
    auto run = [&](std::vector<std::string> more) {
        more.push_back("--compare=false");
        RunResult r;
        const auto job = run_stats(dir, small(more), &r)["jobs"][0];
        Run out;
        for (const auto& l : job["energy"]["lines"]) {
            if (l["block"] != "dram") continue;
            (l["action"] == "read" ? out.read_pj : out.write_pj) = l["pJ"].get<double>();
            (l["action"] == "read" ? out.per_bit_read : out.per_bit_write) =
                l["per_event"].get<double>();
        }
        out.bytes = job["mem_read_bytes"]["value"].get<double>() +
                    job["mem_write_bytes"]["value"].get<double>();
        out.memory_line = line_starting(r.out, "memory:");
        return out;
    };
    const Run lp = run({"--dram.preset", "lpddr4"}), hbm = run({"--dram.preset", "hbm2"}),
              ddr = run({"--dram.preset", "ddr4"}), rr = run({"--dram.preset", "reram"});
    // Each preset's table (platforms/components/memory.cpp, docs/energy.md).
    CHECK(lp.per_bit_read == 8.0);
    CHECK(hbm.per_bit_read == 3.9);
    CHECK(ddr.per_bit_read == 45.0);
    CHECK(rr.per_bit_read == 3.1);
    CHECK(rr.per_bit_write == 24.4);
    // The same job moves the same bytes on every memory: its memory energy scales by the tables.
    CHECK(hbm.bytes == lp.bytes);
    CHECK(hbm.read_pj / lp.read_pj == Approx(3.9 / 8.0));
    CHECK(hbm.write_pj / lp.write_pj == Approx(3.9 / 8.0));
    CHECK(rr.write_pj / lp.write_pj == Approx(24.4 / 8.0));
    CHECK_THAT(hbm.memory_line, Contains("hbm2") && Contains("3.9/3.9 pJ/bit read/write"));
    CHECK_THAT(rr.memory_line, Contains("3.1/24.4 pJ/bit read/write"));
    // An explicit value wins over the preset, in either order.
    CHECK(run({"--dram.preset", "hbm2", "--tech.dram.read", "5"}).per_bit_read == 5.0);
    CHECK(run({"--tech.dram.read", "5", "--dram.preset", "hbm2"}).per_bit_read == 5.0);
    // A written configuration keeps the preset's energy as a comment, so another preset read back
    // with it brings its own.
    const std::string ini = dir.file("hbm.ini");
    const RunResult dry =
        run_sim(dir, small({"--dram.preset", "hbm2", "--dry-run", "--dump-config", ini}));
    REQUIRE(dry.exit_code == kOk);
    const std::string text = read_text(ini);
    const auto section = text.find("[tech.dram]");
    REQUIRE(section != std::string::npos);
    CHECK(text.find("# read = 3.9", section) != std::string::npos);
    CHECK(run({"--config", ini, "--dram.preset", "reram"}).per_bit_read == 3.1);
    CHECK(run({"--config", ini}).per_bit_read == 3.9);
}

TEST_CASE("cli/energy: --tech FILE and tech.* options set the table - bad files exit 2",
          "[cli][energy]") {
    TempDir dir;
    auto dram_uj = [&](std::vector<std::string> more) {
        const std::string f = dir.file("t.json");
        more.insert(more.end(), {"--compare=false", "--stats", f});
        run_ok(dir, small(more));
        return nlohmann::json::parse(
                   read_text(f))["jobs"][0]["energy"]["per_block"]["dram"]["value"]
            .get<double>();
    };
    const double base = dram_uj({});
    const std::string hbm = dir.file("hbm.json");
    write_text(hbm,
               R"({"name": "hbm", "entries": [{"block": "dram", "action": "read", "value": 4.0,)"
               R"( "unit": "pJ/bit", "source": "[X] HBM2"}, {"block": "dram", "action": "write",)"
               R"( "value": 4.0, "unit": "pJ/bit", "source": "[X] HBM2"}]})");
    CHECK(dram_uj({"--tech", hbm}) == Approx(base / 2));
    CHECK(dram_uj({"--tech.dram.read", "4", "--tech.dram.write", "4"}) == Approx(base / 2));
    CHECK(dram_uj({"--tech", hbm, "--tech.dram.read", "8", "--tech.dram.write", "8"}) ==
          Approx(base));  // explicit values win over the file
    const std::string bad = dir.file("bad.json");
    write_text(
        bad,
        R"({"entries": [{"block": "dram", "action": "reed", "value": 1, "unit": "pJ/bit", "source": "x"}]})");
    check_bad_input(dir, small({"--tech", bad}), {"--tech", bad, "dram.reed"});
    write_text(bad, "{not json");
    check_bad_input(dir, small({"--tech", bad}), {"--tech", bad});
}

TEST_CASE(
    "cli/energy: --tech reads Accelergy ERT and ART files - per access and per instance "
    "in the model's units",
    "[cli][energy]") {
    TempDir dir;
    const std::string src = SPRINT_SOURCE_DIR;
    const std::string ert = src + "/tech/accelergy/ERT.yaml",
                      art = src + "/tech/accelergy/ART.yaml";
    const std::string f = dir.file("a.json");
    RunResult r;
    run_ok(dir, small({"--tech", ert + "," + art, "--compare=false", "--stats", f}), &r);
    const auto doc = nlohmann::json::parse(read_text(f));
    const auto& cfg = doc["config"];
    CHECK(cfg["tech.dram.read"] == 4.0);  // 256 pJ per 64-bit access
    CHECK(cfg["tech.dram.write"] == 4.0);
    CHECK(cfg["tech.sram.read"] == 2.25);     // 18 pJ per 64-bit access; the plain entry, not
    CHECK(cfg["tech.sram.write"] == 1.75);    // the one with arguments
    CHECK(cfg["tech.xbar.leakage"] == 0.08);  // idle 0.08 pJ per 1 ns cycle
    CHECK(cfg["tech.xbar.area"] == 0.025);    // 25,000 um^2 per tile
    CHECK(cfg["tech.sram.area"] == 0.012);    // 192,000 um^2 per 16 KB
    CHECK(cfg["tech.xbar.mac"] == 0.1);
    // What the model has not is said, not dropped silently.
    CHECK_THAT(r.err, Contains("ignored system.sprint.noc"));
    CHECK_THAT(r.err, Contains("ignored system.DRAM.idle"));
    // The energy used them: the DRAM lines are half the built-in 8 pJ/bit ones.
    double dram_bits = 0.0, dram_pj = 0.0;
    for (const auto& l : doc["jobs"][0]["energy"]["lines"])
        if (l["block"] == "dram") {
            dram_bits += l["count"].get<double>();
            dram_pj += l["pJ"].get<double>();
        }
    CHECK(dram_pj == Approx(4.0 * dram_bits));
    // The leakage follows the clock: at 2 ns per cycle, idle 0.08 pJ per cycle is 0.04 mW.
    const std::string f2 = dir.file("c.json");
    run_ok(dir, small({"--tech", ert, "--sprint.clock_ns", "2", "--compare=false", "--stats", f2}));
    CHECK(nlohmann::json::parse(read_text(f2))["config"]["tech.xbar.leakage"] == 0.04);

    // Bad tables name what is wrong and exit 2 before simulating.
    const std::string bad = dir.file("bad.yaml");
    write_text(bad,
               "ERT:\n  tables:\n  - name: top.sram\n    actions:\n    - name: read\n"
               "      energy: 18\n");
    check_bad_input(dir, small({"--tech", bad}), {"--tech", "top.sram", "width"});
    write_text(bad,
               "ERT:\n  tables:\n  - name: top.xbar\n    actions:\n    - name: mac\n"
               "      arguments: {a: 1}\n      energy: 1\n    - name: mac\n"
               "      arguments: {a: 2}\n      energy: 2\n");
    check_bad_input(dir, small({"--tech", bad}), {"top.xbar", "mac", "arguments: null"});
    write_text(bad,
               "ERT:\n  tables:\n  - name: top.noc\n    actions:\n    - name: hop\n"
               "      energy: 1\n");
    check_bad_input(dir, small({"--tech", bad}), {"no table", "--dump-tech"});
    write_text(bad, "tables: []\n");
    check_bad_input(dir, small({"--tech", bad}), {"'ERT:' or 'ART:'"});
    write_text(bad, "ERT: [unclosed\n");
    check_bad_input(dir, small({"--tech", bad}), {"YAML"});
    check_bad_input(dir, small({"--tech", ert + "," + dir.file("none.yaml")}),
                    {"--tech", "none.yaml"});
}

// Every count the energy uses, per head, against what the head's shape and its fetched and kept
// rows make it by hand (d = 64, one unit, 8 query contexts for the dense baseline, K-MSB
// read-back of 4 of 8 bits, int16 output, every K/V row of a head fits the 8 KB buffers).
void check_hand_counts(const nlohmann::json& doc, bool causal) {
    const double d = 64, entry = regs::kHeadEntryBytes;
    for (const auto& job : doc["jobs"]) {
        const std::string mode = job["mode"];
        INFO("mode " << mode << (causal ? ", causal" : ""));
        const auto& m = job["model"];
        double dram_rd = 0, dram_wr = 0, dynamic = 0;
        for (std::size_t h = 0; h < job["per_head"].size(); ++h) {
            INFO("head " << h);
            const auto& ph = job["per_head"][h];
            const double L = ph["queries"]["value"], vis = ph["visible_pairs"]["value"],
                         kept = ph["kept_pairs"]["value"], kf = ph["k_rows_fetched"]["value"],
                         vf = ph["v_rows_fetched"]["value"];
            auto n = [&](std::initializer_list<const char*> path) {
                const nlohmann::json* p = &m;
                for (const char* k : path) p = &(*p)[k];
                const auto& a = (*p)["per_head"];
                return h < a.size() ? a[h].get<double>() : 0.0;
            };
            CHECK(n({"controller", "queries"}) == L);
            CHECK(n({"fetcher", "mem_write_bytes"}) == 2 * L * d);  // int16 output rows
            CHECK(n({"unit_0", "sram", "write_bytes"}) == (kf + vf) * d);
            const double qk = n({"unit_0", "datapath", "qk_macs"}),
                         v = n({"unit_0", "datapath", "v_macs"}),
                         ex = n({"unit_0", "datapath", "exp_ops"}),
                         dv = n({"unit_0", "datapath", "div_ops"}),
                         sr = n({"unit_0", "sram", "read_bytes"}),
                         rd = n({"fetcher", "mem_read_bytes"});
            CHECK(dv == L * d);  // fixed softmax: one division per output element
            CHECK(ex == kept);   // one exponential per kept key
            if (mode == "sprint") {
                CHECK(n({"xbar", "analog_macs"}) == vis * d);  // every visible key, every query
                CHECK(n({"comparators", "decisions"}) == vis);
                CHECK(n({"xbar", "cell_writes"}) == L * d);  // each valid key programmed once
                CHECK(n({"xbar", "keys_read_back"}) == kf);
                CHECK(kf == vf);
                CHECK(qk == kept * d);
                CHECK(v == kept * d);
                CHECK(ex == kept);
                CHECK(sr == 2 * kept * d);
                // head entry, Q rows, K rows to program, the low half of each fetched K row, V rows
                CHECK(rd == entry + L * d + L * d + kf * d / 2 + vf * d);
            } else {
                CHECK(n({"xbar", "analog_macs"}) == 0);
                CHECK(n({"comparators", "decisions"}) == 0);
                CHECK(n({"xbar", "cell_writes"}) == 0);
                CHECK(rd == entry + L * d + (kf + vf) * d);
                CHECK(kf == L);  // all keys, each once (they fit)
                if (mode == "onchip-prune") {
                    CHECK(qk == vis * d);  // exact scores of every visible key
                    CHECK(v == kept * d);
                    CHECK(ex == kept);
                    CHECK(sr == (vis + kept) * d);
                } else {
                    CHECK(vf == L);
                    CHECK(qk == vis * d);
                    CHECK(v == vis * d);
                    CHECK(ex == vis);
                    if (mode == "dense-stream") {
                        CHECK(sr == 2 * vis * d);  // every query reads its rows
                    } else {  // blocks of 8 queries read each row once for all 8
                        double rows = 0;
                        for (double b = 0; b * 8 < L; ++b)
                            rows += causal ? std::min(8 * b + 8, L) : L;
                        CHECK(sr == 2 * rows * d);
                    }
                }
            }
            dram_rd += rd;
            dram_wr += n({"fetcher", "mem_write_bytes"});
            // The head's energy: its counts x the table.
            const auto& he = job["energy"]["per_head"][h];
            CHECK(he["queries"]["value"] == L);
            dynamic += he["dynamic"]["value"].get<double>();
        }
        // The heads' traffic is the job's registers'; their energy is the job's without leakage.
        CHECK(dram_rd == job["mem_read_bytes"]["value"].get<double>());
        CHECK(dram_wr == job["mem_write_bytes"]["value"].get<double>());
        double leakage = 0;
        for (const auto& l : job["energy"]["lines"])
            if (l["action"] == "leakage") leakage += l["pJ"].get<double>();
        CHECK(dynamic * 1e6 + leakage ==
              Approx(job["energy"]["total"]["value"].get<double>() * 1e6));
    }
}

TEST_CASE("cli/energy: every mode's counts per head are the ones worked out by hand",
          "[cli][energy]") {
    TempDir dir;
    const std::string f = dir.file("h.json");
    // Two heads of different valid lengths (80 and 89 of 96 with this seed), then causal.
    run_ok(dir, small({"--compare", "all", "--min-valid", "0.5", "--seed", "3", "--stats", f}));
    const auto doc = nlohmann::json::parse(read_text(f));
    REQUIRE(doc["jobs"].size() == 4);
    REQUIRE(doc["jobs"][0]["per_head"][0]["queries"]["value"] !=
            doc["jobs"][0]["per_head"][1]["queries"]["value"]);
    check_hand_counts(doc, false);
    run_ok(dir, small({"--compare", "all", "--causal", "--stats", f}));
    check_hand_counts(nlohmann::json::parse(read_text(f)), true);
    // The paper's 16-bit outputs: half the output bytes, and half their write energy.
    run_ok(dir, small({"--output-format", "int16", "--compare=false", "--stats", f}));
    const auto j = nlohmann::json::parse(read_text(f))["jobs"][0];
    double rows = 0;
    for (const auto& ph : j["per_head"]) rows += ph["queries"]["value"].get<double>();
    CHECK(j["mem_write_bytes"]["value"].get<double>() == 2 * rows * 64);
    for (const auto& l : j["energy"]["lines"])
        if (l["block"] == "dram" && l["action"] == "write")
            CHECK(l["pJ"].get<double>() == Approx(2 * rows * 64 * 8 * 8.0));  // 8 pJ/bit
}

TEST_CASE(
    "cli/energy: S, M and L compute the same output with the same work, at their own "
    "cost and area",
    "[cli][energy]") {
    TempDir dir;
    struct Run {
        std::string out;
        double kept, qk, area;
    };
    auto run = [&](const char* preset) {
        const std::string f = dir.file(std::string(preset) + ".json"),
                          o = dir.file(std::string(preset) + ".npy");
        run_ok(dir, small({"--preset", preset, "--compare=false", "--stats", f, "--output", o}));
        const auto j = nlohmann::json::parse(read_text(f))["jobs"][0];
        double qk = 0;
        for (const auto& l : j["energy"]["lines"])
            if (l["block"] == "datapath" && l["action"] == "qk_mac") qk = l["count"];
        return Run{read_text(o), j["kept_keys"]["value"], qk, j["energy"]["area"]["value"]};
    };
    const Run s = run("S"), m = run("M"), l = run("L");
    CHECK(s.out == m.out);
    CHECK(s.out == l.out);
    CHECK(s.kept == m.kept);
    CHECK(s.kept == l.kept);
    CHECK(s.qk == m.qk);  // the same MACs, spread over 1, 2 or 4 datapaths
    CHECK(s.qk == l.qk);
    CHECK(s.area < m.area);
    CHECK(m.area < l.area);
}

TEST_CASE("cli/energy: K programming costs writes, time and K reads - resident K costs none",
          "[cli][energy]") {
    TempDir dir;
    auto job = [&](const char* resident, const std::string& out) {
        const std::string f = dir.file(std::string("r_") + resident + ".json");
        run_ok(dir, small({"--sprint.xbar.k_resident", resident, "--compare=false", "--stats", f,
                           "--output", out}));
        return nlohmann::json::parse(read_text(f))["jobs"][0];
    };
    const auto prog = job("false", dir.file("p.npy")), res = job("true", dir.file("r.npy"));
    // 2 heads x 96 keys x 64 cells programmed; each head takes tiles of its own (the array
    // holds 32 heads of 96 keys): 1 write on the most written cell, and the cells survive 1e6
    // such jobs.
    CHECK(prog["model"]["xbar"]["cell_writes"]["value"] == 2 * 96 * 64);
    CHECK(prog["energy"]["max_cell_writes"]["value"] == 1);
    CHECK(prog["energy"]["jobs_to_endurance"]["value"].get<double>() == Approx(1e6));
    CHECK(res["model"]["xbar"]["cell_writes"]["value"] == 0);
    CHECK(res["model"]["xbar"]["keys_resident"]["value"] == 2 * 96);
    CHECK(res["energy"]["max_cell_writes"]["value"] == 0);
    // Resident K: no K rows read to program, less time, the same output.
    CHECK(prog["mem_read_bytes"]["value"].get<uint64_t>() -
              res["mem_read_bytes"]["value"].get<uint64_t>() ==
          2u * 96 * 64);
    CHECK(res["cycles"]["value"].get<double>() < prog["cycles"]["value"].get<double>());
    CHECK(read_text(dir.file("p.npy")) == read_text(dir.file("r.npy")));
}

TEST_CASE("cli/stats: --compare=false writes one job", "[cli]") {
    TempDir dir;
    const std::string f = dir.file("s.json");
    run_ok(dir, small({"--stats", f, "--compare=false", "--mode", "onchip-prune"}));
    const auto j = nlohmann::json::parse(read_text(f));
    REQUIRE(j["jobs"].size() == 1);
    CHECK(j["jobs"][0]["mode"] == "onchip-prune");
}

// ---- --vcd
// ------------------------------------------------------------------------------------------

TEST_CASE("cli/vcd: waveform file with 1 ps timescale traced signals and value changes", "[cli]") {
    TempDir dir;
    const std::string f = dir.file("w.vcd");
    run_ok(dir, small({"--vcd", f, "--compare=false"}));
    REQUIRE(file_exists(f));
    const Vcd v = parse_vcd(read_text(f));
    CHECK(v.timescale == "1 ps");
    for (const char* name :
         {"sprint.controller.state", "sprint.controller.query", "sprint.fetcher.outstanding",
          "sprint.unit_0.sram.occupancy_k", "irq"}) {
        INFO(name);
        CHECK_FALSE(v.find(name).empty());
    }
    CHECK(v.timestamps > 10);
    CHECK(v.times_increase);
    auto values = [&](const char* name) {
        const auto it = v.values.find(v.find(name));
        return it == v.values.end() ? std::vector<std::string>{} : it->second;
    };
    const auto state = values("sprint.controller.state");
    CHECK(std::set<std::string>(state.begin(), state.end()).size() >= 2);
    const auto irq = values("irq");
    CHECK(std::find(irq.begin(), irq.end(), "1") != irq.end());
    const auto outstanding = values("sprint.fetcher.outstanding");
    CHECK(std::any_of(outstanding.begin(), outstanding.end(),
                      [](const std::string& s) { return s.find('1') != std::string::npos; }));
}

TEST_CASE("cli/vcd: every compute unit's buffers and datapath are traced and active", "[cli]") {
    TempDir dir;
    const std::string f = dir.file("w.vcd");
    run_ok(dir, small({"--vcd", f, "--preset", "M", "--compare=false"}));
    const Vcd v = parse_vcd(read_text(f));
    for (const char* name : {"sprint.unit_0.datapath.busy", "sprint.unit_1.datapath.busy",
                             "sprint.unit_0.sram.occupancy_k", "sprint.unit_1.sram.occupancy_v"}) {
        INFO(name);
        REQUIRE_FALSE(v.find(name).empty());
        const auto it = v.values.find(v.find(name));
        REQUIRE(it != v.values.end());
        CHECK(std::set<std::string>(it->second.begin(), it->second.end()).size() >= 2);
    }
}

// ---- --dump-regmap
// ----------------------------------------------------------------------------------

namespace {

// (offset, name) of every row "| 0x... | NAME | ..." of a Markdown register table.
std::map<uint32_t, std::string> register_rows(const std::string& text) {
    std::map<uint32_t, std::string> rows;
    for (const auto& l : split_lines(text)) {
        std::vector<std::string> cells;
        std::stringstream ss(l);
        std::string c;
        while (std::getline(ss, c, '|')) cells.push_back(squash_spaces(c));
        // "| 0x000 | ID | ..." splits into "", "0x000", "ID", ...
        if (cells.size() < 3 || cells[1].rfind("0x", 0) != 0) continue;
        std::string name = cells[2];
        name.erase(std::remove(name.begin(), name.end(), '`'), name.end());
        const bool reg_name = !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
            return std::isupper(static_cast<unsigned char>(ch)) ||
                   std::isdigit(static_cast<unsigned char>(ch)) || ch == '_';
        });
        const unsigned long offset = std::stoul(cells[1], nullptr, 16);
        // Other tables (an address map, say) have hex first columns too; registers live in the
        // CSR window and have upper-case names.
        if (reg_name && offset < regs::kCsrWindowBytes) rows[uint32_t(offset)] = name;
    }
    return rows;
}

}  // namespace

TEST_CASE("cli/regmap: --dump-regmap prints the register table and does not simulate", "[cli]") {
    TempDir dir;
    const RunResult r = run_sim(dir, {"--dump-regmap"});
    SHOW(r);
    REQUIRE(r.exit_code == kOk);
    CHECK(r.err.empty());
    CHECK_FALSE(parse_summary(r.out).found());
    CHECK_THAT(r.out, Contains("| offset | register | access | reset | description |"));
    const auto rows = register_rows(r.out);
    // The offsets as tlm_interfaces/register_map.h declares them.
    const std::map<uint32_t, std::string> header = {{regs::ID, "ID"},
                                                    {regs::VERSION, "VERSION"},
                                                    {regs::CTRL, "CTRL"},
                                                    {regs::STATUS, "STATUS"},
                                                    {regs::IRQ_ENABLE, "IRQ_ENABLE"},
                                                    {regs::IRQ_STATUS, "IRQ_STATUS"},
                                                    {regs::JOB_CFG, "JOB_CFG"},
                                                    {regs::HEADS, "HEADS"},
                                                    {regs::SEQ_LEN, "SEQ_LEN"},
                                                    {regs::HEAD_DIM, "HEAD_DIM"},
                                                    {regs::Q_BASE_LO, "Q_BASE_LO"},
                                                    {regs::Q_BASE_HI, "Q_BASE_HI"},
                                                    {regs::K_BASE_LO, "K_BASE_LO"},
                                                    {regs::K_BASE_HI, "K_BASE_HI"},
                                                    {regs::V_BASE_LO, "V_BASE_LO"},
                                                    {regs::V_BASE_HI, "V_BASE_HI"},
                                                    {regs::OUT_BASE_LO, "OUT_BASE_LO"},
                                                    {regs::OUT_BASE_HI, "OUT_BASE_HI"},
                                                    {regs::HEAD_TABLE_LO, "HEAD_TABLE_LO"},
                                                    {regs::HEAD_TABLE_HI, "HEAD_TABLE_HI"},
                                                    {regs::CYCLES_LO, "CYCLES_LO"},
                                                    {regs::CYCLES_HI, "CYCLES_HI"},
                                                    {regs::MEM_RD_BYTES_LO, "MEM_RD_BYTES_LO"},
                                                    {regs::MEM_RD_BYTES_HI, "MEM_RD_BYTES_HI"},
                                                    {regs::MEM_WR_BYTES_LO, "MEM_WR_BYTES_LO"},
                                                    {regs::MEM_WR_BYTES_HI, "MEM_WR_BYTES_HI"},
                                                    {regs::KEPT_KEYS_LO, "KEPT_KEYS_LO"},
                                                    {regs::KEPT_KEYS_HI, "KEPT_KEYS_HI"},
                                                    {regs::K_ROWS_FETCHED_LO, "K_ROWS_FETCHED_LO"},
                                                    {regs::K_ROWS_FETCHED_HI, "K_ROWS_FETCHED_HI"},
                                                    {regs::V_ROWS_FETCHED_LO, "V_ROWS_FETCHED_LO"},
                                                    {regs::V_ROWS_FETCHED_HI, "V_ROWS_FETCHED_HI"},
                                                    {regs::CAP_MAX_SEQ, "CAP_MAX_SEQ"},
                                                    {regs::CAP_MAX_DIM, "CAP_MAX_DIM"},
                                                    {regs::CAP_KEY_BITS, "CAP_KEY_BITS"},
                                                    {regs::K_LSB_BASE_LO, "K_LSB_BASE_LO"},
                                                    {regs::K_LSB_BASE_HI, "K_LSB_BASE_HI"}};
    CHECK(rows == header);
    CHECK(rows.size() == regs::register_map().size());
    CHECK_THAT(r.out, Contains("| 0x000 | ID | RO | 0x53505254 |"));
    CHECK_THAT(r.out, Contains("Error codes"));

    SECTION("--dump-regmap with run options prints the table and still does not simulate") {
        const RunResult both = run_sim(
            dir, small({"--dump-regmap", "--compare=false", "--stats", dir.file("s.json")}));
        SHOW(both);
        REQUIRE(both.exit_code == kOk);
        CHECK(register_rows(both.out) == header);
        CHECK_FALSE(parse_summary(both.out).found());
        CHECK_FALSE(std::filesystem::exists(dir.file("s.json")));
    }
}

TEST_CASE("cli/dry-run: checks everything and writes --dump-config, simulates nothing", "[cli]") {
    TempDir dir;
    const RunResult r =
        run_sim(dir, small({"--dry-run", "--dump-config", dir.file("run.ini"), "--timing", "at"}));
    SHOW(r);
    REQUIRE(r.exit_code == kOk);
    CHECK_THAT(r.out, Contains("sprint-sim: dry run: 2 heads x N=96 x d=64, 2 job(s) checked"));
    CHECK_THAT(r.out, Contains("nothing simulated; configuration written to"));
    CHECK_FALSE(parse_summary(r.out).found());
    // The configuration it wrote runs.
    const std::string ini = read_text(dir.file("run.ini"));
    CHECK_THAT(ini, Contains("timing = at"));
    const RunResult again = run_sim(dir, {"--config", dir.file("run.ini"), "--compare=false"});
    SHOW(again);
    CHECK(again.exit_code == kOk);
    CHECK(parse_summary(again.out).found());
    // A job that does not fit fails the dry run as it would fail the run, writing nothing.
    const RunResult big = run_sim(dir, {"--heads", "12", "--dry-run", "--dram.size_mb", "1",
                                        "--dump-config", dir.file("big.ini")});
    SHOW(big);
    CHECK(big.exit_code == kBad);
    CHECK_THAT(big.err, Contains("MiB of memory but dram.size_mb is 1"));
    CHECK_FALSE(std::filesystem::exists(dir.file("big.ini")));
    // Outputs of a simulation are refused.
    const RunResult stats = run_sim(dir, small({"--dry-run", "--stats", dir.file("s.json")}));
    CHECK(stats.exit_code == kBad);
    CHECK_THAT(stats.err, Contains("option '--dry-run' simulates nothing"));
    CHECK_FALSE(std::filesystem::exists(dir.file("s.json")));
}

TEST_CASE("cli/version: --version prints the version and commit, the stats JSON has them too",
          "[cli]") {
    TempDir dir;
    const RunResult v = run_sim(dir, {"--version", "--heads", "2"});
    SHOW(v);
    REQUIRE(v.exit_code == kOk);
    CHECK_THAT(v.out, Contains("sprint-sim " + std::string(platform::tool_version()) + " (git " +
                               platform::tool_commit() + ")\n"));
    CHECK_FALSE(parse_summary(v.out).found());
    const RunResult r = run_sim(dir, small({"--compare=false", "--stats", dir.file("s.json")}));
    REQUIRE(r.exit_code == kOk);
    const auto j = nlohmann::json::parse(read_text(dir.file("s.json")));
    CHECK(j.at("version") == platform::tool_version());
    CHECK(j.at("git_commit") == platform::tool_commit());
    for (const char* k : {"setup_seconds", "wall_seconds", "check_seconds"}) {
        CHECK(j.at(k).at("unit") == "s");
        CHECK(j.at(k).at("value").get<double>() >= 0.0);
    }
    // The VCD opens with the same provenance as a $comment.
    const RunResult w = run_sim(dir, small({"--compare=false", "--vcd", dir.file("w.vcd")}));
    REQUIRE(w.exit_code == kOk);
    const std::string vcd = read_text(dir.file("w.vcd"));
    CHECK(vcd.rfind("$comment\nsprint-sim " + std::string(platform::tool_version()) + " (git " +
                        platform::tool_commit() + ") on ",
                    0) == 0);
    CHECK_THAT(vcd.substr(0, 400), Contains("; command: " + sim_path() + " --heads 2"));
    // The summary names the three phases apart.
    CHECK_THAT(r.out, Contains("host time: set-up "));
    CHECK_THAT(r.out, Contains(" s, simulation "));
    CHECK_THAT(r.out, Contains(" s, checks after it "));
}

TEST_CASE(
    "cli/progress: a progress line on a terminal only and never with --quiet, -v sets the "
    "verbosity",
    "[cli]") {
    TempDir dir;
    // A run of a few seconds under a pseudo-terminal (script from util-linux).
    const std::string run = sim_path() +
                            " --heads 1 --seq-len 4096 --compare=false --fidelity=false "
                            "--verify=false";
    auto on_tty = [&](const std::string& extra) {
        const std::string cmd = "script -qec '" + run + extra + "' /dev/null 2>&1";
        FILE* f = popen(cmd.c_str(), "r");
        REQUIRE(f);
        std::string out;
        char buf[4096];
        while (std::fgets(buf, sizeof buf, f)) out += buf;
        CHECK(pclose(f) == 0);
        return out;
    };
    const std::string shown = on_tty("");
    CHECK_THAT(shown, Contains("sprint-sim: job 1 of 1, heads "));
    CHECK_THAT(shown, Contains(" of 1, queries "));
    CHECK_THAT(shown, Contains(" of 4096, simulated "));
    CHECK_THAT(shown, Contains("host time: set-up "));
    const std::string quiet = on_tty(" --quiet");
    CHECK_THAT(quiet, !Contains("queries/s"));
    CHECK_THAT(quiet, Contains("host time: set-up "));
    // Not a terminal: nothing on stderr.
    const RunResult plain = run_sim(dir, {"--heads", "1", "--seq-len", "4096", "--compare=false",
                                          "--fidelity=false", "--verify=false"});
    REQUIRE(plain.exit_code == kOk);
    CHECK(plain.err.empty());
    // -vv is --verbosity=high: the kernel's info messages show.
    const RunResult vv = run_sim(dir, small({"-vv", "--compare=false"}));
    SHOW(vv);
    REQUIRE(vv.exit_code == kOk);
    CHECK_THAT(vv.out + vv.err, Contains("Info: "));
    const RunResult low = run_sim(dir, small({"--compare=false"}));
    CHECK_THAT(low.out + low.err, !Contains("Info: "));
}

TEST_CASE(
    "cli/trace: --trace-tlm lists every csr and mem transaction, its bytes equal the "
    "stats in LT and AT, --trace-stl one line per burst in time order",
    "[cli]") {
    TempDir dir;
    for (const std::string timing : {"lt", "at"}) {
        INFO("timing " << timing);
        const std::string csv = dir.file("t-" + timing + ".csv"),
                          stl = dir.file("t-" + timing + ".stl"),
                          json = dir.file("t-" + timing + ".json");
        const RunResult r =
            run_sim(dir, small({"--compare=false", "--timing", timing, "--trace-tlm", csv,
                                "--trace-stl", stl, "--stats", json}));
        SHOW(r);
        REQUIRE(r.exit_code == kOk);
        std::istringstream in(read_text(csv));
        std::string line;
        std::getline(in, line);
        CHECK(line ==
              "link,transport,command,address,length,response,begin_req_ps,end_req_ps,"
              "begin_resp_ps,end_resp_ps");
        uint64_t read = 0, written = 0, mem = 0, csr = 0;
        while (std::getline(in, line)) {
            std::vector<std::string> f;
            std::stringstream ls(line);
            std::string cell;
            while (std::getline(ls, cell, ',')) f.push_back(cell);
            if (f.size() == 9) f.emplace_back();  // an empty last cell
            REQUIRE(f.size() == 10);
            CHECK(f[5] == "ok");
            const double begin = std::stod(f[6]), end = std::stod(f[9]);
            CHECK(end >= begin);
            if (f[0] == "mem") {
                ++mem;
                CHECK(f[1] == (timing == "at" ? "nb" : "b"));
                if (timing == "at") {  // the four phases in order
                    CHECK(std::stod(f[7]) >= begin);
                    CHECK(std::stod(f[8]) >= std::stod(f[7]));
                    CHECK(end >= std::stod(f[8]));
                }
                (f[2] == "read" ? read : written) += std::stoull(f[4]);
            } else {
                CHECK(f[0] == "csr");
                ++csr;
            }
        }
        const auto j = nlohmann::json::parse(read_text(json));
        const auto& job = j["jobs"][0];
        CHECK(read == job["mem_read_bytes"]["value"].get<uint64_t>());
        CHECK(written == job["mem_write_bytes"]["value"].get<uint64_t>());
        CHECK(csr > 0);
        // STL: every granule of every mem access, timestamps never going back.
        std::istringstream sin(read_text(stl));
        uint64_t lines = 0, last = 0;
        while (std::getline(sin, line)) {
            ++lines;
            const uint64_t t = std::stoull(line.substr(0, line.find(':')));
            CHECK(t >= last);
            last = t;
            CHECK((line.find("\tread\t0x") != std::string::npos ||
                   line.find("\twrite\t0x") != std::string::npos));
        }
        CHECK(lines >= mem);
        CHECK(lines * 64 >= read + written);
    }
    // A trace that cannot be written fails the run; no other output is left behind.
    const RunResult full = run_sim(
        dir, small({"--compare=false", "--trace-tlm", "/dev/full", "--stats", dir.file("x.json")}));
    CHECK(full.exit_code == platform::kExitJobProblem);
    CHECK_THAT(full.err, Contains("trace-tlm"));
    CHECK_FALSE(std::filesystem::exists(dir.file("x.json")));
}

namespace {

// A CSV file with a header line, as rows of named cells (no quoting: the tool writes none).
std::vector<std::map<std::string, std::string>> read_csv(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    std::vector<std::string> names;
    std::vector<std::map<std::string, std::string>> rows;
    auto split = [](const std::string& l) {
        std::vector<std::string> f;
        std::string cell;
        std::stringstream ls(l);
        while (std::getline(ls, cell, ',')) f.push_back(cell);
        if (!l.empty() && l.back() == ',') f.emplace_back();
        return f;
    };
    if (std::getline(in, line)) names = split(line);
    while (std::getline(in, line)) {
        const auto f = split(line);
        REQUIRE(f.size() == names.size());
        std::map<std::string, std::string> r;
        for (std::size_t i = 0; i < f.size(); ++i) r[names[i]] = f[i];
        rows.push_back(r);
    }
    return rows;
}

double cell(const std::map<std::string, std::string>& r, const std::string& c) {
    const auto it = r.find(c);
    REQUIRE(it != r.end());
    return it->second.empty() ? 0.0 : std::stod(it->second);
}

// --per-query on one run: every count and energy column sums to the job's statistics.
void check_per_query(const std::vector<std::string>& args) {
    TempDir dir;
    const std::string csv = dir.file("q.csv"), json = dir.file("s.json");
    std::vector<std::string> a = small(args);
    a.insert(a.end(), {"--per-query", csv, "--stats", json});
    const RunResult r = run_sim(dir, a);
    SHOW(r);
    REQUIRE(r.exit_code == kOk);
    const auto rows = read_csv(read_text(csv));
    const auto j = nlohmann::json::parse(read_text(json));
    REQUIRE(!rows.empty());
    for (std::size_t ji = 0; ji < j["jobs"].size(); ++ji) {
        const auto& job = j["jobs"][ji];
        const auto& m = job["model"];
        INFO("job " << ji << " (" << job["mode"] << ")");
        auto sum = [&](const std::string& col, const char* kind = nullptr) {
            double t = 0;
            for (const auto& row : rows)
                if (row.at("job") == std::to_string(ji) && (!kind || row.at("row") == kind))
                    t += cell(row, col);
            return t;
        };
        auto value = [](const nlohmann::json& x) { return x["value"].get<double>(); };
        uint64_t queries = 0, heads = 0, jobs = 0;
        std::set<std::pair<int, int>> seen;
        for (const auto& row : rows) {
            if (row.at("job") != std::to_string(ji)) continue;
            CHECK(row.at("mode") == job["mode"].get<std::string>());
            if (row.at("row") == "head") ++heads;
            if (row.at("row") == "job") {
                ++jobs;
                CHECK(cell(row, "latency_cycles") == value(job["cycles"]));
            }
            if (row.at("row") != "query") continue;
            ++queries;
            CHECK(seen.insert({int(cell(row, "head")), int(cell(row, "query"))}).second);
            CHECK(cell(row, "lead") <= cell(row, "query"));
            CHECK(cell(row, "front_cycle") <= cell(row, "compute_begin_cycle"));
            CHECK(cell(row, "compute_begin_cycle") <= cell(row, "compute_end_cycle"));
            CHECK(cell(row, "compute_end_cycle") <= cell(row, "done_cycle"));
            CHECK(cell(row, "latency_cycles") ==
                  cell(row, "done_cycle") - cell(row, "front_cycle"));
            CHECK(cell(row, "kept") <= cell(row, "visible"));
            CHECK(cell(row, "kept") >= 1);
            CHECK(cell(row, "energy_pj") > 0);
        }
        CHECK(queries == m["controller"]["queries"]["value"].get<uint64_t>());
        CHECK(heads == m["controller"]["heads"]["value"].get<uint64_t>());
        CHECK(jobs == 1);
        CHECK(sum("kept") == value(job["kept_keys"]));
        CHECK(sum("visible") == value(m["controller"]["visible_pairs"]));
        CHECK(sum("k_rows_fetched") == value(job["k_rows_fetched"]));
        CHECK(sum("v_rows_fetched") == value(job["v_rows_fetched"]));
        CHECK(sum("k_rows_reused") == value(m["fetcher"]["rows_resident_k"]));
        CHECK(sum("v_rows_reused") == value(m["fetcher"]["rows_resident_v"]));
        CHECK(sum("mem_read_bytes") == value(job["mem_read_bytes"]));
        CHECK(sum("mem_write_bytes") == value(job["mem_write_bytes"]));
        const double total_pj = value(job["energy"]["total"]) * 1e6;
        CHECK(sum("energy_pj") == Approx(total_pj).epsilon(1e-6));
        for (const auto& [b, e] : job["energy"]["per_block"].items()) {
            INFO("block " << b);
            CHECK(sum("energy_" + b + "_pj") == Approx(value(e) * 1e6).epsilon(1e-6).margin(1e-3));
        }
        // The compute stages' time: the queries' and, on the job row, the wait after each unit's
        // last query.
        double busy = 0, wait = 0;
        for (const auto& [name, u] : m["controller"].items()) {
            if (name.rfind("unit_", 0) != 0) continue;
            busy += value(u["stage_compute"]["busy_ns"]);
            wait +=
                value(u["stage_compute"]["starved_ns"]) + value(u["stage_compute"]["blocked_ns"]);
        }
        CHECK(sum("compute_busy_cycles") == Approx(busy).margin(0.01));
        CHECK(sum("compute_wait_cycles") == Approx(wait).margin(0.01));
    }
}

}  // namespace

TEST_CASE(
    "cli/per-query: sprint and the dense baseline on 2 units, LT: the columns sum to the "
    "stats",
    "[cli]") {
    check_per_query({"--sprint.units", "2"});
}

TEST_CASE("cli/per-query: AT, on-chip pruning: the columns sum to the stats", "[cli]") {
    check_per_query({"--timing", "at", "--mode", "onchip-prune", "--compare=false"});
}

TEST_CASE(
    "cli/per-query: a head scored in crossbar passes: the "
    "columns sum to the stats",
    "[cli]") {
    check_per_query(
        {"--compare=false", "--sprint.xbar.tiles", "1", "--sprint.xbar.tile_cols", "32"});
}

TEST_CASE("cli/regmap: docs/registers.md agrees with --dump-regmap", "[cli]") {
    const std::string doc = std::string(SPRINT_SOURCE_DIR) + "/docs/registers.md";
    if (!file_exists(doc)) {
        WARN("docs/registers.md does not exist yet: nothing to compare");
        return;
    }
    TempDir dir;
    const RunResult r = run_sim(dir, {"--dump-regmap"});
    REQUIRE(r.exit_code == kOk);
    const auto from_tool = register_rows(r.out);
    const auto from_doc = register_rows(read_text(doc));
    INFO(
        "rows '| 0x<offset> | <name> | ...' of docs/registers.md against sprint-sim --dump-regmap");
    REQUIRE_FALSE(from_doc.empty());
    CHECK(from_doc == from_tool);
}

TEST_CASE(
    "cli/timing: --timing lt and --timing at write identical outputs and report their own cycles",
    "[cli]") {
    TempDir dir;
    const std::string lt_out = dir.file("lt.npy"), at_out = dir.file("at.npy");
    const SummaryTable lt = run_ok(dir, small({"--timing", "lt", "--output", lt_out}));
    const SummaryTable at = run_ok(dir, small({"--timing", "at", "--output", at_out}));
    REQUIRE(file_exists(lt_out));
    REQUIRE(file_exists(at_out));
    CHECK(read_text(lt_out) == read_text(at_out));  // bit-identical attention output
    CHECK(lt.row("bit-exact") == std::vector<std::string>{"yes", "yes"});
    CHECK(at.row("bit-exact") == std::vector<std::string>{"yes", "yes"});
    // Same bytes moved, different (documented) timing models.
    CHECK(lt.row("memory read") == at.row("memory read"));
    CHECK(lt.row("cycles") != at.row("cycles"));
}

TEST_CASE("cli/timing: --check-protocol finds no violation in either mode and names the mode",
          "[cli]") {
    TempDir dir;
    for (const char* mode : {"lt", "at"}) {
        const RunResult r =
            run_sim(dir, small({"--timing", mode, "--check-protocol", "--dram.jitter_ns", "40",
                                "--dram.queue_depth", "2"}));
        INFO(r.out << r.err);
        CHECK(r.exit_code == 0);
        CHECK(contains(r.out, std::string("IP (") + mode + ")"));
        CHECK(contains(r.out, "links, 0 violations"));
    }
    // The 4-phase protocol on mem in a loosely-timed model: the fetcher waits inside the
    // controller's b_transport and returns a smaller annotation, which TLM-2.0 allows.
    for (const char* mode : {"lt", "at"}) {
        const RunResult r = run_sim(dir, small({"--timing", mode, "--check-protocol",
                                                "--sprint.fetcher.mem_protocol", "nb"}));
        INFO(r.out << r.err);
        CHECK(r.exit_code == 0);
        CHECK(contains(r.out, "links, 0 violations"));
    }
}

// --fidelity=false and --verify=false skip the references and say so; everything the simulation
// itself produces (cycles, traffic, energy, kept and fetched counts, the output) is unchanged.
TEST_CASE("cli/checks: --fidelity=false and --verify=false skip the references, nothing else",
          "[cli]") {
    TempDir dir;
    auto job = [&](const std::vector<std::string>& more, SummaryTable& t) {
        const std::string f = dir.file("s.json"), o = dir.file("o.npy");
        std::vector<std::string> a = small({"--stats", f, "--output", o});
        a.insert(a.end(), more.begin(), more.end());
        t = run_ok(dir, a);
        return std::make_pair(nlohmann::json::parse(read_text(f)), read_text(o));
    };
    SummaryTable full, bare;
    const auto [fj, fo] = job({}, full);
    const auto [bj, bo] = job({"--fidelity=false", "--verify=false"}, bare);
    CHECK(bo == fo);
    for (const char* row : {"cycles", "memory read", "memory written", "keep fraction",
                            "K rows fetched", "new kept keys", "energy (uJ)"})
        CHECK(bare.row(row) == full.row(row));
    CHECK(full.row("bit-exact") == std::vector<std::string>{"yes", "yes"});
    CHECK(bare.row("bit-exact") == std::vector<std::string>{"skipped", "skipped"});
    for (const char* row : {"attention mass retained", "output rel. error", "output cosine"}) {
        CHECK(full.row(row)[0] != "skipped");
        CHECK(bare.row(row) == std::vector<std::string>{"skipped", "skipped"});
    }
    for (std::size_t k = 0; k < 2; ++k) {
        const auto& f = fj["jobs"][k];
        const auto& b = bj["jobs"][k];
        CHECK(f["bit_exact_vs_core"]["value"] == true);
        CHECK(b["bit_exact_vs_core"]["value"].is_null());
        CHECK(b["cycles"] == f["cycles"]);
        CHECK(b["kept_keys"] == f["kept_keys"]);
        CHECK(b["energy"]["total"] == f["energy"]["total"]);
        for (const char* key :
             {"visible_pairs", "kept_pairs", "keep_fraction", "ideal_new_fetch_fraction"})
            CHECK(b["fidelity"]["overall"][key] == f["fidelity"]["overall"][key]);
        for (const char* key :
             {"attention_mass_retained", "output_relative_l2_vs_dense_float",
              "output_cosine_vs_dense_float", "false_prune_rate", "false_keep_rate"}) {
            CHECK(f["fidelity"]["overall"][key]["value"].is_number());
            CHECK(b["fidelity"]["overall"][key]["value"].is_null());
            CHECK(b["fidelity"]["per_head"][0][key]["value"].is_null());
        }
    }
    // Either alone skips only its own part.
    SummaryTable only_fid, only_ver;
    job({"--fidelity=false"}, only_fid);
    job({"--verify=false"}, only_ver);
    CHECK(only_fid.row("bit-exact") == full.row("bit-exact"));
    CHECK(only_fid.row("attention mass") == bare.row("attention mass"));
    CHECK(only_ver.row("bit-exact") == bare.row("bit-exact"));
    CHECK(only_ver.row("attention mass") == full.row("attention mass"));
    // The sprint job's warnings need the references: none without them.
    CHECK_FALSE(contains(run_sim(dir, small({"--fidelity=false"})).out, "warning:"));
}

// ---- values out of range, and runs beyond the machine (issue 23, items 8 and 9) -----------------

TEST_CASE("cli/bad-option: values that cannot give a finite result are refused before simulating",
          "[cli]") {
    TempDir dir;
    SECTION("a technology value of 1e308 or 1e-300, in a JSON table or on the command line") {
        for (const char* v : {"1e308", "1e-300"}) {
            nlohmann::json t = core::TechTable::defaults().to_json();
            t["entries"][0]["value"] = std::stod(v);
            const std::string f = dir.file(std::string("tech-") + v + ".json");
            write_text(f, t.dump());
            check_bad_input(dir, small({"--tech", f}), {"'--tech'", "out of range", v});
            check_bad_input(dir, small({"--tech.dram.read", v}), {"dram.read", v});
        }
    }
    SECTION("an Accelergy table whose energy comes out at 1e308 pJ") {
        const std::string f = dir.file("huge.yaml");
        write_text(f,
                   "ERT:\n  tables:\n  - name: top.xbar\n    actions:\n    - name: mac\n"
                   "      energy: 1e308\n");
        check_bad_input(dir, small({"--tech", f}), {"--tech", "xbar.mac", "out of range"});
    }
    SECTION("an input element of 3e38 (finite in float32, beyond the model's range)") {
        core::Workload w = synthetic(2, 96, 64);
        w.v.data[7] = 3e38f;
        const QkvFiles f = write_qkv(dir, "", w);
        check_bad_input(dir, qkv_args(f), {"3e+38", "flat index 7", "1e+15"});
    }
    SECTION("the largest input magnitude the model takes gives finite figures") {
        core::Workload w = synthetic(2, 96, 64);
        w.q.data[3] = 1e15f;
        w.k.data[5] = -1e15f;
        w.v.data[7] = 1e15f;
        const QkvFiles f = write_qkv(dir, "", w);
        RunResult r;
        run_ok(dir, qkv_args(f), &r);
        CHECK_FALSE(contains(r.out, "inf"));
        CHECK_FALSE(contains(r.out, "nan"));
    }
    SECTION("an option name holding a placeholder of Boost's messages (it used to hang)") {
        const std::string ini = dir.file("placeholder.ini");
        write_text(ini, "x%canonical_option% = 1\n");
        check_bad_input(dir, small({"--config", ini}), {"placeholder.ini", "x%canonical_option%'"});
        check_bad_input(dir, small({"--x%canonical_option%", "1"}),
                        {"unrecognised option '--x%canonical_option%'"});
    }
    SECTION("a mistyped name or choice gets the nearest known ones") {
        check_bad_input(dir, small({"--sprint.sram.kbytes", "4096"}),
                        {"unrecognised option '--sprint.sram.kbytes'",
                         "(did you mean 'sprint.sram.k_bytes' or 'sprint.sram.v_bytes'?)"});
        check_bad_input(dir, small({"--dram.preset", "hbm3"}),
                        {"value 'hbm3' is not allowed", "(did you mean 'hbm2'?)"});
        const std::string ini = dir.file("typo.ini");
        write_text(ini, "[sprint.xbar]\nkey_bit = 4\n");
        check_bad_input(dir, small({"--config", ini}),
                        {"typo.ini", "did you mean 'sprint.xbar.key_bits'"});
    }
    SECTION("an INI value the command line overrides is still checked") {
        const std::string ini = dir.file("bad.ini");
        write_text(ini, "sprint.sram.k_bytes = 7\nheads = 0\n");
        check_bad_input(dir, small({"--config", ini, "--sprint.sram.k_bytes", "4096"}),
                        {"bad.ini", "sprint.sram.k_bytes", "'7'"});
    }
}

TEST_CASE(
    "cli/bad-option: a run needing more host memory than the machine has is refused with "
    "the figure",
    "[cli]") {
    TempDir dir;
    // 1024 heads x 65536 x 64 fits a 1 TB simulated memory but would take ~200 GiB on the host.
    const std::vector<std::string> huge = {"--heads",         "1024",           "--seq-len",
                                           "65536",           "--dram.size_mb", "1000000",
                                           "--compare=false", "--quiet"};
    const RunResult r = run_sim(dir, huge);
    SHOW(r);
    CHECK(r.exit_code == kBad);
    CHECK_THAT(r.err, Contains("MiB of host memory"));
    CHECK_THAT(r.err, Contains("more than this machine's"));
    CHECK(r.peak_rss_kib < 256 * 1024);  // refused from the shape, nothing allocated
}

TEST_CASE(
    "cli/stats: a job's peaks are its own - a baseline after sprint reports the peaks it "
    "reaches alone",
    "[cli]") {
    TempDir dir;
    // dense-stream holds every visible score of a query (96), far above sprint's kept keys; run
    // after dense (whose blocks hold more), its peaks used to read as the difference of the two.
    const nlohmann::json both = run_stats(dir, small({"--compare", "all"}));
    const nlohmann::json alone =
        run_stats(dir, small({"--mode", "dense-stream", "--compare=false"}));
    const nlohmann::json* stream = nullptr;
    for (const auto& j : both["jobs"])
        if (j["mode"] == "dense-stream") stream = &j;
    REQUIRE(stream);
    for (const char* peak : {"score_peak"}) {
        INFO(peak);
        const double a = alone["jobs"][0]["model"]["unit_0"]["datapath"][peak]["value"];
        CHECK(a > 0);
        CHECK((*stream)["model"]["unit_0"]["datapath"][peak]["value"].get<double>() == a);
    }
    for (const char* peak : {"peak_rows_k", "peak_rows_v"}) {
        INFO(peak);
        const double a = alone["jobs"][0]["model"]["unit_0"]["sram"][peak]["value"];
        CHECK(a > 0);
        CHECK((*stream)["model"]["unit_0"]["sram"][peak]["value"].get<double>() == a);
    }
}

TEST_CASE(
    "cli/rule: query-max keeps the mass asked for, tracks the max before deciding, and "
    "is refused where it cannot hold",
    "[cli]") {
    TempDir dir;
    const nlohmann::json head = run_stats(dir, small({"--keep-mass", "0.9"}));
    const nlohmann::json qmax =
        run_stats(dir, small({"--keep-mass", "0.9", "--sprint.comparators.rule", "query-max"}));
    const nlohmann::json& job = qmax["jobs"][0];
    CHECK(job["bit_exact_vs_core"]["value"] == true);
    CHECK(job["fidelity"]["overall"]["attention_mass_retained"]["value"].get<double>() >= 0.899);
    const auto& cmp = job["model"]["comparators"];
    // one max-tracking comparison per decision, priced as a decision
    CHECK(cmp["max_track_compares"]["value"] == cmp["decisions"]["value"]);
    CHECK(head["jobs"][0]["model"]["comparators"]["max_track_compares"]["value"] == 0);
    // a different rule keeps different keys
    CHECK(job["kept_keys"]["value"] != head["jobs"][0]["kept_keys"]["value"]);
    // A head in several crossbar passes cannot compare with its row's largest margin.
    check_bad_input(
        dir,
        std::vector<std::string>({"--heads", "1", "--seq-len", "300", "--sprint.xbar.tiles", "2",
                                  "--sprint.comparators.rule", "query-max"}),
        {"the query-max rule", "crossbar passes"});
    check_bad_input(
        dir,
        small({"--sprint.comparators.rule", "query-max", "--sprint.comparators.adc_bits", "6"}),
        {"sprint.comparators.rule query-max", "adc_topk"});
}
