#include "platforms/sweep/report.h"

#include "core/params.h"
#include "platforms/sweep/runner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace sprint::sweep {

namespace {

std::string number_text(double v) {
    return Value::of(v).text;
}

std::string figure_text(const Figure& f) {
    return f.value ? number_text(*f.value) : f.text;
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

// Is a at least as good as b in every objective and better in one?
bool dominates(const std::vector<double>& a, const std::vector<double>& b) {
    bool better = false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i] > b[i]) return false;
        if (a[i] < b[i]) better = true;
    }
    return better;
}

void print_table(std::ostream& os, const std::vector<std::string>& head,
                 const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> w(head.size());
    for (std::size_t c = 0; c < head.size(); ++c) w[c] = head[c].size();
    for (const auto& r : rows)
        for (std::size_t c = 0; c < r.size(); ++c) w[c] = std::max(w[c], r[c].size());
    auto line = [&](const std::vector<std::string>& r) {
        os << " ";
        for (std::size_t c = 0; c < r.size(); ++c)
            os << " " << std::setw(int(w[c])) << (c == 0 ? std::left : std::right) << r[c];
        os << std::right << "\n";
    };
    line(head);
    for (const auto& r : rows) line(r);
}

std::string short_number(const std::string& s) {
    const Value v = Value::of(s);
    if (!v.number || s.size() <= 9) return s;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.5g", *v.number);
    return buf;
}

}  // namespace

std::optional<std::string> row_value(const Row& r, const std::string& name) {
    const std::string fig = figure_name(name);
    if (auto it = r.figures.find(fig); it != r.figures.end()) {
        if (!it->second.value && it->second.text.empty()) return std::nullopt;
        return figure_text(it->second);
    }
    if (figure_info(fig)) return std::nullopt;  // a figure this point has no value of
    for (const auto& [n, v] : r.axis_values)
        if (n == name) return v;
    if (name == "workload") return r.workload;
    if (name == "status") return r.status;
    if (name == "id") return std::to_string(r.id);
    if (auto it = r.settings.find(name); it != r.settings.end()) return it->second;
    return std::nullopt;
}

std::vector<std::string> export_columns(const AxisColumns& axes, const std::vector<Row>& rows) {
    std::vector<std::string> cols = {"id", "workload", "status", "message"};
    for (const auto& a : axes) cols.push_back(a.param);
    std::set<std::string> present;
    for (const Row& r : rows)
        for (const auto& [n, f] : r.figures) present.insert(n);
    for (const auto& f : figure_infos())
        if (present.erase(f.name)) cols.push_back(f.name);
    cols.insert(cols.end(), present.begin(), present.end());
    return cols;
}

std::string axis_value(const Row& r, const Database::AxisColumn& c) {
    for (const auto& [n, x] : r.axis_values)
        if (n == c.axis) return x;
    const auto it = r.settings.find(c.param);
    return it == r.settings.end() ? "" : it->second;
}

void write_csv(std::ostream& os, const AxisColumns& axes, const std::vector<Row>& rows) {
    const std::vector<std::string> cols = export_columns(axes, rows);
    for (std::size_t c = 0; c < cols.size(); ++c) os << (c ? "," : "") << csv_field(cols[c]);
    os << "\n";
    for (const Row& r : rows) {
        os << r.id << "," << csv_field(r.workload) << "," << r.status << ","
           << csv_field(r.message);
        for (std::size_t c = 4; c < cols.size(); ++c) {
            std::string v;
            if (c < 4 + axes.size()) {
                v = axis_value(r, axes[c - 4]);
            } else if (auto it = r.figures.find(cols[c]); it != r.figures.end()) {
                v = figure_text(it->second);
            }
            os << "," << csv_field(v);
        }
        os << "\n";
    }
}

