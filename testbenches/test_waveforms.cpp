// The --vcd waveforms as an engineer reads them: every signal there, the coded ones named by the
// translate filters the GTKWave views use, one interrupt pulse and one job marker per job, the
// file bounded by --vcd-window and --vcd-heads without changing what it shows, and FST through
// GTKWave's own vcd2fst (read back with fst2vcd: an independent parser of our VCD).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "cli_checks.h"
#include "core/types.h"
#include "modules/common/stage.h"
#include "modules/controller/pipeline.h"

using namespace sprint;
using namespace sprint::test;

namespace {

const std::string kFilters = std::string(SPRINT_SOURCE_DIR) + "/waveforms/filters/";

// A GTKWave translate filter file: value -> name (a "?colour?" before the name, the colour GTKWave
// fills the segment with, dropped; `colours` gets value -> colour).
std::map<std::string, std::string> filter(const std::string& file,
                                          std::map<std::string, std::string>* colours = nullptr) {
    std::map<std::string, std::string> m;
    std::ifstream in(kFilters + file);
    REQUIRE(in);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto sp = line.find(' ');
        REQUIRE(sp != std::string::npos);
        std::string name = line.substr(sp + 1);
        if (name.size() > 2 && name[0] == '?') {
            const auto end = name.find('?', 1);
            REQUIRE(end != std::string::npos);
            if (colours) (*colours)[line.substr(0, sp)] = name.substr(1, end - 1);
            name = name.substr(end + 1);
        }
        m[line.substr(0, sp)] = name;
    }
    return m;
}

// A VCD vector value ("101") as a number.
uint64_t bits(const std::string& v) {
    return std::stoull(v, nullptr, 2);
}

// The changes of `name` (full VCD name without the "SystemC." scope).
const std::vector<std::pair<uint64_t, std::string>>& changes(const Vcd& v,
                                                             const std::string& name) {
    static const std::vector<std::pair<uint64_t, std::string>> none;
    const std::string id = v.find(name);
    const auto it = v.changes.find(id);
    return id.empty() || it == v.changes.end() ? none : it->second;
}

// The value of `name` at time t (its last change at or before t).
std::string value_at(const Vcd& v, const std::string& name, uint64_t t) {
    std::string val;
    for (const auto& [at, x] : changes(v, name)) {
        if (at > t) break;
        val = x;
    }
    return val;
}

// The signals every --vcd file has (unit 0; the others alike).
std::vector<std::string> signal_names() {
    std::vector<std::string> s{"irq",
                               "sprint.controller.busy",
                               "sprint.controller.state",
                               "sprint.controller.head",
                               "sprint.controller.query",
                               "sprint.controller.job",
                               "sprint.controller.mode",
                               "sprint.controller.front_state",
                               "sprint.xbar.busy",
                               "sprint.comparators.busy",
                               "sprint.comparators.kept_count",
                               "sprint.fetcher.busy",
                               "sprint.fetcher.outstanding",
                               "sprint.unit_0.sram.occupancy_k",
                               "sprint.unit_0.sram.occupancy_v",
                               "sprint.unit_0.datapath.busy",
                               "sprint.unit_0.datapath.phase"};
    for (const char* st : {"fetch_k", "fetch_v", "compute", "writeback"})
        for (const char* x : {"state", "query", "in_flight"})
            s.push_back(std::string("sprint.unit_0.") + st + "." + x);
    return s;
}

// The signals shown through a translate filter, and their filter.
const std::map<std::string, std::string> kCoded = {
    {"sprint.controller.state", "controller_state.txt"},
    {"sprint.controller.mode", "job_mode.txt"},
    {"sprint.controller.front_state", "stage_state.txt"},
    {"sprint.unit_0.fetch_k.state", "stage_state.txt"},
    {"sprint.unit_0.fetch_v.state", "stage_state.txt"},
    {"sprint.unit_0.compute.state", "stage_state.txt"},
    {"sprint.unit_0.writeback.state", "stage_state.txt"},
    {"sprint.unit_0.datapath.phase", "datapath_phase.txt"}};

// Signals written outside any bound (the interrupt and the job marker).
bool unbounded(const std::string& name) {
    return name == "irq" || name == "sprint.controller.job" || name == "sprint.controller.mode";
}

Vcd run_vcd(const TempDir& dir, const std::string& file, std::vector<std::string> args) {
    args.insert(args.end(), {"--vcd", dir.file(file)});
    const RunResult r = run_sim(dir, small(args));
    SHOW(r);
    REQUIRE(r.exit_code == kOk);
    return parse_vcd(read_text(dir.file(file)));
}

}  // namespace

