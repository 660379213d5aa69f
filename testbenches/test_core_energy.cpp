// The cost model (core/energy.h): energy is counts x table plus leakage x time, area is
// structures x area, and a table from a file is checked entry by entry.
#include <catch2/catch.hpp>

#include "core/energy.h"

using namespace sprint::core;
using Catch::Matchers::Contains;

TEST_CASE("core/energy: energy is counts x table plus leakage x time - area from structures",
          "[core][energy]") {
    TechTable t;
    t.entries = {{"dram", "read", 8.0, "pJ/bit", "[X]"},
                 {"xbar", "mac", 0.1, "pJ/MAC", "[S]"},
                 {"xbar", "leakage", 0.05, "mW/tile", "[D]"},
                 {"xbar", "area", 0.02, "mm2/tile", "[D]"}};
    CostCounts c;
    c.events[{
        "dram",
        "read",
    }] = 1000.0;  // bits
    c.events[{"xbar", "mac"}] = 2e6;
    c.structures["xbar"] = 32;
    const EnergyReport r = cost(t, c, 1000.0);  // 1 us
    // 1000 x 8 + 2e6 x 0.1 pJ; 32 tiles x 0.05 mW x 1000 ns = 1600 pJ
    CHECK(r.per_block_pj.at("dram") == Approx(8000.0));
    CHECK(r.per_block_pj.at("xbar") == Approx(200000.0 + 1600.0));
    CHECK(r.total_pj == Approx(8000.0 + 200000.0 + 1600.0));
    CHECK(r.area_mm2 == Approx(0.64));
    REQUIRE(r.lines.size() == 3);
    for (const auto& l : r.lines)
        if (l.action != "leakage") CHECK(l.pj == Approx(l.count * l.per_event));
    // An event the table does not price is an error, not free.
    c.events[{"sram", "read"}] = 1.0;
    CHECK_THROWS_WITH(cost(t, c, 1.0), Contains("sram.read"));
}

TEST_CASE("core/energy: a table from JSON is checked - apply replaces values of known entries",
          "[core][energy]") {
    const TechTable d = TechTable::defaults();
    // The built-in table round-trips through its file form.
    const TechTable back = TechTable::from_json(d.to_json());
    REQUIRE(back.entries.size() == d.entries.size());
    for (std::size_t i = 0; i < d.entries.size(); ++i) {
        CHECK(back.entries[i].value == d.entries[i].value);
        CHECK(back.entries[i].unit == d.entries[i].unit);
    }
    auto entry = [](const nlohmann::json& e) {
        return nlohmann::json{{"entries", nlohmann::json::array({e})}};
    };
    const nlohmann::json good = {{"block", "dram"},
                                 {"action", "read"},
                                 {"value", 4.0},
                                 {"unit", "pJ/bit"},
                                 {"source", "[X]"}};
    nlohmann::json e = good;
    e.erase("unit");
    CHECK_THROWS_WITH(TechTable::from_json(entry(e)), Contains("entry 1") && Contains("unit"));
    e = good;
    e["value"] = -1.0;
    CHECK_THROWS_WITH(TechTable::from_json(entry(e)),
                      Contains("dram.read = -1") && Contains("out of range (0, or 1e-12 to 1e+12"));
    // Finite but beyond what gives printable, finite energies (issue 23): refused the same way.
    for (double v : {1e308, 1e-300, 2e12}) {
        e["value"] = v;
        CHECK_THROWS_WITH(TechTable::from_json(entry(e)), Contains("out of range"));
    }
    for (double v : {0.0, 1e-12, 1e12}) {
        e["value"] = v;
        CHECK_NOTHROW(TechTable::from_json(entry(e)));
    }
    e["value"] = "4";
    CHECK_THROWS_WITH(TechTable::from_json(entry(e)), Contains("must be a number"));
    CHECK_THROWS_WITH(TechTable::from_json(nlohmann::json{{"entries", {good, good}}}),
                      Contains("twice"));
    CHECK_THROWS_WITH(TechTable::from_json(nlohmann::json::array()), Contains("entries"));
    TechTable t = TechTable::defaults();
    t.apply(TechTable::from_json(entry(good)));
    CHECK(t.value("dram", "read") == 4.0);
    CHECK(t.value("dram", "write") == d.value("dram", "write"));
    e = good;
    e["action"] = "reed";
    CHECK_THROWS_WITH(t.apply(TechTable::from_json(entry(e))), Contains("dram.reed"));
    e = good;
    e["unit"] = "pJ/B";
    CHECK_THROWS_WITH(t.apply(TechTable::from_json(entry(e))), Contains("pJ/bit"));
}