void write_jsonl(std::ostream& os, const AxisColumns& axes, const std::vector<Row>& rows) {
    for (const Row& r : rows) {
        nlohmann::ordered_json j;
        j["id"] = r.id;
        j["workload"] = r.workload;
        j["status"] = r.status;
        j["message"] = r.message;
        nlohmann::ordered_json av = nlohmann::ordered_json::object();
        for (const auto& a : axes) {
            const Value v = Value::of(axis_value(r, a));
            if (v.number && v.text != "true" && v.text != "false" &&
                *v.number == std::floor(*v.number) && std::fabs(*v.number) < 9e15)
                av[a.param] = static_cast<long long>(*v.number);  // a whole number as one
            else if (v.number && v.text != "true" && v.text != "false")
                av[a.param] = *v.number;
            else
                av[a.param] = v.text;
        }
        j["axes"] = av;
        nlohmann::ordered_json figs = nlohmann::ordered_json::object();
        for (const auto& f : figure_infos()) {
            auto it = r.figures.find(f.name);
            if (it == r.figures.end()) continue;
            if (it->second.value)
                figs[f.name] = *it->second.value;
            else if (!it->second.text.empty())
                figs[f.name] = it->second.text;
            else
                figs[f.name] = nullptr;
        }
        j["figures"] = figs;
        j["version"] = r.version;
        j["git_commit"] = r.commit;
        j["host"] = r.host;
        j["finished"] = r.finished;
        j["seconds"] = r.seconds;
        j["config"] = r.config;
        os << j.dump() << "\n";
    }
}

std::map<std::string, std::string> calibrated_figures(const Row& r) {
    std::map<std::string, std::string> out;
    const auto get = [&](const char* n) {
        const auto it = r.settings.find(n);
        return it == r.settings.end() ? std::string() : it->second;
    };
    // A fixed threshold (--threshold) calibrates nothing; sprint-sim's rule otherwise:
    // keep-mass when it is above 0, else keep-fraction.
    if (r.settings.empty() || !get("threshold").empty()) return out;
    const Value mass = Value::of(get("keep-mass"));
    if (mass.number && *mass.number > 0)
        out["mass_retained"] = "keep-mass " + mass.text;
    else if (!get("keep-fraction").empty())
        out["keep_fraction"] = "keep-fraction " + get("keep-fraction");
    return out;
}

Objective parse_objective(const std::string& text) {
    Objective o;
    std::string name = text;
    std::optional<bool> dir;
    if (name.rfind("max:", 0) == 0) dir = true, name = name.substr(4);
    if (name.rfind("min:", 0) == 0) dir = false, name = name.substr(4);
    o.name = figure_name(name);
    const FigureInfo* f = figure_info(o.name);
    if (!f) {
        std::string all;
        for (const auto& i : figure_infos()) all += (all.empty() ? "" : ", ") + i.name;
        throw std::runtime_error("'" + name + "' is not a figure (one of: " + all + ")");
    }
    if (f->text) throw std::runtime_error("'" + o.name + "' is a text, not a number to optimise");
    o.maximise = dir.value_or(f->higher_is_better);
    return o;
}

namespace {

// The status counts, and the first failure's message (often the cause of the others).
void print_counts(std::ostream& os, const Database& db, const std::vector<Row>& rows) {
    std::map<std::string, std::size_t> count;
    for (const Row& r : rows) count[r.status]++;
    os << "sweep '" << db.meta("spec_name").value_or("?") << "' in " << db.path() << ": "
       << rows.size() << " points: ok " << count[kOk] << ", failed " << count[kFailed]
       << ", does not fit " << count[kDoesNotFit] << ", pending " << count[kPending] << "\n";
    for (const Row& r : rows)
        if (r.status == kFailed) {
            os << "  first failure, point " << r.id << ": " << r.message << "\n";
            break;
        }
}

// The ok points that meet `where` (every ok point without one).
std::vector<const Row*> candidates(const std::vector<Row>& rows, const std::optional<Expr>& where) {
    std::vector<const Row*> cand;
    for (const Row& r : rows) {
        if (r.status != kOk) continue;
        if (where) {
            const auto v = where->eval([&](const std::string& n) -> std::optional<Value> {
                const auto x = row_value(r, n);
                if (!x) {
                    if (figure_info(figure_name(n))) return std::nullopt;
                    throw std::runtime_error("no figure, axis, option or parameter '" + n + "'");
                }
                return Value::of(*x);
            });
            if (!v || !v->truth()) continue;
        }
        cand.push_back(&r);
    }
    return cand;
}

// A row's objectives, each to minimise (a maximised one negated); false when it lacks one.
bool objectives_of(const Row& r, const std::vector<Objective>& objs, std::vector<double>& out) {
    out.clear();
    for (const auto& o : objs) {
        auto it = r.figures.find(o.name);
        if (it == r.figures.end() || !it->second.value) return false;
        out.push_back(o.maximise ? -*it->second.value : *it->second.value);
    }
    return true;
}

// The columns that name a point in a table: id, workload (when the rows hold several) and axes.
// A figure that the point's calibration holds is marked '*' (see legend()).
class PointColumns {
  public:
    PointColumns(const std::vector<Row>& rows, const std::vector<std::string>& axes)
        : m_axes(axes) {
        std::set<std::string> workloads;
        for (const Row& r : rows) workloads.insert(r.workload);
        m_several_workloads = workloads.size() > 1;
        m_head = {"id"};
        if (m_several_workloads) m_head.push_back("workload");
        m_head.insert(m_head.end(), axes.begin(), axes.end());
    }
    const std::vector<std::string>& head() const { return m_head; }
    // A point's line: these columns, then the figures `figs`.
    std::vector<std::string> describe(const Row& r, const std::vector<std::string>& figs) const {
        std::vector<std::string> line = {std::to_string(r.id)};
        if (m_several_workloads) line.push_back(r.workload);
        for (const auto& a : m_axes) line.push_back(row_value(r, a).value_or(""));
        const auto held = calibrated_figures(r);
        for (const auto& f : figs) {
            std::string v = short_number(row_value(r, f).value_or("-"));
            if (held.count(f) && v != "-") {
                v += "*";
                m_marked = true;
            }
            line.push_back(v);
        }
        return line;
    }
    // After a table: what '*' means, when a value was marked.
    void legend(std::ostream& os) const {
        if (m_marked)
            os << "  * held by threshold calibration (keep-mass or keep-fraction): an input of the "
                  "point, not an outcome of the design\n";
        m_marked = false;
    }

