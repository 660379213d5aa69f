// Timing mode of the IP and its memory port, chosen at run time (--timing lt|at).
//   LT: blocking transport with annotated delays and temporal decoupling.
//   AT: non-blocking transport with the 4-phase base protocol; time passes in the modules.
#pragma once

#include <string>

namespace sprint {

enum class TimingMode { LT, AT };

inline const char* to_string(TimingMode m) {
    return m == TimingMode::AT ? "at" : "lt";
}
inline bool parse(const std::string& s, TimingMode& out) {
    if (s == "lt")
        out = TimingMode::LT;
    else if (s == "at")
        out = TimingMode::AT;
    else
        return false;
    return true;
}

}  // namespace sprint
