#include "platforms/sim/accelergy.h"

#include <cctype>
#include <cmath>
#include <fstream>
#include <stdexcept>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

namespace sprint {
namespace {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// "system.chip.PE[0..15].mac" -> "mac", "system.xbar[0..31]" -> "xbar"
std::string component_of(const std::string& name) {
    std::string plain;
    int depth = 0;
    for (char c : name) {
        if (c == '[') ++depth;
        if (depth == 0) plain += c;
        if (c == ']' && depth > 0) --depth;
    }
    const auto dot = plain.find_last_of('.');
    return lower(dot == std::string::npos ? plain : plain.substr(dot + 1));
}

bool has_block(const core::TechTable& model, const std::string& block) {
    for (const auto& e : model.entries)
        if (e.block == block) return true;
    return false;
}

// A finite number >= 0 (> 0 with `positive`); `where` names it in the error.
double number(const YAML::Node& v, const std::string& where, bool positive = false) {
    double x = 0.0;
    try {
        x = v.as<double>();
    } catch (const YAML::Exception&) {
        throw std::runtime_error(where + " is not a number");
    }
    if (!std::isfinite(x) || x < 0.0 || (positive && x == 0.0))
        throw std::runtime_error(where +
                                 (positive ? " must be a number > 0" : " must be a number >= 0"));
    return x;
}

// How many of Accelergy's units (one access, one instance) make one of the model's: the unit's
// denominator says what the model counts.
double divisor(const core::TechEntry& e, const YAML::Node& table, const std::string& where) {
    const std::string per =
        e.unit.substr(e.unit.find('/') == std::string::npos ? e.unit.size() : e.unit.find('/') + 1);
    const auto need = [&](const char* key, const char* what) {
        if (!table[key])
            throw std::runtime_error(where + ": the model counts " + e.block + "." + e.action +
                                     " in " + e.unit + "; add '" + key + ": <" + what +
                                     ">' to the table (Accelergy gives one access or instance)");
        return number(table[key], where + ": '" + key + "'", true);
    };
    if (per == "bit") return need("width", "bits per access");
    if (per == "B") return need("width", "bits per access") / 8.0;
    if (per == "KB") return need("kilobytes", "KB per instance");
    return 1.0;
}

// Whether `s` is UTF-8 text, as nlohmann::json (which writes the source into --dump-tech and
// --stats) requires.
bool utf8_text(const std::string& s) {
    try {
        (void)nlohmann::json(s).dump();
        return true;
    } catch (const nlohmann::json::type_error&) {
        return false;
    }
}

void set_entry(core::TechTable& out, const core::TechEntry& like, double value,
               const std::string& source) {
    if (!utf8_text(source))
        throw std::runtime_error(source.substr(0, source.find(':')) +
                                 ": a table or file name is not UTF-8 text");
    for (const auto& e : out.entries)
        if (e.block == like.block && e.action == like.action)
            throw std::runtime_error(source + ": " + like.block + "." + like.action +
                                     " is given twice");
    const std::string bad = core::TechTable::check_value(like.block, like.action, value);
    if (!bad.empty()) throw std::runtime_error(source + ": " + bad);
    out.entries.push_back({like.block, like.action, value, like.unit, source});
}

// An ERT action as the model takes it: the energy with `arguments: null`, or the only one given.
struct Pick {
    std::string name;
    YAML::Node plain;  // the entry with no arguments, if any
    YAML::Node first;
    int given = 0;
};

// The actions of one ERT table, by name (lower case), each with its entries.
std::vector<Pick> pick_actions(const YAML::Node& actions, const std::string& where) {
    std::vector<Pick> picked;
    for (std::size_t a = 0; a < actions.size(); ++a) {
        const YAML::Node act = actions[a];
        if (!act.IsMap() || !act["name"] || !act["energy"])
            throw std::runtime_error(where + ", action " + std::to_string(a + 1) +
                                     ": needs 'name' and 'energy'");
        const std::string an = lower(act["name"].as<std::string>());
        const bool plain = !act["arguments"] || act["arguments"].IsNull();
        Pick* p = nullptr;
        for (Pick& q : picked)
            if (q.name == an) p = &q;
        if (!p) {
            picked.push_back({an, YAML::Node(), act, 0});
            p = &picked.back();
        }
        if (plain) {
            if (p->plain.IsDefined() && !p->plain.IsNull())
                throw std::runtime_error(where + ": action '" + an + "' is given twice");
            p->plain = act;
        }
        ++p->given;
    }
    return picked;
}

// One ERT table into `out`: each action the model has for `block`, in pJ per event (idle: mW of
// leakage at `clock_ns`), over the table's instance count.
void read_ert_table(core::TechTable& out, const core::TechTable& model, const YAML::Node& t,
                    const std::string& block, const std::string& where, const std::string& source,
                    double clock_ns, std::vector<std::string>& ignored) {
    const std::string name = t["name"].as<std::string>();
    const YAML::Node actions = t["actions"];
    if (!actions.IsSequence()) throw std::runtime_error(where + ": 'actions' must be a list");
    for (const Pick& p : pick_actions(actions, where)) {
        const std::string& an = p.name;
        const std::string what = where + ", action '" + an + "'";
        const std::string action = an == "idle" ? "leakage" : an;
        const core::TechEntry* e = model.find(block, action);
        if (!e || action == "area") {
            ignored.push_back(name + "." + an + " (no action '" + action + "' of " + block +
                              " in the model)");
            continue;
        }
        const bool has_plain = p.plain.IsDefined() && !p.plain.IsNull();
        if (p.given > 1 && !has_plain)
            throw std::runtime_error(what +
                                     ": given several times with different "
                                     "arguments; the model needs one entry with "
                                     "'arguments: null'");
        const YAML::Node act = has_plain ? p.plain : p.first;
        const double pj = number(act["energy"], what + ": 'energy'");
        // idle: pJ per cycle of one instance; pJ / ns = mW.
        const double value = (action == "leakage" ? pj / clock_ns : pj) / divisor(*e, t, where);
        set_entry(out, *e, value, source);
    }
}

// One ART table into `out`: the block's area in mm2, over the table's instance count.
void read_art_table(core::TechTable& out, const core::TechTable& model, const YAML::Node& t,
                    const std::string& block, const std::string& where, const std::string& source,
                    std::vector<std::string>& ignored) {
    const core::TechEntry* e = model.find(block, "area");
    if (!e) {
        ignored.push_back(t["name"].as<std::string>() + " (the model gives " + block + " no area)");
        return;
    }
    if (!t["area"]) throw std::runtime_error(where + ": no 'area'");
    const double um2 = number(t["area"], where + ": 'area'");
    set_entry(out, *e, um2 / 1e6 / divisor(*e, t, where), source);
}

}  // namespace

bool tech_file_is_json(const std::string& path) {
    std::ifstream in(path);
    char c = 0;
    while (in.get(c))
        if (!std::isspace(static_cast<unsigned char>(c))) return c == '{';
    return false;
}

core::TechTable tech_from_accelergy(const std::string& path, const core::TechTable& model,
                                    double clock_ns, std::vector<std::string>& ignored) {
    YAML::Node root;
    try {
        root = YAML::LoadFile(path);
    } catch (const YAML::Exception& e) {
        throw std::runtime_error(std::string("not readable YAML: ") + e.what());
    }
    const bool ert = root["ERT"].IsDefined();
    const bool art = root["ART"].IsDefined();
    if (!root.IsMap() || ert == art)
        throw std::runtime_error(
            "neither JSON (the --dump-tech format) nor an Accelergy table "
            "(a YAML file whose top level is 'ERT:' or 'ART:')");
    const char* kind = ert ? "ERT" : "ART";
    const YAML::Node tables = root[kind]["tables"];
    if (!tables.IsSequence())
        throw std::runtime_error(std::string(kind) + ": 'tables' must be a list");

    core::TechTable out;
    out.name = "accelergy";
    for (std::size_t i = 0; i < tables.size(); ++i) {
        const YAML::Node t = tables[i];
        if (!t.IsMap() || !t["name"] || !t["name"].IsScalar())
            throw std::runtime_error(std::string(kind) + " table " + std::to_string(i + 1) +
                                     ": no 'name'");
        const std::string name = t["name"].as<std::string>();
        const std::string block = component_of(name);
        const std::string where = std::string(kind) + " table '" + name + "'";
        const std::string source = "[X] Accelergy " + std::string(kind) + " " + path + ": " + name;
        if (!has_block(model, block)) {
            ignored.push_back(name + " (no block '" + block + "' in the model)");
            continue;
        }
        if (art)
            read_art_table(out, model, t, block, where, source, ignored);
        else
            read_ert_table(out, model, t, block, where, source, clock_ns, ignored);
    }
    if (out.entries.empty())
        throw std::runtime_error(std::string("no table of this ") + kind +
                                 " names a block and action of the model (see --dump-tech)");
    return out;
}

}  // namespace sprint
