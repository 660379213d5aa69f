// Answers from a results database: the rows as CSV or JSON lines, the Pareto front of two or
// three figures, the best point under constraints, and the PNG plots (scripts/sweep_plot.py).
#pragma once

#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "platforms/sweep/db.h"

namespace sprint::sweep {

// The columns of an export: id, workload, status, message, one per axis option (an axis
// "a, b" gives a and b), then every figure name the rows hold (figure_infos() order first).
using AxisColumns = std::vector<Database::AxisColumn>;
std::vector<std::string> export_columns(const AxisColumns& axes, const std::vector<Row>& rows);
// An axis option's value in a row: the axis's value, or for a point from before the axis was in
// the spec its effective setting.
std::string axis_value(const Row& r, const Database::AxisColumn& c);
void write_csv(std::ostream& os, const AxisColumns& axes, const std::vector<Row>& rows);
// JSON lines: the axis options' values as numbers where they are numbers.
void write_jsonl(std::ostream& os, const AxisColumns& axes, const std::vector<Row>& rows);

// A figure to optimise: its name and whether larger is better ("max:name", "min:name" or the
// figure's own direction).
struct Objective {
    std::string name;
    bool maximise = false;
};
Objective parse_objective(const std::string& text);

// How a robust query scores a configuration over the workloads: its worst value, or the
// geometric mean of its values.
enum class Robust { None, Worst, Geomean };

struct Query {
    std::vector<Objective> pareto;  // 2 or 3, or none
    std::optional<std::string> where;
    std::optional<Objective> best;
    std::size_t top = 10;
    bool pooled = false;  // one answer over the points of every workload together
    Robust robust = Robust::None;
};

// Prints the status counts, then the front and the best point of each workload (of all points
// together with `pooled`, or when there is one workload), and with `robust` the best
// configuration (the axes' values) over every workload: each of its points meets --where, ranked
// by its worst or geometric-mean value of `best`. Figures that threshold calibration holds
// (mass_retained at keep-mass) are marked as inputs. Returns false when the query asked for
// something the rows cannot answer (no ok point meets --where), with the reason printed.
bool report(std::ostream& os, const Database& db, const Query& q);

// The figures of a point that its settings fix rather than its design, with the setting that does:
// mass_retained when thresholds are calibrated to keep-mass, keep_fraction when to keep-fraction.
std::map<std::string, std::string> calibrated_figures(const Row& r);

// The ok rows that meet `where` (an expression as report --where takes).
std::vector<Row> rows_where(const std::vector<Row>& rows, const std::string& where);

// A name's value in a row: a figure (or its short form), an axis, workload/status, or any
// option or parameter of the point's effective configuration.
std::optional<std::string> row_value(const Row& r, const std::string& name);

}  // namespace sprint::sweep