TEST_CASE("waveforms: the translate filters name the codes the model writes", "[waveforms]") {
    const auto mode = filter("job_mode.txt");
    CHECK(mode.at("0") == "none");
    for (core::Mode m :
         {core::Mode::Sprint, core::Mode::Dense, core::Mode::OnchipPrune, core::Mode::DenseStream})
        CHECK(mode.at(std::to_string(uint32_t(m) + 1)) == core::to_string(m));
    const auto state = filter("controller_state.txt");
    CHECK(state.size() == 5);
    CHECK(state.at(std::to_string(Idle)) == "idle");
    CHECK(state.at(std::to_string(Setup)) == "setup");
    CHECK(state.at(std::to_string(HeadTable)) == "table");
    CHECK(state.at(std::to_string(Program)) == "program");
    CHECK(state.at(std::to_string(Queries)) == "queries");
    std::map<std::string, std::string> stage_colours, phase_colours;
    const auto stage = filter("stage_state.txt", &stage_colours);
    CHECK(stage.size() == 4);
    CHECK(stage.at(std::to_string(StageIdle)) == "idle");
    CHECK(stage.at(std::to_string(StageBusy)) == "busy");
    CHECK(stage.at(std::to_string(StageStarved)) == "stv");
    CHECK(stage.at(std::to_string(StageBlocked)) == "blk");
    const auto phase = filter("datapath_phase.txt", &phase_colours);
    CHECK(phase.size() == 5);
    // The names of short segments fit them (GTKWave cuts a longer one to "b+"), and every state
    // but idle has a colour of its own, which shows even where no name fits.
    for (const auto& [f, colours] :
         {std::pair(stage, stage_colours), std::pair(phase, phase_colours)}) {
        std::set<std::string> distinct;
        for (const auto& [v, name] : f) {
            INFO(name);
            CHECK(name.size() <= 4);
            CHECK(colours.count(v) == (v == "0" ? 0u : 1u));
            if (colours.count(v)) distinct.insert(colours.at(v));
        }
        CHECK(distinct.size() == f.size() - 1);
    }
}

TEST_CASE(
    "waveforms: a two-job file has every signal, one irq pulse and one job marker per job, and "
    "only codes the filters name",
    "[waveforms]") {
    TempDir dir;
    const Vcd v = run_vcd(dir, "w.vcd", {});  // sprint, then the dense baseline
    for (const auto& name : signal_names()) {
        INFO(name);
        CHECK_FALSE(v.find(name).empty());
    }
    // The interrupt: exactly one rising and one falling edge per job (the host clears it).
    int rises = 0, falls = 0;
    std::string last = "0";
    std::vector<uint64_t> rise_at;
    for (const auto& [t, x] : changes(v, "irq")) {
        if (x == "1" && last == "0") ++rises, rise_at.push_back(t);
        if (x == "0" && last == "1") ++falls;
        last = x;
    }
    CHECK(rises == 2);
    CHECK(falls == 2);
    // The job marker: job 1 (sprint) then job 2 (dense), each before its interrupt.
    std::vector<uint64_t> jobs, modes;
    std::vector<uint64_t> job_at;
    for (const auto& [t, x] : changes(v, "sprint.controller.job"))
        if (bits(x)) jobs.push_back(bits(x)), job_at.push_back(t);
    for (const auto& [t, x] : changes(v, "sprint.controller.mode"))
        if (bits(x)) modes.push_back(bits(x));
    CHECK(jobs == std::vector<uint64_t>{1, 2});
    CHECK(modes ==
          std::vector<uint64_t>{uint32_t(core::Mode::Sprint) + 1, uint32_t(core::Mode::Dense) + 1});
    REQUIRE(rise_at.size() == 2);
    REQUIRE(job_at.size() == 2);
    CHECK(job_at[0] < rise_at[0]);
    CHECK(rise_at[0] < job_at[1]);
    CHECK(job_at[1] < rise_at[1]);
    // Every coded value has a name; each stage goes through several states.
    for (const auto& [name, file] : kCoded) {
        INFO(name);
        const auto f = filter(file);
        std::set<std::string> seen;
        for (const auto& [t, x] : changes(v, name)) {
            CHECK(f.count(std::to_string(bits(x))) == 1);
            seen.insert(x);
        }
        CHECK(seen.size() >= 2);
    }
}

