// The reference documents are generated from the model's own tables; these tests keep them equal,
// so the docs cannot drift from the code.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli_checks.h"
#include "core/energy.h"
#include "core/workload.h"
#include "platforms/sim/cli.h"
#include "platforms/sweep/figures.h"
#include "tlm_interfaces/job_check.h"
#include "tlm_interfaces/register_map.h"

namespace {

std::string read_abs(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string read(const std::string& rel) {
    std::ifstream in(std::string(SPRINT_SOURCE_DIR) + "/" + rel);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

TEST_CASE("docs: registers.md holds the register map exactly as the model defines it") {
    const std::string doc = read("docs/registers.md");
    REQUIRE(!doc.empty());
    // With the capabilities of the default configuration, as `sprint-sim --dump-regmap` prints
    // them.
    sprint::platform::Arguments args;
    CHECK(doc.find(sprint::regs::regmap_markdown(
              sprint::capability_registers(args.platform.ip_for_platform()))) != std::string::npos);
}

TEST_CASE(
    "docs: parameters.md holds every model parameter with its default as the model defines it") {
    const std::string doc = read("docs/parameters.md");
    REQUIRE(!doc.empty());
    sprint::platform::Arguments args;
    CHECK(doc.find(args.params_markdown()) != std::string::npos);
    for (const auto* e : args.registry.entries())
        CHECK(doc.find("`" + e->name + "`") != std::string::npos);
}

TEST_CASE("docs: tech/65nm.json is the built-in technology table as --dump-tech prints it") {
    const std::string doc = read("tech/65nm.json");
    REQUIRE(!doc.empty());
    // The core's table with the default memory's energies (dram.read, dram.write).
    CHECK(nlohmann::json::parse(doc) == sprint::platform::PlatformConfig::default_tech().to_json());
}

TEST_CASE("docs: workloads.md lists every workload preset with the shape the code gives it") {
    const std::string doc = read("docs/workloads.md");
    REQUIRE(!doc.empty());
    for (const auto& w : sprint::core::workload_presets()) {
        INFO(w.name);
        const std::string row = "| " + std::string(w.name) + " | " + std::to_string(w.spec.heads) +
                                " x " + std::to_string(w.spec.n) + " x " +
                                std::to_string(w.spec.d) + " | " + (w.causal ? "yes" : "no") + " |";
        CHECK(doc.find(row) != std::string::npos);
    }
}

TEST_CASE("docs: sweeps.md lists every sweep figure as sprint-sweep figures prints it") {
    const std::string doc = read("docs/sweeps.md");
    REQUIRE(!doc.empty());
    CHECK(doc.find(sprint::sweep::figures_markdown()) != std::string::npos);
}

TEST_CASE("docs: registers.md gives what JOB_CFG reads back after all ones as its fields' bits") {
    const std::string doc = read("docs/registers.md");
    REQUIRE(!doc.empty());
    char text[80];
    std::snprintf(text, sizeof text, "JOB_CFG written 0xFFFFFFFF reads back 0x%08X",
                  unsigned(sprint::regs::find("JOB_CFG")->value_mask()));
    // The sentence may wrap anywhere in the Markdown.
    CHECK(sprint::test::squash_spaces(doc).find(sprint::test::squash_spaces(text)) !=
          std::string::npos);
}

TEST_CASE(
    "docs: README's N = 16384: the default run and dense alone are accepted, the two-pass modes "
    "refused naming the score buffer") {
    using sprint::test::Contains;
    const std::string doc = sprint::test::squash_spaces(read("README.md"));
    CHECK_THAT(doc, Contains("`sprint-sim --heads 1 --seq-len 16384 --mode dense --compare=false` "
                             "runs"));
    CHECK_THAT(doc, Contains("`sprint-sim --seq-len 16384 --compare all` exits before simulating, "
                             "naming `sprint.datapath.score_entries`"));
    sprint::test::TempDir dir;
    // One head: the rule does not depend on the count, and the dry run makes the workload.
    const std::vector<std::string> n16k = {"--heads", "1", "--seq-len", "16384", "--dry-run"};
    for (const std::vector<std::string>& more :
         {std::vector<std::string>{}, {"--mode", "dense", "--compare=false"}}) {
        auto a = n16k;
        a.insert(a.end(), more.begin(), more.end());
        const auto r = sprint::test::run_sim(dir, a);
        SHOW(r);
        CHECK(r.exit_code == sprint::test::kOk);
    }
    for (const std::vector<std::string>& more :
         {std::vector<std::string>{"--compare", "all"},
          {"--mode", "dense", "--softmax", "prob8", "--compare=false"},
          {"--mode", "dense-stream", "--compare=false"}}) {
        auto a = n16k;
        a.insert(a.end(), more.begin(), more.end());
        sprint::test::check_bad_input(dir, a, {"sprint.datapath.score_entries"});
    }
}

TEST_CASE("docs: profiles/paper.ini loads, every setting follows a cited statement, and sets it") {
    // Each setting is in a paragraph whose comments carry a source tag ([F], [S] or [D]).
    std::istringstream in(read("profiles/paper.ini"));
    std::string line, comments;
    std::size_t settings = 0;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '[') {
            comments.clear();
            continue;
        }
        if (line[0] == '#') {
            comments += line;
            continue;
        }
        INFO(line);
        ++settings;
        CHECK((comments.find("[F]") != std::string::npos ||
               comments.find("[S]") != std::string::npos ||
               comments.find("[D]") != std::string::npos));
    }
    CHECK(settings >= 6);
    sprint::test::TempDir dir;
    const std::string cfg = dir.file("c.ini");
    const auto r = sprint::test::run_sim(
        dir, {"--config", std::string(SPRINT_SOURCE_DIR) + "/profiles/paper.ini", "--dry-run",
              "--dump-config", cfg});
    SHOW(r);
    REQUIRE(r.exit_code == sprint::test::kOk);
    const std::string dumped = read_abs(cfg);
    for (const char* want :
         {"softmax = prob8", "output-format = int16", "preset = reram", "channels = 4",
          "interleave_bytes = 64", "k_resident = true", "unit_org = keys"}) {
        INFO(want);
        CHECK(dumped.find(want) != std::string::npos);
    }
}

TEST_CASE("docs: every file of the tree the documentation names exists (the layout stays true)") {
    namespace fs = std::filesystem;
    const fs::path root(SPRINT_SOURCE_DIR);
    // A path under one of the tree's folders, ending in a file name with an extension; patterns
    // written with a placeholder (fuzz_NAME.cpp, controller.h/.cpp) are not paths.
    const std::regex path_re(
        R"(\b((?:core|tlm_interfaces|modules|platforms|testbenches|scripts|bench|docs|sweeps|)"
        R"(tech|waveforms|cmake|profiles)/[A-Za-z0-9_./-]+\.(?:h|cpp|md|sh|py|yaml|json|gtkw|txt|)"
        R"(cmake|ini))\b)");
    std::size_t docs = 0, named = 0;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        const fs::path rel = fs::relative(e.path(), root);
        const std::string top = rel.begin()->string();
        if (e.path().extension() != ".md" || top.rfind("build", 0) == 0 || top[0] == '.') continue;
        ++docs;
        const std::string text = read(rel.string());
        for (std::sregex_iterator m(text.begin(), text.end(), path_re), end; m != end; ++m) {
            const std::string p = (*m)[1];
            if (p.find("NAME") != std::string::npos || p.find("/.") != std::string::npos) continue;
            ++named;
            INFO(rel.string() << " names " << p);
            CHECK(fs::exists(root / p));
        }
    }
    CHECK(docs >= 10);
    CHECK(named >= 50);
}

TEST_CASE("docs: README's default-run output is what the default run prints (host time aside)") {
    const std::string readme = read("README.md");
    const std::string intro = "This is a real run\n(`./scripts/run.sh`):\n\n```\n";
    const auto from = readme.find(intro);
    REQUIRE(from != std::string::npos);
    const auto begin = from + intro.size();
    const std::string shown = readme.substr(begin, readme.find("```", begin) - begin);
    sprint::test::TempDir dir;
    sprint::test::RunResult r;
    sprint::test::run_ok(dir, {}, &r);
    // Every line but the host's time and memory, which no two runs share.
    auto lines = [](const std::string& text) {
        std::vector<std::string> out;
        for (const auto& l : sprint::test::split_lines(text))
            if (l.rfind("host time:", 0) != 0) out.push_back(l);
        while (!out.empty() && out.back().empty()) out.pop_back();
        return out;
    };
    const auto expected = lines(r.out), documented = lines(shown);
    REQUIRE(expected.size() > 40);
    CHECK(documented.size() == expected.size());
    for (std::size_t i = 0; i < std::min(expected.size(), documented.size()); ++i) {
        INFO("line " << i + 1);
        CHECK(documented[i] == expected[i]);
    }
}
