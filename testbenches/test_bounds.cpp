// The timing bounds sprint-sim reports (the --stats "bounds" of every job) hold, and each job
// responds to the resource its largest bound names: more bandwidth speeds a bandwidth-bound job,
// more lanes a compute-bound one, and added memory latency is hidden where enough requests are in
// flight. Real runs of the simulator; assertions on cycles, never on wall time.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_checks.h"
#include "tlm_interfaces/ip_config.h"

using namespace sprint;
using namespace sprint::test;

namespace {

struct Job {
    double cycles = 0;
    std::map<std::string, double> bounds;
    std::string limit;
};

// Every mode on one head of 512 x 64, 10% of the pairs kept, plus `more`; the jobs by mode.
std::map<std::string, Job> run_all(const TempDir& dir, std::vector<std::string> more = {}) {
    const std::string f = dir.file("b.json");
    std::vector<std::string> a{"--heads",         "1",   "--compare", "all",
                               "--keep-fraction", "0.1", "--stats",   f};
    a.insert(a.end(), more.begin(), more.end());
    run_ok(dir, a);
    std::map<std::string, Job> jobs;
    const nlohmann::json doc = nlohmann::json::parse(read_text(f));
    for (const auto& j : doc["jobs"]) {
        Job& r = jobs[j["mode"].get<std::string>()];
        r.cycles = j["cycles"]["value"].get<double>();
        for (const auto& [k, v] : j["bounds"].items())
            if (v.is_object()) r.bounds[k] = v["value"].get<double>();
        r.limit = j["bounds"]["limit"].get<std::string>();
    }
    return jobs;
}

// The --stats of the one (sprint) job of `args` run with --compare=false.
nlohmann::json sprint_job(const TempDir& dir, std::vector<std::string> args) {
    const std::string f = dir.file("one.json");
    args.insert(args.end(), {"--compare=false", "--stats", f});
    run_ok(dir, args);
    return nlohmann::json::parse(read_text(f))["jobs"][0];
}

// A job takes at least each of its bounds, and the pipeline overlaps its engines: what is left
// beyond the largest bound is the fill and drain of the pipeline and the waits no engine covers.
void check_near_bounds(const Job& j) {
    INFO("limit " << j.limit);
    double largest = 0;
    for (const auto& [name, b] : j.bounds) {
        INFO("bound " << name << " = " << b << ", cycles " << j.cycles);
        CHECK(j.cycles >= 0.999 * b);
        largest = std::max(largest, b);
    }
    CHECK(j.cycles <= 1.6 * largest);
}

}  // namespace

TEST_CASE("bounds: every job takes at least each bound and sits near the largest", "[bounds]") {
    TempDir dir;
    for (const auto& extra : std::vector<std::vector<std::string>>{{},
                                                                   {"--timing", "at"},
                                                                   {"--dram.preset", "hbm2"},
                                                                   {"--causal"},
                                                                   {"--dram.latency_ns", "320"}}) {
        for (const auto& [mode, j] : run_all(dir, extra)) {
            INFO("mode " << mode << (extra.empty() ? "" : " with " + extra[0]));
            check_near_bounds(j);
        }
    }
}

TEST_CASE("bounds: more bandwidth speeds a bandwidth-bound job, not a compute-bound one",
          "[bounds]") {
    TempDir dir;
    const auto base = run_all(dir);
    const auto fast = run_all(dir, {"--dram.bandwidth_gbps", "76.8"});
    REQUIRE(base.at("dense-stream").limit == "mem-bandwidth");
    CHECK(fast.at("dense-stream").cycles < base.at("dense-stream").cycles / 1.6);
    REQUIRE(base.at("dense").limit == "datapath");
    CHECK(fast.at("dense").cycles > base.at("dense").cycles * 0.95);
}

TEST_CASE("bounds: more MAC lanes speed a compute-bound job", "[bounds]") {
    TempDir dir;
    const auto base = run_all(dir);
    const auto wide =
        run_all(dir, {"--sprint.datapath.qk_lanes", "128", "--sprint.datapath.v_lanes", "128"});
    REQUIRE(base.at("dense").limit == "datapath");
    CHECK(wide.at("dense").cycles < base.at("dense").cycles / 1.4);
    // sprint at 64 lanes reads one 64-byte row per cycle, as fast as the SRAM streams: twice the
    // lanes leave it at the SRAM's bound
    CHECK(wide.at("sprint").limit == "sram");
    CHECK(wide.at("sprint").cycles > base.at("sprint").cycles * 0.95);
    // dense-stream stays memory-bound
    CHECK(wide.at("dense-stream").cycles > base.at("dense-stream").cycles * 0.95);
}