// The values `name` takes in [t0, t1), its value at t0 first, repeats dropped.
std::vector<uint64_t> sequence(const Vcd& v, const std::string& name, uint64_t t0, uint64_t t1) {
    std::vector<uint64_t> seq{bits(value_at(v, name, t0))};
    for (const auto& [t, x] : changes(v, name))
        if (t > t0 && t < t1 && bits(x) != seq.back()) seq.push_back(bits(x));
    return seq;
}

TEST_CASE(
    "waveforms: each stage's query marker holds every query it handles, in order, and counts "
    "the queries the stage holds",
    "[waveforms]") {
    TempDir dir;
    const Vcd v = run_vcd(dir, "w.vcd", {});  // sprint (2 heads x 96 queries), then dense
    std::vector<uint64_t> job_at, irq_at;
    for (const auto& [t, x] : changes(v, "sprint.controller.job"))
        if (bits(x)) job_at.push_back(t);
    for (const auto& [t, x] : changes(v, "irq"))
        if (x == "1") irq_at.push_back(t);
    REQUIRE(job_at.size() == 2);
    REQUIRE(irq_at.size() == 2);
    std::vector<uint64_t> every;  // each head's queries in order: 0..95, 0..95
    for (int h = 0; h < 2; ++h)
        for (uint64_t q = 0; q < 96; ++q) every.push_back(q);
    const std::string u = "sprint.unit_0.";
    for (const char* st : {"fetch_k", "fetch_v", "compute", "writeback"}) {
        INFO(st);
        // The sprint job: every query its own segment, none skipped (several taken up or handed
        // on at one instant used to show only the last).
        CHECK(sequence(v, u + st + ".query", 0, job_at[1]) == every);
        // Each job ends with nothing held; the write-back holds at most its posted writes.
        for (uint64_t t : irq_at) CHECK(bits(value_at(v, u + st + ".in_flight", t)) == 0);
        uint64_t most = 0;
        for (const auto& [t, x] : changes(v, u + st + ".in_flight")) most = std::max(most, bits(x));
        CHECK(most >= 1);
        if (std::string(st) == "compute") CHECK(most == 1);
        if (std::string(st) == "writeback") CHECK(most <= 4);
    }
    // The dense job: the write-back writes every row, the compute stage takes blocks (their
    // first queries, in order).
    const uint64_t dense = job_at[1] + 1;
    std::vector<uint64_t> wb = sequence(v, u + "writeback.query", dense, v.last_time + 1);
    CHECK(std::vector<uint64_t>(wb.begin() + 1, wb.end()) == every);
    const auto blocks = sequence(v, u + "compute.query", dense, v.last_time + 1);
    CHECK(blocks.size() > 4);
    CHECK(blocks.size() < 96);
    // The compute stage holds its query while the datapath works on it.
    for (const auto& [t, x] : changes(v, u + "datapath.phase"))
        if (bits(x) != 0) CHECK(bits(value_at(v, u + "compute.in_flight", t)) == 1);
}

TEST_CASE("waveforms: the GTKWave views show only signals of the file and installed filters",
          "[waveforms]") {
    TempDir dir;
    const Vcd v = run_vcd(dir, "w.vcd", {"--compare=false"});
    for (const char* view : {"overview.gtkw", "memory.gtkw"}) {
        INFO(view);
        std::ifstream in(std::string(SPRINT_SOURCE_DIR) + "/waveforms/" + view);
        REQUIRE(in);
        std::string line;
        int signals = 0, filters = 0;
        while (std::getline(in, line)) {
            if (line.rfind("^", 0) == 0 && line.size() > 1 && std::isdigit(line[1])) {
                // "^N /sprint-vp/waveforms/filters/F": found beside the view (GTKWave maps the
                // [savefile] path onto the view's own place).
                const auto slash = line.rfind('/');
                INFO(line);
                CHECK(line.find(" /sprint-vp/waveforms/filters/") != std::string::npos);
                CHECK(std::ifstream(kFilters + line.substr(slash + 1)).good());
                ++filters;
                continue;
            }
            auto at = line.find("SystemC.");
            if (at == std::string::npos || line[0] == '[') continue;
            std::string name = line.substr(at + 8);
            name = name.substr(0, name.find('['));
            INFO(name);
            CHECK_FALSE(v.find(name).empty());
            ++signals;
        }
        CHECK(signals >= 10);
        CHECK(filters >= 2);
    }
}

