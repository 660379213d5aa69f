#include "platforms/sweep/spec.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include <yaml-cpp/yaml.h>

#include "core/rng.h"

namespace sprint::sweep {

void set_option(Options& opts, const std::string& name, const std::string& value) {
    for (auto& [n, v] : opts)
        if (n == name) {
            v = value;
            return;
        }
    opts.emplace_back(name, value);
}

std::string options_key(const Options& opts) {
    std::vector<std::string> lines;
    for (const auto& [n, v] : opts) lines.push_back(n + "=" + v);
    std::sort(lines.begin(), lines.end());
    std::string key;
    for (const auto& l : lines) key += l + "\n";
    return key;
}

namespace {

// Options the sweep sets itself or that would make a point write or print something else.
const std::set<std::string> kReserved = {"stats",       "output",      "vcd",
                                         "dump-config", "dump-regmap", "dump-params",
                                         "dump-tech",   "help",        "version"};
// Options whose values are file names (relative to the spec's directory).
const std::set<std::string> kFileOptions = {"config",      "q",           "k",    "v",
                                            "calibrate-q", "calibrate-k", "tech", "model"};

struct Ctx {
    std::string origin, dir;
    [[noreturn]] void fail(const YAML::Node& n, const std::string& what) const {
        std::string where = origin;
        if (n.IsDefined() && n.Mark().line >= 0) where += ":" + std::to_string(n.Mark().line + 1);
        throw std::runtime_error(where + ": " + what);
    }
    std::string scalar(const YAML::Node& n, const std::string& what) const {
        if (!n.IsScalar()) fail(n, what + " must be a single value");
        return n.Scalar();
    }
    double number(const YAML::Node& n, const std::string& what) const {
        const Value v = Value::of(scalar(n, what));
        if (!v.number || v.text == "true" || v.text == "false")
            fail(n, what + " must be a number, not '" + v.text + "'");
        return *v.number;
    }
    std::string option_name(const YAML::Node& key) const {
        std::string name = scalar(key, "an option name");
        while (!name.empty() && name.front() == '-') name.erase(name.begin());
        if (name.empty()) fail(key, "an empty option name");
        if (kReserved.count(name))
            fail(key, "option '" + name + "' is set by the sweep itself and cannot be given");
        return name;
    }
    std::string option_value(const std::string& name, const std::string& value) const {
        if (!kFileOptions.count(name) || value.empty()) return value;
        std::string out;
        std::stringstream ss(value);
        std::string item;
        while (std::getline(ss, item, ',')) {
            std::filesystem::path p(item);
            if (p.is_relative()) p = std::filesystem::path(dir) / p;
            out += (out.empty() ? "" : ",") + p.lexically_normal().string();
        }
        return out;
    }
    Options options(const YAML::Node& map, const std::string& what) const {
        Options out;
        if (!map.IsDefined() || map.IsNull()) return out;
        if (!map.IsMap()) fail(map, what + " must be a map of option: value");
        for (const auto& kv : map) {
            const std::string name = option_name(kv.first);
            set_option(out, name, option_value(name, scalar(kv.second, "option '" + name + "'")));
        }
        return out;
    }
};

// A number written without noise: 0.1 + 2 * 0.1 prints as 0.3, not 0.30000000000000004.
std::string clean_number(double v, bool integer) {
    if (integer) return std::to_string(std::llround(v));
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.12g", v);
    return Value::of(std::strtod(buf, nullptr)).text;
}

// A count for a message: whole while a double holds it exactly, else in powers of ten.
std::string count_text(double n) {
    char buf[40];
    if (!std::isfinite(n)) return "more than 1e308";
    std::snprintf(buf, sizeof buf, n < 9007199254740992.0 ? "%.0f" : "%.3g", n);
    return buf;
}

// Refuses an axis of `n` values when the axes would then hold more than kMaxPoints values
// together, before any is made (a range with a step of 1e-9 would make a billion).
void check_value_count(const Ctx& c, const YAML::Node& at, const std::string& what, double n,
                       uint64_t used) {
    if (n <= double(kMaxPoints - used)) return;
    c.fail(at, what + ": " + count_text(n) + " values" +
                   (used ? " (and " + std::to_string(used) + " on the axes before it)" : "") +
                   ", more than the " + std::to_string(kMaxPoints) +
                   " a spec's axes may hold together");
}

// The option names an axis sets: its name split at commas ("a, b": one value sets both).
std::vector<std::string> axis_params(const Ctx& c, const YAML::Node& key, const std::string& name) {
    std::vector<std::string> params;
    std::stringstream ss(name);
    std::string item;
    while (std::getline(ss, item, ',')) {
        const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
        if (b == std::string::npos) c.fail(key, "axis '" + name + "' has an empty name in it");
        std::string n = item.substr(b, e - b + 1);
        while (!n.empty() && n.front() == '-') n.erase(n.begin());
        if (n.empty()) c.fail(key, "axis '" + name + "' has an empty name in it");
        if (kReserved.count(n))
            c.fail(key, "option '" + n + "' is set by the sweep itself and cannot be swept");
        params.push_back(n);
    }
    if (params.empty())
        c.fail(key, "an axis needs the name of the option it sweeps, not '" + name + "'");
    return params;
}

// The values of a list, as values of the axis's first option.
void add_listed(const Ctx& c, Axis& a, const YAML::Node& list, const std::string& what,
                uint64_t used) {
    check_value_count(c, list, what, double(list.size()), used);
    for (const auto& v : list)
        a.values.push_back(c.option_value(a.params.front(), c.scalar(v, what + ": a value")));
}

// The values of a range from `from`, `step` apart, up to `to`.
void add_stepped(const Ctx& c, Axis& a, const YAML::Node& step_node, const std::string& what,
                 uint64_t used) {
    if (a.log) c.fail(step_node, what + ": a log range takes num, not step");
    const double step = c.number(step_node, what + ": step");
    if (!(step > 0)) c.fail(step_node, what + ": step must be positive");
    // Rounding noise (0.2 / 0.1 = 1.9999999999999998) is not a value short; it
    // grows with the quotient (1 / 1e-9 = 999999999.9999999).
    const double q = (a.to - a.from) / step;
    const double n = std::floor(q + std::max(1e-9, q * 1e-12)) + 1;
    check_value_count(c, step_node, what, n, used);
    for (int64_t k = 0; k < int64_t(n); ++k)
        a.values.push_back(clean_number(a.from + double(k) * step, a.integer));
}

// `num` values of a range, evenly spaced from `from` to `to` (by ratio on a log range).
void add_counted(const Ctx& c, Axis& a, const YAML::Node& num_node, const std::string& what,
                 uint64_t used) {
    const double n = c.number(num_node, what + ": num");
    if (n < 1 || n != std::floor(n))
        c.fail(num_node, what + ": num must be a whole number, at least 1");
    check_value_count(c, num_node, what, n, used);
    for (int64_t k = 0; k < int64_t(n); ++k) {
        const double t = n == 1 ? 0.0 : double(k) / (n - 1);
        const double v = a.log ? a.from * std::pow(a.to / a.from, t) : a.from + (a.to - a.from) * t;
        a.values.push_back(clean_number(v, a.integer));
    }
}

// A range: from, to, scale and type, then its values by step or num; with neither it is
// continuous.
void parse_range(const Ctx& c, Axis& a, const YAML::Node& body, const std::string& what,
                 uint64_t used) {
    if (!body["from"] || !body["to"])
        c.fail(body, what + ": a range needs from and to (or give values)");
    a.from = c.number(body["from"], what + ": from");
    a.to = c.number(body["to"], what + ": to");
    const std::string scale = body["scale"] ? c.scalar(body["scale"], "scale") : "linear";
    if (scale != "linear" && scale != "log")
        c.fail(body["scale"], what + ": scale must be linear or log");
    a.log = scale == "log";
    const std::string type = body["type"] ? c.scalar(body["type"], "type") : "real";
    if (type != "real" && type != "int") c.fail(body["type"], what + ": type must be real or int");
    a.integer = type == "int";
    if (a.to < a.from) c.fail(body, what + ": to is below from");
    if (a.log && a.from <= 0) c.fail(body, what + ": a log range needs from > 0");
    if (body["step"] && body["num"]) c.fail(body, what + ": give step or num, not both");
    if (body["step"])
        add_stepped(c, a, body["step"], what, used);
    else if (body["num"])
        add_counted(c, a, body["num"], what, used);
    else
        a.continuous = true;
}

// An axis written as a map: a list of values, or a range.
void parse_axis_map(const Ctx& c, Axis& a, const YAML::Node& body, const std::string& what,
                    uint64_t used) {
    static const std::set<std::string> known = {"values", "from",  "to",  "step",
                                                "num",    "scale", "type"};
    for (const auto& kv : body)
        if (!known.count(kv.first.Scalar()))
            c.fail(kv.first, what + ": unknown key '" + kv.first.Scalar() +
                                 "' (values, from, to, step, num, scale, type)");
    if (body["values"]) {
        if (!body["values"].IsSequence()) c.fail(body["values"], what + ": values must be a list");
        add_listed(c, a, body["values"], what, used);
    } else {
        parse_range(c, a, body, what, used);
    }
}

// Integer rounding or a short list may repeat a value: each value once.
void drop_repeats(const Ctx& c, Axis& a, const YAML::Node& body, const std::string& what) {
    std::vector<std::string> unique;
    std::unordered_set<std::string> seen;
    for (auto& v : a.values)
        if (seen.insert(v).second) unique.push_back(std::move(v));
    a.values = std::move(unique);
    if (a.values.empty()) c.fail(body, what + " has no values");
}

// `used`: the values the axes before this one hold.
Axis parse_axis(const Ctx& c, const YAML::Node& key, const YAML::Node& body, uint64_t used) {
    Axis a;
    a.name = c.scalar(key, "an axis name");
    a.params = axis_params(c, key, a.name);
    const std::string what = "axis '" + a.name + "'";
    if (body.IsSequence()) {
        add_listed(c, a, body, what, used);
    } else if (body.IsMap()) {
        parse_axis_map(c, a, body, what, used);
    } else {
        check_value_count(c, body, what, 1.0, used);
        a.values.push_back(c.option_value(a.params.front(), c.scalar(body, what)));
    }
    if (!a.continuous) drop_repeats(c, a, body, what);
    return a;
}

// A value of a continuous axis at u in [0, 1), to 4 significant digits (a drawn value needs
// no more, and the point's key and its plots stay readable).
std::string at(const Axis& a, double u) {
    const double v = a.log ? a.from * std::pow(a.to / a.from, u) : a.from + (a.to - a.from) * u;
    if (a.integer) return clean_number(v, true);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return Value::of(std::strtod(buf, nullptr)).text;
}

// The options every point of a workload sets, in order (base, workload, then the axes'), and for
// each axis where its options sit in that list: a point copies the list and fills in its values,
// so expanding costs the same per option however many options a spec has.
struct Layout {
    Options options;
    std::vector<std::vector<std::size_t>> slots;  // per axis
};

Layout layout_of(const Spec& spec, const Workload& w) {
    Layout l;
    l.options = spec.base;
    for (const auto& [n, v] : w.options) set_option(l.options, n, v);
    for (const auto& a : spec.axes) {
        l.slots.emplace_back();
        for (const auto& p : a.params) {
            set_option(l.options, p, "");
            const auto it = std::find_if(l.options.begin(), l.options.end(),
                                         [&](const auto& o) { return o.first == p; });
            l.slots.back().push_back(std::size_t(it - l.options.begin()));
        }
    }
    return l;
}

uint64_t times(uint64_t a, uint64_t b) {
    return b != 0 && a > std::numeric_limits<uint64_t>::max() / b
               ? std::numeric_limits<uint64_t>::max()
               : a * b;
}

// What expand() will hold in memory, estimated from the names and values each point gets, and
// the largest point's options and option text. Every option and axis value is a pair of strings
// (64 bytes) with its text held three times (the options, the key, the set of keys), and a point
// takes about 256 bytes more: within a few per cent of what expansions measure.
struct Footprint {
    double bytes = 0, options = 0, text = 0;
};

double text_of(const Options& opts) {
    double t = 0;
    for (const auto& [n, v] : opts) t += double(n.size() + v.size());
    return t;
}

Footprint footprint(const Spec& spec, uint64_t points) {
    double axes_options = 0, axes_text = 0, axis_values = 0;
    for (const auto& a : spec.axes) {
        double values = 0;
        for (const auto& v : a.values) values += double(v.size());
        // A value drawn from a continuous range prints in at most a dozen characters.
        const double mean = a.values.empty() ? 12.0 : values / double(a.values.size());
        axes_options += double(a.params.size());
        for (const auto& p : a.params) axes_text += double(p.size()) + mean;
        axis_values += 64.0 + 3.0 * (double(a.name.size()) + mean);
    }
    const double per_workload =
        double(points) / double(std::max<std::size_t>(spec.workloads.size(), 1));
    Footprint f;
    for (const auto& w : spec.workloads) {
        const double options = double(spec.base.size() + w.options.size()) + axes_options;
        const double text = text_of(spec.base) + text_of(w.options) + axes_text;
        f.options = std::max(f.options, options);
        f.text = std::max(f.text, text);
        f.bytes += per_workload * (256.0 + 64.0 * options + 3.0 * text + axis_values);
    }
    return f;
}

// Why a spec of `count` points is refused: the count, the factors it comes from, the limit.
std::string too_many_points(const Spec& s, uint64_t count) {
    std::string factors =
        std::to_string(s.workloads.size()) + (s.workloads.size() == 1 ? " workload" : " workloads");
    if (s.sampling != Sampling::Grid) {
        factors += " x " + std::to_string(s.samples) + " samples";
    } else {
        std::size_t shown = 0;
        for (const auto& a : s.axes)
            if (a.values.size() > 1 && ++shown <= 8)
                factors += " x " + std::to_string(a.values.size());
        if (shown > 8) factors += " x ...";
        if (shown > 0) factors += " axis values";
    }
    const std::string n =
        count == std::numeric_limits<uint64_t>::max() ? "more than 1.8e19" : std::to_string(count);
    return "the spec expands to " + n + " points (" + factors + "), more than the " +
           std::to_string(kMaxPoints) +
           " a sweep may have: split it into several specs, or sample it (sampling: random or "
           "lhs with samples: N)";
}

}  // namespace

uint64_t point_count(const Spec& spec) {
    uint64_t n = spec.workloads.size();
    if (spec.sampling != Sampling::Grid) return times(n, spec.samples);
    for (const auto& a : spec.axes) n = times(n, a.values.size());
    return n;
}

uint64_t expansion_bytes(const Spec& spec) {
    const double bytes = footprint(spec, point_count(spec)).bytes;
    return bytes >= 1.8e19 ? std::numeric_limits<uint64_t>::max() : uint64_t(bytes);
}

namespace {

// "" when the expansion is within kMaxPoints points and kMaxExpansionBytes, else why not.
std::string size_error(const Spec& s) {
    const uint64_t points = point_count(s);
    if (points > kMaxPoints) return too_many_points(s, points);
    const Footprint f = footprint(s, points);
    if (f.bytes <= double(kMaxExpansionBytes)) return "";
    auto mb = [](double bytes) { return std::to_string(uint64_t(std::ceil(bytes / (1 << 20)))); };
    return "expanding the spec's " + std::to_string(points) + " points would take about " +
           mb(f.bytes) + " MB of memory (up to " + std::to_string(uint64_t(f.options)) +
           " options and " + std::to_string(uint64_t(f.text)) +
           " bytes of option text a point), more than the " + mb(double(kMaxExpansionBytes)) +
           " MB a sweep may take: split it, or make its values shorter";
}

YAML::Node load_yaml(const std::string& text, const std::string& origin) {
    try {
        return YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw std::runtime_error(origin + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
}

// The top of a spec is a map of the keys below; any other key is refused.
void check_spec_keys(const Ctx& c, const YAML::Node& root) {
    if (!root.IsMap()) c.fail(root, "a sweep spec is a map (name, workloads, base, axes, ...)");
    static const std::set<std::string> known = {"name",    "description", "workloads",
                                                "base",    "axes",        "sampling",
                                                "samples", "seed",        "constraints"};
    for (const auto& kv : root)
        if (!known.count(kv.first.Scalar()))
            c.fail(kv.first, "unknown key '" + kv.first.Scalar() +
                                 "' (name, description, workloads, base, axes, sampling, "
                                 "samples, seed, constraints)");
}

// The workloads by name, or one named default without options when the spec gives none.
std::vector<Workload> parse_workloads(const Ctx& c, const YAML::Node& w) {
    std::vector<Workload> out;
    if (w && !w.IsNull()) {
        if (!w.IsMap()) c.fail(w, "workloads must be a map of name: {option: value, ...}");
        for (const auto& kv : w)
            out.push_back({c.scalar(kv.first, "a workload name"),
                           c.options(kv.second, "workload '" + kv.first.Scalar() + "'")});
    }
    if (out.empty()) out.push_back({"default", {}});
    return out;
}

// The axes in order; each option is swept by one axis only.
std::vector<Axis> parse_axes(const Ctx& c, const YAML::Node& ax) {
    std::vector<Axis> out;
    if (!ax || ax.IsNull()) return out;
    if (!ax.IsMap()) c.fail(ax, "axes must be a map of option: values");
    std::set<std::string> seen;
    uint64_t values = 0;
    for (const auto& kv : ax) {
        Axis a = parse_axis(c, kv.first, kv.second, values);
        values += a.values.size();
        for (const auto& p : a.params)
            if (!seen.insert(p).second) c.fail(kv.first, "option '" + p + "' is swept twice");
        out.push_back(std::move(a));
    }
    return out;
}

// How the points are drawn: the sampling, its seed, and the samples of random and lhs sampling
// (a grid takes every value of discrete axes instead).
void parse_sampling(const Ctx& c, YAML::Node root, Spec& s) {
    const std::string sampling = root["sampling"] ? c.scalar(root["sampling"], "sampling") : "grid";
    if (sampling == "grid")
        s.sampling = Sampling::Grid;
    else if (sampling == "random")
        s.sampling = Sampling::Random;
    else if (sampling == "lhs")
        s.sampling = Sampling::Lhs;
    else
        c.fail(root["sampling"], "sampling must be grid, random or lhs, not '" + sampling + "'");
    if (root["seed"]) {
        const double seed = c.number(root["seed"], "seed");
        if (seed < 0 || seed > 9007199254740992.0 || seed != std::floor(seed))
            c.fail(root["seed"], "seed must be a whole number from 0 to 2^53");
        s.seed = uint64_t(seed);
    }
    if (s.sampling == Sampling::Grid) {
        if (root["samples"]) c.fail(root["samples"], "samples is for random and lhs sampling");
        for (const auto& a : s.axes)
            if (a.continuous)
                c.fail(root["axes"],
                       "axis '" + a.name + "': grid sampling needs step or num on a range");
    } else {
        if (!root["samples"]) c.fail(root, sampling + " sampling needs samples: N");
        const double n = c.number(root["samples"], "samples");
        if (n < 1 || n > double(kMaxPoints) || n != std::floor(n))
            c.fail(root["samples"],
                   "samples must be a whole number from 1 to " + std::to_string(kMaxPoints));
        s.samples = uint64_t(n);
    }
}

std::vector<Expr> parse_constraints(const Ctx& c, const YAML::Node& cs) {
    std::vector<Expr> out;
    if (!cs || cs.IsNull()) return out;
    if (!cs.IsSequence()) c.fail(cs, "constraints must be a list of expressions");
    for (const auto& e : cs) {
        try {
            out.emplace_back(c.scalar(e, "a constraint"));
        } catch (const std::runtime_error& err) {
            c.fail(e, err.what());
        }
    }
    return out;
}

}  // namespace

Spec parse_spec(const std::string& text, const std::string& origin, const std::string& dir) {
    const Ctx c{origin, dir};
    YAML::Node root = load_yaml(text, origin);
    check_spec_keys(c, root);
    Spec s;
    s.text = text;
    if (!root["name"]) c.fail(root, "the spec needs a name");
    s.name = c.scalar(root["name"], "name");
    if (root["description"]) s.description = c.scalar(root["description"], "description");
    s.base = c.options(root["base"], "base");
    s.workloads = parse_workloads(c, root["workloads"]);
    s.axes = parse_axes(c, root["axes"]);
    parse_sampling(c, root, s);
    if (const std::string too_big = size_error(s); !too_big.empty())
        c.fail(s.sampling != Sampling::Grid ? root["samples"]
               : root["axes"]               ? root["axes"]
                                            : root["workloads"],
               too_big);
    s.constraints = parse_constraints(c, root["constraints"]);
    return s;
}

Spec load_spec(const std::string& path) {
    std::error_code ec;
    std::ifstream in(path);
    if (!std::filesystem::is_regular_file(path, ec) || !in)
        throw std::runtime_error("sweep spec '" + path + "' cannot be opened for reading");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string dir =
        std::filesystem::absolute(std::filesystem::path(path)).parent_path().string();
    return parse_spec(ss.str(), path, dir);
}

std::vector<Point> expand(const Spec& spec) {
    if (const std::string too_big = size_error(spec); !too_big.empty())
        throw std::runtime_error("sweep '" + spec.name + "': " + too_big);
    std::vector<Point> out;
    if (point_count(spec) == 0) return out;  // a grid over an axis without values
    std::set<std::string> keys;
    Layout layout;
    auto add = [&](const Workload& w, const std::vector<std::string>& values) {
        Point p;
        p.workload = w.name;
        p.options = layout.options;
        for (std::size_t a = 0; a < spec.axes.size(); ++a) {
            p.axis_values.emplace_back(spec.axes[a].name, values[a]);
            for (const std::size_t slot : layout.slots[a]) p.options[slot].second = values[a];
        }
        p.key = options_key(p.options);
        if (!keys.insert(p.key).second) return;
        p.index = out.size();
        out.push_back(std::move(p));
    };
    const std::size_t na = spec.axes.size();
    for (std::size_t wi = 0; wi < spec.workloads.size(); ++wi) {
        const Workload& w = spec.workloads[wi];
        layout = layout_of(spec, w);
        if (spec.sampling == Sampling::Grid) {
            std::vector<std::size_t> idx(na, 0);
            for (;;) {
                std::vector<std::string> values(na);
                for (std::size_t a = 0; a < na; ++a) values[a] = spec.axes[a].values[idx[a]];
                add(w, values);
                // The last axis varies fastest.
                std::size_t a = na;
                while (a > 0 && ++idx[a - 1] == spec.axes[a - 1].values.size()) idx[--a] = 0;
                if (a == 0) break;
            }
            continue;
        }
        // Random: each axis drawn uniformly per sample. Latin hypercube: each axis's range cut
        // into `samples` equal strata, every stratum used once, in a random order per axis.
        const uint64_t n = spec.samples;
        std::vector<std::vector<uint64_t>> perm(na);
        if (spec.sampling == Sampling::Lhs)
            for (std::size_t a = 0; a < na; ++a) {
                perm[a].resize(n);
                std::iota(perm[a].begin(), perm[a].end(), uint64_t(0));
                for (uint64_t i = n; i > 1; --i) {
                    const uint64_t j = uint64_t(
                        core::rng_uniform(core::rng_key(spec.seed, 1, wi, a, i)) * double(i));
                    std::swap(perm[a][i - 1], perm[a][std::min(j, i - 1)]);
                }
            }
        for (uint64_t i = 0; i < n; ++i) {
            std::vector<std::string> values(na);
            for (std::size_t a = 0; a < na; ++a) {
                const double r = core::rng_uniform(core::rng_key(spec.seed, 2, wi, a, i));
                double u =
                    spec.sampling == Sampling::Lhs ? (double(perm[a][i]) + r) / double(n) : r;
                u = std::min(u, std::nextafter(1.0, 0.0));
                const Axis& ax = spec.axes[a];
                values[a] = ax.continuous ? at(ax, u)
                                          : ax.values[std::size_t(u * double(ax.values.size()))];
            }
            add(w, values);
        }
    }
    return out;
}

}  // namespace sprint::sweep
