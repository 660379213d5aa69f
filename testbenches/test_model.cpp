// sprint-sim --model FILE as a user meets it (a subprocess in a temporary directory): every layer
// of a model file in one process, a row per layer and the model's totals, each layer counted as
// often as it repeats; bad model files and layers that do not fit refused before anything runs.
#include <fstream>
#include <string>
#include <vector>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_checks.h"
#include "core/workload.h"
#include "platforms/sim/npy_io.h"

using namespace sprint;
using namespace sprint::test;
using Catch::Matchers::Contains;

namespace {

void write_file(const std::string& path, const std::string& text) {
    std::ofstream f(path);
    f << text;
}

// Layer "enc": a synthetic 2 x 96 layer, three times; layer "dec": Q/K/V files named relative to
// the model file, causal, once.
std::string two_layer_model(const TempDir& dir) {
    core::SyntheticSpec s;
    s.heads = 2;
    s.n = 64;
    s.d = 64;
    s.seed = 7;
    const core::Workload w = core::generate_synthetic(s);
    platform::save_tensor_npy(dir.file("dq.npy"), w.q);
    platform::save_tensor_npy(dir.file("dk.npy"), w.k);
    platform::save_tensor_npy(dir.file("dv.npy"), w.v);
    const std::string path = dir.file("model.yaml");
    write_file(path,
               "name: two-layers\n"
               "layers:\n"
               "  - name: enc\n"
               "    repeat: 3\n"
               "    heads: 2\n"
               "    seq-len: 96\n"
               "  - name: dec\n"
               "    q: dq.npy\n"
               "    k: dk.npy\n"
               "    v: dv.npy\n"
               "    causal: true\n");
    return path;
}

std::vector<std::string> lines(const std::string& path) {
    std::ifstream f(path);
    std::vector<std::string> out;
    for (std::string l; std::getline(f, l);) out.push_back(l);
    return out;
}

double job_value(const nlohmann::json& doc, std::size_t job, const char* figure) {
    return doc["jobs"][job][figure]["value"].get<double>();
}

nlohmann::json stats_of(const TempDir& dir, std::vector<std::string> args, const char* name,
                        RunResult* r = nullptr) {
    const std::string f = dir.file(name);
    args.insert(args.end(), {"--stats", f});
    const RunResult res = run_sim(dir, args);
    SHOW(res);
    REQUIRE(res.exit_code == kOk);
    if (r) *r = res;
    std::ifstream in(f);
    return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE(
    "model: every layer in one process - a row each, totals are the layers' figures times their "
    "repeats, each layer's figures those it gets alone",
    "[model]") {
    TempDir dir;
    const std::string model = two_layer_model(dir);
    RunResult r;
    const nlohmann::json doc = stats_of(dir, {"--model", model}, "model.json", &r);
    CHECK_THAT(r.out, Contains("== layer enc (x3) =="));
    CHECK_THAT(r.out, Contains("== layer dec (x1) =="));
    CHECK_THAT(r.out, Contains("model two-layers"));
    CHECK_THAT(r.out, Contains("verdict: sprint is"));
    REQUIRE(doc["layers"].size() == 2);  // enc simulated once, counted three times
    const nlohmann::json& enc = doc["layers"][0]["stats"];
    const nlohmann::json& dec = doc["layers"][1]["stats"];
    CHECK(doc["layers"][0]["repeat"] == 3);
    CHECK(dec["workload"]["causal"] == true);
    for (const auto* l : {&enc, &dec})
        for (std::size_t j = 0; j < 2; ++j)
            CHECK((*l)["jobs"][j]["bit_exact_vs_core"]["value"] == true);
    const char* modes[] = {"sprint", "dense"};
    for (std::size_t j = 0; j < 2; ++j) {
        INFO(modes[j]);
        const nlohmann::json& t = doc["totals"][modes[j]];
        CHECK(t["cycles"]["value"].get<double>() ==
              3 * job_value(enc, j, "cycles") + job_value(dec, j, "cycles"));
        CHECK(t["memory_bytes"]["value"].get<double>() ==
              3 * (job_value(enc, j, "mem_read_bytes") + job_value(enc, j, "mem_write_bytes")) +
                  job_value(dec, j, "mem_read_bytes") + job_value(dec, j, "mem_write_bytes"));
        CHECK(t["energy_uj"]["value"].get<double>() ==
              Approx(3 * enc["jobs"][j]["energy"]["total"]["value"].get<double>() +
                     dec["jobs"][j]["energy"]["total"]["value"].get<double>())
                  .epsilon(1e-9));
    }
    // In AT each layer alone gives the figures it got in the model (in LT a job's cycles also
    // depend on where it starts against the global quantum: a few percent).
    // --per-query: each layer's rows behind a layer column, the rows it writes alone.
    const nlohmann::json at =
        stats_of(dir, {"--model", model, "--timing", "at", "--per-query", dir.file("m.csv")},
                 "model_at.json");
    const nlohmann::json a = stats_of(
        dir,
        {"--heads", "2", "--seq-len", "96", "--timing", "at", "--per-query", dir.file("enc.csv")},
        "enc.json");
    const nlohmann::json b =
        stats_of(dir,
                 {"--q", dir.file("dq.npy"), "--k", dir.file("dk.npy"), "--v", dir.file("dv.npy"),
                  "--causal", "true", "--timing", "at", "--per-query", dir.file("dec.csv")},
                 "dec.json");
    const std::vector<std::string> rows = lines(dir.file("m.csv")),
                                   enc_rows = lines(dir.file("enc.csv")),
                                   dec_rows = lines(dir.file("dec.csv"));
    REQUIRE(rows.size() == enc_rows.size() + dec_rows.size() - 1);  // one header
    CHECK(rows[0] == "layer," + enc_rows[0]);
    for (std::size_t i = 1; i < enc_rows.size(); ++i) CHECK(rows[i] == "enc," + enc_rows[i]);
    for (std::size_t i = 1; i < dec_rows.size(); ++i)
        CHECK(rows[enc_rows.size() + i - 1] == "dec," + dec_rows[i]);
    for (std::size_t j = 0; j < 2; ++j) {
        CHECK(job_value(a, j, "cycles") == job_value(at["layers"][0]["stats"], j, "cycles"));
        CHECK(job_value(b, j, "cycles") == job_value(at["layers"][1]["stats"], j, "cycles"));
        CHECK(job_value(b, j, "mem_read_bytes") == job_value(dec, j, "mem_read_bytes"));
    }
}

TEST_CASE(
    "model: bad model files, options set twice and layers that do not fit are refused "
    "before anything runs",
    "[model]") {
    TempDir dir;
    auto model = [&](const std::string& name, const std::string& text) {
        write_file(dir.file(name), text);
        return dir.file(name);
    };
    check_bad_input(dir,
                    {"--model", model("a.yaml", "layers:\n  - name: a\n    sprint.units: 2\n")},
                    {"layer 1, 'sprint.units': not an option a layer may set"});
    check_bad_input(dir, {"--model", model("b.yaml", "layers:\n  - name: a\n    repeat: 0\n")},
                    {"'repeat': '0' is not a whole number"});
    check_bad_input(dir, {"--model", model("c.yaml", "layers:\n  - name: a\n  - name: a\n")},
                    {"two layers are named 'a'"});
    check_bad_input(dir, {"--model", model("d.yaml", "layers: 3\n")}, {"'layers' is a list"});
    check_bad_input(dir, {"--model", model("e.yaml", "name: x\n")}, {"no layers"});
    check_bad_input(dir, {"--model", dir.file("missing.yaml")}, {"--model", "missing.yaml"});
    const std::string ok = model("f.yaml", "layers:\n  - name: a\n    heads: 2\n    seq-len: 64\n");
    check_bad_input(dir, {"--model", ok, "--heads", "4"},
                    {"layer 'a' sets 'heads', which the command line sets too"});
    check_bad_input(dir, {"--model", ok, "--output", dir.file("o.npy")},
                    {"'--output' is not available with --model"});
    // Every layer that does not fit is named, and nothing is written.
    const std::string big = model("g.yaml",
                                  "layers:\n  - name: small\n    heads: 1\n    seq-len: 64\n"
                                  "  - name: huge\n    heads: 64\n    seq-len: 16384\n"
                                  "  - name: huge2\n    heads: 64\n    seq-len: 8192\n");
    check_bad_input(dir, {"--model", big, "--dram.size_mb", "64", "--stats", dir.file("s.json")},
                    {"layers that do not fit", "layer 'huge':", "layer 'huge2':"});
    CHECK_FALSE(std::ifstream(dir.file("s.json")).good());
    // A dry run checks every layer and simulates nothing.
    const RunResult d = run_sim(dir, {"--model", ok, "--dry-run"});
    CHECK(d.exit_code == kOk);
    CHECK_THAT(d.out, Contains("dry run: model f, 1 layers checked"));
}

TEST_CASE("model: --vcd holds every layer's waveforms, one after another", "[model]") {
    TempDir dir;
    const std::string model = two_layer_model(dir);
    const nlohmann::json doc =
        stats_of(dir, {"--model", model, "--vcd", dir.file("w.vcd")}, "m.json");
    // The last time stamp (ps) lies past the end of the last layer's last job: the layers ran in
    // turn on one IP, and the file covers them all.
    std::ifstream f(dir.file("w.vcd"));
    long long last = -1;
    for (std::string l; std::getline(f, l);)
        if (!l.empty() && l[0] == '#') last = std::stoll(l.substr(1));
    double cycles = 0;
    for (const auto& l : doc["layers"])
        for (const auto& j : l["stats"]["jobs"]) cycles += j["cycles"]["value"].get<double>();
    CHECK(double(last) >= cycles * 1000.0);  // 1 GHz: 1000 ps a cycle
    check_bad_input(dir, {"--model", model, "--vcd", dir.file("w.fst")},
                    {"FST is not available with --model"});
}