TEST_CASE("bounds: memory latency is hidden while enough requests are in flight", "[bounds]") {
    TempDir dir;
    const auto base = run_all(dir);
    const auto slow = run_all(dir, {"--dram.latency_ns", "320"});
    // dense streams long bursts, 16 in flight: 4x the latency costs it little
    CHECK(slow.at("dense").cycles < base.at("dense").cycles * 1.1);
    // dense-stream issues 131k requests: at 320 ns, 16 in flight allow no more than Little's law
    // says, and it gets within 10% of that
    const Job& ds = slow.at("dense-stream");
    CHECK(ds.limit == "mem-latency");
    CHECK(ds.cycles <= 1.1 * ds.bounds.at("memory_latency"));
    // SPRINT's many small row requests make it latency-bound at 320 ns too, in LT as in AT
    CHECK(slow.at("sprint").limit == "mem-latency");
    CHECK(slow.at("sprint").cycles <= 1.1 * slow.at("sprint").bounds.at("memory_latency"));
    // with one request in flight the latency is the bound (Little's law), and it is paid
    const auto one =
        run_all(dir, {"--dram.latency_ns", "320", "--sprint.fetcher.max_outstanding", "1"});
    CHECK(one.at("dense-stream").limit == "mem-latency");
    CHECK(one.at("dense-stream").cycles > 2.0 * slow.at("dense-stream").cycles);
}

TEST_CASE("bounds: compute units speed a datapath-bound job, channels a bandwidth-bound one",
          "[bounds]") {
    TempDir dir;
    const auto base = run_all(dir);
    const auto two = run_all(dir, {"--sprint.units", "2"});
    // dense is datapath-bound on one unit: two units share its query blocks
    REQUIRE(base.at("dense").limit == "datapath");
    CHECK(two.at("dense").cycles < base.at("dense").cycles / 1.7);
    // dense-stream is bandwidth-bound: a second unit gives it nothing, a second channel does
    REQUIRE(base.at("dense-stream").limit == "mem-bandwidth");
    CHECK(two.at("dense-stream").cycles > base.at("dense-stream").cycles * 0.9);
    const auto wide = run_all(dir, {"--dram.channels", "2"});
    CHECK(wide.at("dense-stream").cycles < base.at("dense-stream").cycles / 1.4);
    CHECK(wide.at("dense").cycles > base.at("dense").cycles * 0.95);
    // with four units and four channels every job still takes at least each bound (the busiest
    // unit's datapath and SRAM, the channels' bandwidth together) and sits near the largest
    for (const auto& [mode, j] : run_all(dir, {"--preset", "L", "--dram.channels", "4"})) {
        INFO("mode " << mode);
        check_near_bounds(j);
    }
}

TEST_CASE("bounds: fewer crossbar tiles mean more passes - evaluations, Q reads and cycles grow",
          "[bounds]") {
    TempDir dir;
    struct Pass {
        double cycles, read_bytes, evaluations;
    };
    auto run = [&](const char* tiles) {
        const auto j = sprint_job(dir, {"--heads", "2", "--seq-len", "1024", "--sprint.xbar.tiles",
                                        tiles, "--k-readback", "false"});
        return Pass{j["cycles"]["value"].get<double>(), j["mem_read_bytes"]["value"].get<double>(),
                    j["model"]["xbar"]["evaluations"]["value"].get<double>()};
    };
    // 128 keys per tile at d = 64: 8 tiles hold the 1024 keys, 2 tiles take 4 passes, 1 takes 8.
    const Pass one = run("8"), four = run("2"), eight = run("1");
    CHECK(one.evaluations == 2 * 1024);
    CHECK(four.evaluations == 4 * 2 * 1024);
    CHECK(eight.evaluations == 8 * 2 * 1024);
    // The same keys are kept and fetched; each extra pass reads every Q row (2 x 1024 x 64 B)
    // again.
    CHECK(four.read_bytes - one.read_bytes == 3 * 2 * 1024 * 64);
    CHECK(eight.read_bytes - one.read_bytes == 7 * 2 * 1024 * 64);
    CHECK(four.cycles > one.cycles);
    CHECK(eight.cycles > four.cycles);
}

