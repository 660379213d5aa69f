// Fuzz target: constraint and --where expressions (platforms/sweep/expr.h), parsed and evaluated
// against names that have a number, a text or no value.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "platforms/sweep/expr.h"
#include "testbenches/fuzz/fuzz_common.h"

using sprint::sweep::Expr;
using sprint::sweep::Value;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    try {
        const Expr e(sprint::fuzz::text_of(data, size));
        // A name's kind follows from its text, so an input always evaluates the same way.
        (void)e.eval([](const std::string& name) -> std::optional<Value> {
            switch (std::hash<std::string>()(name) % 3) {
                case 0:
                    return std::nullopt;
                case 1:
                    return Value::of(double(name.size()) - 3.0);
                default:
                    return Value::of(name);
            }
        });
    } catch (const std::runtime_error&) {
    }
    return 0;
}
