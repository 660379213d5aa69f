#include "platforms/sweep/spec.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>

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
const std::set<std::string> kFileOptions = {"config",      "q",           "k",   "v",
                                            "calibrate-q", "calibrate-k", "tech"};

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

Axis parse_axis(const Ctx& c, const YAML::Node& key, const YAML::Node& body) {
    Axis a;
    a.name = c.scalar(key, "an axis name");
    std::stringstream ss(a.name);
    std::string item;
    while (std::getline(ss, item, ',')) {
        const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
        if (b == std::string::npos) c.fail(key, "axis '" + a.name + "' has an empty name in it");
        std::string n = item.substr(b, e - b + 1);
        while (!n.empty() && n.front() == '-') n.erase(n.begin());
        if (kReserved.count(n))
            c.fail(key, "option '" + n + "' is set by the sweep itself and cannot be swept");
        a.params.push_back(n);
    }
    const std::string what = "axis '" + a.name + "'";
    auto add_values = [&](const YAML::Node& list) {
        for (const auto& v : list)
            a.values.push_back(c.option_value(a.params.front(), c.scalar(v, what + ": a value")));
    };
    if (body.IsSequence()) {
        add_values(body);
    } else if (body.IsMap()) {
        static const std::set<std::string> known = {"values", "from",  "to",  "step",
                                                    "num",    "scale", "type"};
        for (const auto& kv : body)
            if (!known.count(kv.first.Scalar()))
                c.fail(kv.first, what + ": unknown key '" + kv.first.Scalar() +
                                     "' (values, from, to, step, num, scale, type)");
        if (body["values"]) {
            if (!body["values"].IsSequence())
                c.fail(body["values"], what + ": values must be a list");
            add_values(body["values"]);
        } else {
            if (!body["from"] || !body["to"])
                c.fail(body, what + ": a range needs from and to (or give values)");
            a.from = c.number(body["from"], what + ": from");
            a.to = c.number(body["to"], what + ": to");
            const std::string scale = body["scale"] ? c.scalar(body["scale"], "scale") : "linear";
            if (scale != "linear" && scale != "log")
                c.fail(body["scale"], what + ": scale must be linear or log");
            a.log = scale == "log";
            const std::string type = body["type"] ? c.scalar(body["type"], "type") : "real";
            if (type != "real" && type != "int")
                c.fail(body["type"], what + ": type must be real or int");
            a.integer = type == "int";
            if (a.to < a.from) c.fail(body, what + ": to is below from");
            if (a.log && a.from <= 0) c.fail(body, what + ": a log range needs from > 0");
            if (body["step"] && body["num"]) c.fail(body, what + ": give step or num, not both");
            if (body["step"]) {
                if (a.log) c.fail(body["step"], what + ": a log range takes num, not step");
                const double step = c.number(body["step"], what + ": step");
                if (!(step > 0)) c.fail(body["step"], what + ": step must be positive");
                const double n = std::floor((a.to - a.from) / step + 1e-9) + 1;
                if (n > 1e6) c.fail(body["step"], what + ": more than a million values");
                for (int64_t k = 0; k < int64_t(n); ++k)
                    a.values.push_back(clean_number(a.from + double(k) * step, a.integer));
            } else if (body["num"]) {
                const double n = c.number(body["num"], what + ": num");
                if (n < 1 || n > 1e6 || n != std::floor(n))
                    c.fail(body["num"], what + ": num must be a whole number from 1 to 1e6");
                for (int64_t k = 0; k < int64_t(n); ++k) {
                    const double t = n == 1 ? 0.0 : double(k) / (n - 1);
                    const double v =
                        a.log ? a.from * std::pow(a.to / a.from, t) : a.from + (a.to - a.from) * t;
                    a.values.push_back(clean_number(v, a.integer));
                }
            } else {
                a.continuous = true;
            }
        }
    } else {
        a.values.push_back(c.option_value(a.params.front(), c.scalar(body, what)));
    }
    if (!a.continuous) {
        // Integer rounding or a short list may repeat a value: each value once.
        std::vector<std::string> unique;
        for (const auto& v : a.values)
            if (std::find(unique.begin(), unique.end(), v) == unique.end()) unique.push_back(v);
        a.values = unique;
        if (a.values.empty()) c.fail(body, what + " has no values");
    }
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

}  // namespace

Spec parse_spec(const std::string& text, const std::string& origin, const std::string& dir) {
    const Ctx c{origin, dir};
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw std::runtime_error(origin + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    if (!root.IsMap()) c.fail(root, "a sweep spec is a map (name, workloads, base, axes, ...)");
    static const std::set<std::string> known = {"name",    "description", "workloads",
                                                "base",    "axes",        "sampling",
                                                "samples", "seed",        "constraints"};
    for (const auto& kv : root)
        if (!known.count(kv.first.Scalar()))
            c.fail(kv.first, "unknown key '" + kv.first.Scalar() +
                                 "' (name, description, workloads, base, axes, sampling, "
                                 "samples, seed, constraints)");
    Spec s;
    s.text = text;
    if (!root["name"]) c.fail(root, "the spec needs a name");
    s.name = c.scalar(root["name"], "name");
    if (root["description"]) s.description = c.scalar(root["description"], "description");
    s.base = c.options(root["base"], "base");
    if (const YAML::Node w = root["workloads"]; w && !w.IsNull()) {
        if (!w.IsMap()) c.fail(w, "workloads must be a map of name: {option: value, ...}");
        for (const auto& kv : w)
            s.workloads.push_back({c.scalar(kv.first, "a workload name"),
                                   c.options(kv.second, "workload '" + kv.first.Scalar() + "'")});
    }
    if (s.workloads.empty()) s.workloads.push_back({"default", {}});
    if (const YAML::Node ax = root["axes"]; ax && !ax.IsNull()) {
        if (!ax.IsMap()) c.fail(ax, "axes must be a map of option: values");
        std::set<std::string> seen;
        for (const auto& kv : ax) {
            Axis a = parse_axis(c, kv.first, kv.second);
            for (const auto& p : a.params)
                if (!seen.insert(p).second) c.fail(kv.first, "option '" + p + "' is swept twice");
            s.axes.push_back(std::move(a));
        }
    }
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
        if (n < 1 || n > 1e7 || n != std::floor(n))
            c.fail(root["samples"], "samples must be a whole number from 1 to 1e7");
        s.samples = uint64_t(n);
    }
    if (const YAML::Node cs = root["constraints"]; cs && !cs.IsNull()) {
        if (!cs.IsSequence()) c.fail(cs, "constraints must be a list of expressions");
        for (const auto& e : cs) {
            try {
                s.constraints.emplace_back(c.scalar(e, "a constraint"));
            } catch (const std::runtime_error& err) {
                c.fail(e, err.what());
            }
        }
    }
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
    std::vector<Point> out;
    std::set<std::string> keys;
    auto add = [&](const Workload& w, const std::vector<std::string>& values) {
        Point p;
        p.workload = w.name;
        p.options = spec.base;
        for (const auto& [n, v] : w.options) set_option(p.options, n, v);
        for (std::size_t a = 0; a < spec.axes.size(); ++a) {
            p.axis_values.emplace_back(spec.axes[a].name, values[a]);
            for (const auto& param : spec.axes[a].params) set_option(p.options, param, values[a]);
        }
        p.key = options_key(p.options);
        if (!keys.insert(p.key).second) return;
        p.index = out.size();
        out.push_back(std::move(p));
    };
    const std::size_t na = spec.axes.size();
    for (std::size_t wi = 0; wi < spec.workloads.size(); ++wi) {
        const Workload& w = spec.workloads[wi];
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