TEST_CASE(
    "bounds: the dense-stream baseline pools its units' buffers - a head that fits L's is "
    "fetched once",
    "[bounds]") {
    TempDir dir;
    auto job = [&](const char* preset) {
        return sprint_job(dir, {"--mode", "dense-stream", "--heads", "1", "--seq-len", "256",
                                "--preset", preset});
    };
    const auto s = job("S"), l = job("L");
    // S: one unit's 8 KB K buffer holds 128 of the 256 rows: every query streams them again.
    CHECK(s["k_rows_fetched"]["value"].get<double>() > 100 * 256);
    // L: four units of 128 rows each hold their 64 keys (j mod 4): each K and V row once.
    CHECK(l["k_rows_fetched"]["value"] == 256);
    CHECK(l["v_rows_fetched"]["value"] == 256);
    CHECK(l["bit_exact_vs_core"]["value"] == true);
    // The rule: pooled while ceil(n / units) rows fit a unit's buffers (L: 4 x 128 rows at
    // d = 64), whole queries per unit beyond; sprint always spreads keys, dense never.
    IpConfig c;
    REQUIRE(IpConfig::apply_size_preset("L", c));
    CHECK(c.key_units(core::Mode::DenseStream, 512, 64) == 4);
    CHECK(c.key_units(core::Mode::DenseStream, 513, 64) == 1);
    CHECK(c.key_units(core::Mode::DenseStream, 1024, 32) == 4);
    CHECK(c.key_units(core::Mode::Sprint, 4096, 64) == 4);
    CHECK(c.key_units(core::Mode::Dense, 256, 64, true) == 4);  // online softmax: tiles
    CHECK(c.key_units(core::Mode::Dense, 513, 64, true) == 1);
    CHECK(c.key_units(core::Mode::Dense, 256, 64) == 1);  // prob8's two passes: blocks
    // Past the rule (M: 2 x 128 rows, a head of 512): whole queries per unit, every row of the
    // head streamed for each query, as on one unit.
    const auto m = sprint_job(
        dir, {"--mode", "dense-stream", "--heads", "1", "--seq-len", "512", "--preset", "M"});
    CHECK(m["k_rows_fetched"]["value"].get<double>() > 0.9 * 512 * 512);
    CHECK(m["bit_exact_vs_core"]["value"] == true);
}

TEST_CASE(
    "bounds: the dense baseline pools its units' buffers too - L fetches a head once, tile by "
    "tile on every unit",
    "[bounds]") {
    TempDir dir;
    auto job = [&](const char* preset, const char* softmax = "fixed") {
        return sprint_job(dir, {"--mode", "dense", "--heads", "1", "--seq-len", "256", "--preset",
                                preset, "--softmax", softmax});
    };
    const auto s = job("S"), l = job("L"), l8 = job("L", "prob8");
    // S: blocks of 8 queries stream the head's 256 rows in tiles: 32 blocks, each every row.
    CHECK(s["k_rows_fetched"]["value"] == 32 * 256);
    // L: key j in unit j mod 4, 64 rows each, resident for the head: every K and V row once.
    CHECK(l["k_rows_fetched"]["value"] == 256);
    CHECK(l["v_rows_fetched"]["value"] == 256);
    CHECK(l["bit_exact_vs_core"]["value"] == true);
    // The units exchange each tile's partials: 3 merges per member per tile (4 tiles of 64).
    const double merges = l["model"]["unit_0"]["datapath"]["merge_adds"]["value"].get<double>();
    CHECK(merges == 3.0 * 256 * 4 * 65);
    // prob8 holds every score of a row until its softmax: blocks per unit, not split by key.
    CHECK(l8["k_rows_fetched"]["value"].get<double>() > 256);
    CHECK(l8["bit_exact_vs_core"]["value"] == true);
}

TEST_CASE("bounds: key-interleaved units fetch no more than one unit - query-dealt units do",
          "[bounds]") {
    TempDir dir;
    auto sprint = [&](std::vector<std::string> more) {
        more.insert(more.begin(), {"--heads", "1"});
        return sprint_job(dir, more)["mem_read_bytes"]["value"].get<double>();
    };
    const double one = sprint({}), keys = sprint({"--preset", "M"}),
                 queries = sprint({"--preset", "M", "--sprint.controller.unit_org", "queries"}),
                 runs = sprint({"--preset", "M", "--sprint.controller.unit_org", "queries",
                                "--sprint.controller.unit_run", "16"});
    // Key j lives in unit j mod 2: each unit holds its half of the kept keys in buffers of its
    // own, twice the room of one unit, so the kept rows are fetched once and re-used more.
    CHECK(keys <= one);
    // Adjacent queries keep mostly the same keys: dealt to two units, each fetches them again.
    CHECK(queries > 1.3 * one);
    // Runs of 16 adjacent queries per unit re-use them within the run.
    CHECK(runs < 0.85 * queries);
    CHECK(runs > one);
}