TEST_CASE("waveforms: --vcd-window keeps only that time, with the values the full file has",
          "[waveforms]") {
    TempDir dir;
    const Vcd full = run_vcd(dir, "full.vcd", {"--compare=false"});
    // The middle third of the job, in ps.
    const uint64_t end = full.last_time, t0 = end / 3, t1 = 2 * end / 3;
    const Vcd w = run_vcd(dir, "win.vcd",
                          {"--compare=false", "--vcd-window",
                           std::to_string(t0) + "ps:" + std::to_string(t1) + "ps"});
    CHECK(w.timestamps < full.timestamps / 2);
    for (const auto& name : signal_names()) {
        INFO(name);
        for (const auto& [t, x] : changes(w, name))
            if (!unbounded(name)) CHECK((t == 0 || (t >= t0 && t < t1)));
        // Inside the window the bounded file shows what the full one shows.
        for (uint64_t t : {t0, (t0 + t1) / 2, t1 - 1})
            CHECK(value_at(w, name, t) == value_at(full, name, t));
    }
    // Bad windows are refused before anything runs.
    check_bad_input(dir, small({"--vcd", dir.file("x.vcd"), "--vcd-window", "5:10us"}),
                    {"--vcd-window", "not a time with a unit"});
    check_bad_input(dir, small({"--vcd", dir.file("x.vcd"), "--vcd-window", "9us:2us"}),
                    {"ends before it begins"});
    check_bad_input(dir, small({"--vcd-window", "1us:2us"}), {"give '--vcd FILE'"});
    CHECK_FALSE(file_exists(dir.file("x.vcd")));
}

TEST_CASE("waveforms: --vcd-heads traces only while a listed head is in the pipeline",
          "[waveforms]") {
    TempDir dir;
    const Vcd full = run_vcd(dir, "full.vcd", {"--compare=false"});
    const Vcd h = run_vcd(dir, "h1.vcd", {"--compare=false", "--vcd-heads", "1"});
    CHECK(h.timestamps < full.timestamps);
    // Head 1 enters when the front stage takes it up; before that nothing but the marker moves.
    uint64_t head1 = 0;
    for (const auto& [t, x] : changes(full, "sprint.controller.head"))
        if (bits(x) == 1) head1 = t;
    REQUIRE(head1 > 0);
    for (const auto& name : signal_names()) {
        INFO(name);
        if (unbounded(name)) continue;
        for (const auto& [t, x] : changes(h, name)) CHECK((t == 0 || t >= head1));
        // While head 1 is in the pipeline the file shows what the full one shows (after it
        // leaves, the signals keep their last traced values).
        for (uint64_t t : {head1, (head1 + full.last_time) / 2})
            CHECK(value_at(h, name, t) == value_at(full, name, t));
    }
    for (const auto& [t, x] : changes(h, "sprint.controller.head"))
        if (t > 0) CHECK(bits(x) == 1);
    check_bad_input(dir, small({"--vcd", dir.file("x.vcd"), "--vcd-heads", "2"}),
                    {"--vcd-heads", "head 2 is not in the workload (heads 0..1)"});
    check_bad_input(dir, small({"--vcd", dir.file("x.vcd"), "--vcd-heads", "1,a"}),
                    {"'a' is not a head index"});
}

TEST_CASE("waveforms: --vcd NAME.fst writes FST with vcd2fst, and fst2vcd reads it back",
          "[waveforms]") {
    TempDir dir;
    const Vcd direct = run_vcd(dir, "w.vcd", {});
    const RunResult r = run_sim(dir, small({"--vcd", dir.file("w.fst")}));
    SHOW(r);
    REQUIRE(r.exit_code == kOk);  // needs GTKWave's vcd2fst (scripts/test.sh installs gtkwave)
    const std::string fst = read_text(dir.file("w.fst"));
    REQUIRE(fst.size() > 100);
    CHECK(fst.find("$enddefinitions") == std::string::npos);  // not the VCD text
    const std::string back = dir.file("back.vcd");
    REQUIRE(std::system(
                ("fst2vcd -o '" + back + "' '" + dir.file("w.fst") + "' >/dev/null").c_str()) == 0);
    const Vcd b = parse_vcd(read_text(back));
    for (const auto& name : signal_names()) {
        INFO(name);
        REQUIRE_FALSE(b.find(name).empty());
        CHECK(bits(value_at(b, name, direct.last_time / 2)) ==
              bits(value_at(direct, name, direct.last_time / 2)));
        CHECK(changes(b, name).size() == changes(direct, name).size());
    }
    CHECK(b.last_time == direct.last_time);
    // Without vcd2fst the run is refused before it simulates.
    setenv("PATH", "/nonexistent", 1);
    check_bad_input(dir, small({"--vcd", dir.file("y.fst")}), {"vcd2fst", "gtkwave"});
    CHECK_FALSE(file_exists(dir.file("y.fst")));
}
