// Checks shared by the command-line tests: a small workload's arguments, a run that must succeed
// (with its summary table) and bad input that must exit 2 before simulating.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cli_fixtures.h"
#include "platforms/sim/simulator.h"

namespace sprint::test {

using Catch::Matchers::Contains;

constexpr int kOk = platform::kExitOk, kBad = platform::kExitBadInput;

// A small synthetic workload, plus `more`.
inline std::vector<std::string> small(std::vector<std::string> more = {}) {
    std::vector<std::string> a{"--heads", "2", "--seq-len", "96"};
    a.insert(a.end(), more.begin(), more.end());
    return a;
}

#define SHOW(r)                           \
    INFO("command: " << (r).command);     \
    INFO("exit code: " << (r).exit_code); \
    INFO("stdout:\n" << (r).out);         \
    INFO("stderr:\n" << (r).err)

// Bad input: exit 2, every phrase of `says` on stderr, nothing simulated (no table on stdout).
inline void check_bad_input(const TempDir& dir, const std::vector<std::string>& args,
                            const std::vector<std::string>& says) {
    const RunResult r = run_sim(dir, args);
    SHOW(r);
    CHECK(r.exit_code == kBad);
    CHECK_THAT(r.err, Contains("error"));
    for (const auto& s : says) CHECK_THAT(r.err, Contains(s));
    CHECK_FALSE(parse_summary(r.out).found());
    CHECK_FALSE(contains(r.out, "bit-exact"));
}

// A successful run and its summary table.
inline SummaryTable run_ok(const TempDir& dir, const std::vector<std::string>& args,
                           RunResult* keep = nullptr) {
    const RunResult r = run_sim(dir, args);
    SHOW(r);
    REQUIRE(r.exit_code == kOk);
    const SummaryTable t = parse_summary(r.out);
    REQUIRE(t.found());
    if (keep) *keep = r;
    return t;
}

}  // namespace sprint::test
