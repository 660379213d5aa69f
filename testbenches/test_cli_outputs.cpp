// sprint-sim's output files as a user meets them: every write checked (a full device or a full
// disk is an error naming the option), and all or nothing (a failed run leaves no file, not even
// an empty one, and an existing file keeps its contents; a good run leaves no temporary beside).
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

#include "cli_checks.h"
#include "platforms/sim/output_files.h"

using namespace sprint;
using namespace sprint::test;

namespace {

const char* const kOutputs[] = {"stats", "output", "vcd", "dump-config"};

// The names in `dir` other than the captured stdout/stderr files of run_sim.
std::set<std::string> listing(const TempDir& dir) {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
        const std::string n = e.path().filename().string();
        if (n.rfind("stdout.", 0) != 0 && n.rfind("stderr.", 0) != 0) names.insert(n);
    }
    return names;
}

// Points TMPDIR (where the VCD relay puts its FIFO) at a directory for one test.
struct TmpdirIn {
    std::string old;
    bool had;
    explicit TmpdirIn(const TempDir& d) : had(std::getenv("TMPDIR") != nullptr) {
        if (had) old = std::getenv("TMPDIR");
        setenv("TMPDIR", d.path().c_str(), 1);
    }
    ~TmpdirIn() { had ? (void)setenv("TMPDIR", old.c_str(), 1) : (void)unsetenv("TMPDIR"); }
};

}  // namespace

TEST_CASE("cli/outputs: a write to a full device is an error naming the option", "[cli]") {
    TempDir dir;
    for (const char* opt : kOutputs) {
        const RunResult r =
            run_sim(dir, small({"--compare=false", std::string("--") + opt, "/dev/full"}));
        SHOW(r);
        CHECK(r.exit_code != kOk);
        CHECK_THAT(r.err, Contains("'--" + std::string(opt) + "'") && Contains("/dev/full") &&
                              Contains("cannot be written"));
    }
    // The same outputs to /dev/null succeed: a device is written in place, never replaced.
    std::vector<std::string> all = small({"--compare=false"});
    for (const char* opt : kOutputs) all.insert(all.end(), {std::string("--") + opt, "/dev/null"});
    run_ok(dir, all);
    CHECK(std::filesystem::is_character_file("/dev/null"));
}

TEST_CASE("cli/outputs: a full disk while writing a regular file fails and leaves nothing",
          "[cli]") {
    // RLIMIT_FSIZE of 16 KiB: stdout (a few KiB) fits; the stats (~40 KiB), the output
    // (2 x 96 x 64 floats) and the VCD do not, so their writes fail as on a full disk.
    TempDir dir;
    for (const char* opt : {"stats", "output", "vcd"}) {
        INFO("--" << opt);
        const std::string path = dir.file(std::string("out.") + opt);
        const RunResult r =
            run_sim(dir, small({"--compare=false", std::string("--") + opt, path}), Limits{16384});
        SHOW(r);
        CHECK(r.exit_code == platform::kExitJobProblem);
        CHECK_THAT(r.err, Contains("'--" + std::string(opt) + "'") && Contains(path) &&
                              Contains("cannot be written"));
        CHECK(listing(dir) == std::set<std::string>{});
    }
}

TEST_CASE("cli/outputs: an output written before a later failure does not stay", "[cli]") {
    // The dumped config (a few KiB) is complete before the stats file hits the 16 KiB limit.
    TempDir dir;
    write_text(dir.file("old.ini"), "old contents\n");
    const RunResult r = run_sim(dir,
                                small({"--compare=false", "--dump-config", dir.file("old.ini"),
                                       "--vcd", dir.file("w.vcd"), "--stats", dir.file("s.json")}),
                                Limits{16384});
    SHOW(r);
    CHECK(r.exit_code == platform::kExitJobProblem);
    CHECK_THAT(r.err, Contains("'--") && Contains("cannot be written"));
    CHECK(listing(dir) == std::set<std::string>{"old.ini"});
    CHECK(read_text(dir.file("old.ini")) ==
          "old contents\n");  // an existing file keeps its contents
}

