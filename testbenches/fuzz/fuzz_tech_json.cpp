// Fuzz target: technology tables in JSON (core/energy.h, `--tech FILE.json`), read and laid over
// the built-in table as sprint-sim does, then costed.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/energy.h"
#include "testbenches/fuzz/fuzz_common.h"

using sprint::core::TechTable;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    try {
        TechTable table = TechTable::defaults();
        table.apply(TechTable::from_json(nlohmann::json::parse(sprint::fuzz::text_of(data, size))));
        (void)table.to_json().dump();
        sprint::core::CostCounts counts;
        for (const auto& e : table.entries) {
            if (e.action == "leakage" || e.action == "area")
                counts.structures[e.block] = 3;
            else
                counts.events[{e.block, e.action}] = 1000;
        }
        (void)sprint::core::cost(table, counts, 1000.0);
    } catch (const std::runtime_error&) {
    } catch (const nlohmann::json::exception&) {
        // What nlohmann::json documents for text that is not JSON; sprint-sim reports it.
    }
    return 0;
}
