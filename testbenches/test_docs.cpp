// The reference documents are generated from the model's own tables; these tests keep them equal,
// so the docs cannot drift from the code.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/energy.h"
#include "core/workload.h"
#include "platforms/cli.h"
#include "platforms/sweep/figures.h"
#include "tlm_interfaces/job_check.h"
#include "tlm_interfaces/register_map.h"

namespace {

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
    CHECK(nlohmann::json::parse(doc) == sprint::core::TechTable::defaults().to_json());
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