TEST_CASE("cli/outputs: a run stopped by SIGTERM leaves no file behind", "[cli]") {
    // A run of a few seconds (approximately timed, 12 heads); stopped once its outputs' temporaries
    // exist, i.e. while it simulates.
    TempDir dir;
    TmpdirIn tmpdir(dir);  // the VCD relay's FIFO goes here too
    std::vector<std::string> args = {"--timing", "at", "--heads", "12", "--seq-len", "512"};
    for (const char* opt : kOutputs)
        args.insert(args.end(), {std::string("--") + opt, dir.file(std::string("new.") + opt)});
    // Four temporaries and the relay's directory.
    const RunResult r =
        run_sim_signalled(dir, args, SIGTERM, [&] { return listing(dir).size() == 5; });
    SHOW(r);
    CHECK(r.exit_code == 128 + SIGTERM);
    CHECK(listing(dir) == std::set<std::string>{});
}

TEST_CASE("cli/outputs: a good run replaces existing files and leaves no temporary", "[cli]") {
    TempDir dir;
    std::vector<std::string> args = small({"--compare=false"});
    for (const char* opt : kOutputs) {
        const std::string path = dir.file(std::string("old.") + opt);
        write_text(path, "old contents\n");
        args.insert(args.end(), {std::string("--") + opt, path});
    }
    run_ok(dir, args);
    for (const char* opt : kOutputs)
        CHECK(read_text(dir.file(std::string("old.") + opt)) != "old contents\n");
    CHECK(listing(dir).size() == 4);
    // --vcd writes exactly the path given, with or without the .vcd extension.
    run_ok(dir, small({"--compare=false", "--vcd", dir.file("wave")}));
    CHECK(read_text(dir.file("wave")).rfind("$comment\nsprint-sim ", 0) == 0);
    CHECK(read_text(dir.file("wave")).find("$date") != std::string::npos);
    CHECK_FALSE(file_exists(dir.file("wave.vcd")));
}

TEST_CASE("cli/outputs: two options naming one file are refused before simulating", "[cli]") {
    TempDir dir;
    check_bad_input(dir, small({"--stats", dir.file("x"), "--output", dir.path() + "/./x"}),
                    {"'--output'", "'--stats'", "own file"});
    CHECK(listing(dir) == std::set<std::string>{});
}

// ---- OutputFiles in this process

TEST_CASE("outputs: nothing is left unless commit succeeds, commit replaces atomically") {
    TempDir dir;
    write_text(dir.file("kept"), "old\n");
    {
        platform::OutputFiles o;
        o.claim("a", dir.file("new"));
        o.claim("b", dir.file("kept"));
        o.write("a", "A");
        o.write("b", "B");
        CHECK(listing(dir).size() == 3);  // the old file and two temporaries
    }                                     // destroyed without commit
    CHECK(listing(dir) == std::set<std::string>{"kept"});
    CHECK(read_text(dir.file("kept")) == "old\n");
    {
        platform::OutputFiles o;
        o.claim("a", dir.file("new"));
        o.claim("b", dir.file("kept"));
        o.write("a", "A");
        o.write("b", "B");
        o.commit();
    }
    CHECK(listing(dir) == std::set<std::string>{"kept", "new"});
    CHECK(read_text(dir.file("new")) == "A");
    CHECK(read_text(dir.file("kept")) == "B");
}

TEST_CASE("outputs: a relay copies what a foreign writer writes, checked") {
    TempDir dir;
    TmpdirIn tmpdir(dir);
    platform::OutputFiles o;
    o.claim("vcd", dir.file("w"));
    const std::string fifo = o.relay("vcd", ".vcd");
    CHECK(fifo.size() > 4);
    CHECK(fifo.compare(fifo.size() - 4, 4, ".vcd") == 0);
    std::string big(300000, 'x');  // more than a pipe holds
    {
        std::ofstream w(fifo, std::ios::binary);
        w << big;
    }
    o.finish_relay("vcd");
    o.commit();
    CHECK(read_text(dir.file("w")) == big);
    CHECK(listing(dir) == std::set<std::string>{"w"});  // the relay's FIFO and directory are gone

    platform::OutputFiles full;
    full.claim("vcd", "/dev/full");
    const std::string f2 = full.relay("vcd", ".vcd");
    {
        std::ofstream w(f2, std::ios::binary);
        w << "data";
    }
    CHECK_THROWS_WITH(full.finish_relay("vcd"),
                      Contains("'--vcd'") && Contains("/dev/full") && Contains("No space"));
}