  private:
    const std::vector<std::string>& m_axes;
    bool m_several_workloads = false;
    std::vector<std::string> m_head;
    mutable bool m_marked = false;
};

using Scored = std::vector<std::pair<const Row*, std::vector<double>>>;

// The points of `pts` that no other of them dominates.
Scored pareto_front(const Scored& pts) {
    Scored front;
    for (const auto& a : pts) {
        bool dominated = false;
        for (const auto& b : pts) dominated = dominated || dominates(b.second, a.second);
        if (!dominated) front.push_back(a);
    }
    // Along the first objective, best first.
    std::stable_sort(front.begin(), front.end(),
                     [](const auto& a, const auto& b) { return a.second[0] < b.second[0]; });
    return front;
}

// The Pareto front of the candidates in the objectives `pareto`, as a table.
void print_pareto(std::ostream& os, const std::vector<const Row*>& cand,
                  const std::vector<Objective>& pareto, const PointColumns& cols) {
    Scored pts;
    std::vector<double> v;
    for (const Row* r : cand)
        if (objectives_of(*r, pareto, v)) pts.emplace_back(r, v);
    const Scored front = pareto_front(pts);
    std::string names;
    std::vector<std::string> figs;
    for (const auto& o : pareto) {
        names += (names.empty() ? "" : ", ") + std::string(o.maximise ? "max " : "min ") + o.name;
        figs.push_back(o.name);
    }
    os << "\nPareto front (" << names << "): " << front.size() << " of " << pts.size()
       << " points\n";
    std::vector<std::string> h = cols.head();
    for (const auto& o : pareto) {
        const FigureInfo* f = figure_info(o.name);
        h.push_back(o.name + (f && !f->unit.empty() ? " [" + f->unit + "]" : ""));
    }
    std::vector<std::vector<std::string>> lines;
    for (const auto& [r, v] : front) lines.push_back(cols.describe(*r, figs));
    print_table(os, h, lines);
    cols.legend(os);
}

// The best `q.top` points by `q.best` and how to rerun the best; false when no point has a
// value of it.
bool print_best(std::ostream& os, const Database& db, const std::vector<const Row*>& cand,
                const Query& q, const PointColumns& cols) {
    std::vector<std::pair<double, const Row*>> ranked;
    std::vector<double> v;
    for (const Row* r : cand)
        if (objectives_of(*r, {*q.best}, v)) ranked.emplace_back(v[0], r);
    if (ranked.empty()) {
        os << "\nno ok point has a value of " << q.best->name << "\n";
        return false;
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    const Row& b = *ranked.front().second;
    os << "\nbest point (" << (q.best->maximise ? "largest " : "smallest ") << q.best->name
       << (q.where ? ", meeting " + *q.where : "") << "): point " << b.id << "\n";
    const std::vector<std::string> figs = {q.best->name,    "time_us", "energy_uj",    "area_mm2",
                                           "mass_retained", "speedup", "energy_saving"};
    std::vector<std::string> h = cols.head();
    std::vector<std::string> uniq;
    for (const auto& f : figs)
        if (std::find(uniq.begin(), uniq.end(), f) == uniq.end()) uniq.push_back(f);
    h.insert(h.end(), uniq.begin(), uniq.end());
    std::vector<std::vector<std::string>> lines;
    for (std::size_t i = 0; i < std::min(q.top, ranked.size()); ++i)
        lines.push_back(cols.describe(*ranked[i].second, uniq));
    print_table(os, h, lines);
    cols.legend(os);
    // The tools by their paths: neither need be on PATH.
    std::error_code ec;
    const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    const std::string sim = default_sim();
    os << "  to rerun it: " << (self.empty() ? "sprint-sweep" : self) << " config --db "
       << db.path() << " --id " << b.id << " > point.ini && " << (sim.empty() ? "sprint-sim" : sim)
       << " --config point.ini\n";
    return true;
}

}  // namespace

std::vector<Row> rows_where(const std::vector<Row>& rows, const std::string& where) {
    std::vector<Row> out;
    for (const Row* r : candidates(rows, Expr(where))) out.push_back(*r);
    return out;
}

namespace {

// Which figures named in --where or the objectives calibration holds, on how many of the ok
// points: a constraint on one of them tests the calibration, not the design.
void print_held(std::ostream& os, const std::vector<const Row*>& ok, const Query& q) {
    std::set<std::string> named;
    if (q.where) {
        const Expr e(*q.where);
        for (const auto& n : e.names()) named.insert(figure_name(n));
    }
    for (const auto& o : q.pareto) named.insert(o.name);
    if (q.best) named.insert(q.best->name);
    for (const auto& f : named) {
        std::size_t held = 0;
        std::set<std::string> by;
        for (const Row* r : ok) {
            const auto c = calibrated_figures(*r);
            if (const auto it = c.find(f); it != c.end()) held++, by.insert(it->second);
        }
        if (held == 0) continue;
        std::string settings;
        for (const auto& b : by) settings += (settings.empty() ? "" : ", ") + b;
        os << "note: " << f << " is held by threshold calibration on " << held << " of "
           << ok.size() << " ok points (" << settings
           << "): there it is an input of the point, not an outcome; a constraint on it tests the "
              "calibration, not the design\n";
    }
}

// The configuration a point belongs to: its axes' values (the workload aside).
std::string config_key(const Row& r, const AxisColumns& axes) {
    std::string k;
    for (const auto& c : axes) k += axis_value(r, c) + '\x1f';
    return k;
}

struct RobustEntry {
    double score = 0;
    std::map<std::string, const Row*> by_workload;
};

// The configurations with a candidate on every workload, scored and ranked best first.
std::vector<RobustEntry> rank_robust(const std::vector<std::string>& workloads,
                                     const std::vector<const Row*>& cand, const Query& q,
                                     const AxisColumns& axes) {
    std::map<std::string, std::map<std::string, const Row*>> by_config;
    for (const Row* r : cand) by_config[config_key(*r, axes)].emplace(r->workload, r);
    std::vector<RobustEntry> out;
    for (const auto& [k, per] : by_config) {
        if (per.size() != workloads.size()) continue;
        std::vector<double> x;
        for (const auto& [w, r] : per)
            if (auto it = r->figures.find(q.best->name); it != r->figures.end() && it->second.value)
                x.push_back(*it->second.value);
        if (x.size() != per.size()) continue;
        RobustEntry e{0, per};
        if (q.robust == Robust::Worst) {
            e.score = q.best->maximise ? *std::min_element(x.begin(), x.end())
                                       : *std::max_element(x.begin(), x.end());
        } else {
            if (*std::min_element(x.begin(), x.end()) <= 0) continue;  // no geometric mean
            double logs = 0;
            for (double v : x) logs += std::log(v);
            e.score = std::exp(logs / double(x.size()));
        }
        out.push_back(e);
    }
    std::stable_sort(out.begin(), out.end(), [&](const RobustEntry& a, const RobustEntry& b) {
        return q.best->maximise ? a.score > b.score : a.score < b.score;
    });
    return out;
}

// The best configurations over every workload; false when none qualifies.
bool print_robust(std::ostream& os, const std::vector<std::string>& workloads,
                  const std::vector<const Row*>& ok, const std::vector<const Row*>& cand,
                  const Query& q, const AxisColumns& axes) {
    std::set<std::string> configs;  // every configuration with an ok point
    for (const Row* r : ok) configs.insert(config_key(*r, axes));
    const std::vector<RobustEntry> ranked = rank_robust(workloads, cand, q, axes);
    const std::string how = q.robust == Robust::Worst ? "worst" : "geometric mean";
    os << "\nrobust best configuration (" << how << " " << q.best->name << " over "
       << workloads.size() << " workloads, each point ok"
       << (q.where ? " and meeting " + *q.where : "") << "): " << ranked.size() << " of "
       << configs.size() << " configurations qualify\n";
    if (ranked.empty()) {
        os << "no configuration has an ok point" << (q.where ? " meeting the constraint" : "")
           << " on every workload\n";
        return false;
    }
    std::vector<std::string> h;
    for (const auto& c : axes) h.push_back(c.param);
    h.push_back(how + " " + q.best->name);
    for (const auto& w : workloads) h.push_back(w + ": " + q.best->name + " (id)");
    std::vector<std::vector<std::string>> lines;
    for (std::size_t i = 0; i < std::min(q.top, ranked.size()); ++i) {
        const RobustEntry& e = ranked[i];
        std::vector<std::string> line;
        const Row& any = *e.by_workload.begin()->second;
        for (const auto& c : axes) line.push_back(axis_value(any, c));
        line.push_back(short_number(core::format_double(e.score)));
        for (const auto& w : workloads) {
            const Row& r = *e.by_workload.at(w);
            line.push_back(short_number(row_value(r, q.best->name).value_or("-")) + " (" +
                           std::to_string(r.id) + ")");
        }
        lines.push_back(line);
    }
    print_table(os, h, lines);
    return true;
}

}  // namespace

bool report(std::ostream& os, const Database& db, const Query& q) {
    const std::vector<Row> rows = db.rows();
    const std::vector<std::string> axes = db.axis_names();
    print_counts(os, db, rows);
    if (q.robust != Robust::None && !q.best)
        throw std::runtime_error(
            "--robust ranks by the figure of --minimise or --maximise: give one");

    std::optional<Expr> where;
    if (q.where) where.emplace(*q.where);
    const std::vector<const Row*> cand = candidates(rows, where);
    print_held(os, candidates(rows, std::nullopt), q);
    if (where) os << cand.size() << " ok points meet " << *q.where << "\n";
    if (cand.empty()) {
        os << "no ok point" << (where ? " meets the constraint" : "") << "\n";
        return !(q.best || !q.pareto.empty());
    }
    std::vector<std::string> workloads;  // in the order of the points
    for (const Row& r : rows)
        if (std::find(workloads.begin(), workloads.end(), r.workload) == workloads.end())
            workloads.push_back(r.workload);
    const PointColumns cols(rows, axes);
    bool answered = true;
    if (q.pooled || workloads.size() < 2) {
        if (!q.pareto.empty()) print_pareto(os, cand, q.pareto, cols);
        if (q.best) answered = print_best(os, db, cand, q, cols);
    } else {
        // Answers per workload: a front or a best point over points of different workloads
        // compares workloads, not designs (--pooled asks for it anyway).
        for (const auto& w : workloads) {
            std::vector<const Row*> sub;
            for (const Row* r : cand)
                if (r->workload == w) sub.push_back(r);
            os << "\n== workload '" << w << "': " << sub.size() << " ok points"
               << (where ? " meet the constraint" : "") << "\n";
            if (sub.empty()) continue;  // said; the other workloads still answer
            if (!q.pareto.empty()) print_pareto(os, sub, q.pareto, cols);
            if (q.best) answered = print_best(os, db, sub, q, cols) && answered;
        }
    }
    if (q.robust != Robust::None)
        answered = print_robust(os, workloads, candidates(rows, std::nullopt), cand, q,
                                db.axis_columns()) &&
                   answered;
    return answered;
}

}  // namespace sprint::sweep
