// What the report's parts share: statistics read from a stats tree, numbers formatted for the
// summary, and the engines (pipeline stages and blocks) the summary and --stats both list.
#include <sys/resource.h>

#include <iomanip>
#include <sstream>

#include "modules/compute_unit.h"
#include "platforms/sim/report_internal.h"

namespace sprint::platform::report {

json v(const json& x, const char* unit, const char* desc) {
    return {{"value", x}, {"unit", unit}, {"description", desc}};
}

const json* stat(const json& j, const std::vector<std::string>& path) {
    const json* p = &j;
    for (const std::string& k : path) {
        if (!p->is_object() || !p->contains(k)) return nullptr;
        p = &(*p)[k];
    }
    return p;
}

double num(const json& j, const std::vector<std::string>& path) {
    const json* p = stat(j, path);
    return p && p->contains("value") && (*p)["value"].is_number() ? (*p)["value"].get<double>()
                                                                  : 0.0;
}

std::string fmt_int(uint64_t x) {
    std::string s = std::to_string(x);
    for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(std::size_t(i), ",");
    return s;
}

std::string fmt(double x, int prec) {
    std::ostringstream os;
    os << std::fixed << std::setprecision(prec) << x;
    return os.str();
}

std::string ratio(double r, const char* at_least_one, const char* below_one) {
    return r >= 1.0 ? fmt(r, 2) + "x " + at_least_one : fmt(1.0 / r, 2) + "x " + below_one;
}

std::string speed_words(double r) {
    return r >= 1.0 ? "speed-up " + fmt(r, 2) + "x" : "slow-down " + fmt(1.0 / r, 2) + "x";
}

long peak_rss_mib() {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;  // ru_maxrss is in KiB on Linux
}

// One row per engine; with several compute units, each unit's stages and datapath have a row of
// their own ("unit_1.compute", "unit 1: stage compute (datapath)").
std::vector<EngineRow> engine_rows(uint32_t units, uint32_t channels) {
    std::vector<EngineRow> rows;
    rows.push_back({"stage front (Q, crossbar)", "front",
                    [](const json& m, const json&) {
                        return num(m, {"controller", "stage_front", "busy_ns"});
                    },
                    [](const json& m, const json&) {
                        return num(m, {"controller", "stage_front", "starved_ns"}) +
                               num(m, {"controller", "stage_front", "blocked_ns"});
                    }});
    rows.push_back({"crossbar array", "xbar",
                    [](const json& m, const json&) {
                        return num(m, {"xbar", "busy_ns"});
                    },
                    [](const json& m, const json&) {
                        return num(m, {"xbar", "queued_ns"});
                    }});
    rows.push_back({"stage mask (read-out, dealing)", "mask",
                    [](const json& m, const json&) {
                        return num(m, {"controller", "stage_mask", "busy_ns"});
                    },
                    [](const json& m, const json&) {
                        return num(m, {"controller", "stage_mask", "starved_ns"}) +
                               num(m, {"controller", "stage_mask", "blocked_ns"});
                    }});
    rows.push_back({"comparator read-out", "comparators",
                    [](const json& m, const json&) {
                        return num(m, {"comparators", "busy_ns"});
                    },
                    [](const json& m, const json&) {
                        return num(m, {"comparators", "queued_ns"});
                    }});
    const std::pair<const char*, const char*> stages[] = {
        {"stage fetch K", "fetch_k"},
        {"stage fetch V", "fetch_v"},
        {"stage compute (datapath)", "compute"},
        {"stage write-back (outputs)", "writeback"}};
    for (uint32_t u = 0; u < units; ++u) {
        const std::string unit = unit_name(u);
        const std::string label = units > 1 ? "unit " + std::to_string(u) + ": " : "";
        const std::string key = units > 1 ? unit + "." : "";
        for (const auto& s : stages) {
            const std::string g = std::string("stage_") + s.second;
            rows.push_back({label + s.first, key + s.second,
                            [g, unit](const json& m, const json&) {
                                return num(m, {"controller", unit, g, "busy_ns"});
                            },
                            [g, unit](const json& m, const json&) {
                                return num(m, {"controller", unit, g, "starved_ns"}) +
                                       num(m, {"controller", unit, g, "blocked_ns"});
                            }});
        }
        rows.push_back({label + "datapath units", key + "datapath",
                        [unit](const json& m, const json&) {
                            return num(m, {unit, "datapath", "qk_busy_ns"}) +
                                   num(m, {unit, "datapath", "softmax_busy_ns"}) +
                                   num(m, {unit, "datapath", "v_busy_ns"});
                        },
                        [unit](const json& m, const json&) {
                            return num(m, {unit, "datapath", "queued_ns"});
                        }});
    }
    rows.push_back({"fetcher", "fetcher",
                    [](const json& m, const json&) {
                        return num(m, {"fetcher", "busy_ns"});
                    },
                    [](const json& m, const json&) {
                        return num(m, {"fetcher", "mem_request_stall_ns"});
                    }});
    rows.push_back(
        {channels > 1 ? "memory data buses (mean)" : "memory data bus", "memory_bus",
         [channels](const json&, const json& d) { return num(d, {"busy_ps"}) / 1000.0 / channels; },
         nullptr});
    return rows;
}

}  // namespace sprint::platform::report
