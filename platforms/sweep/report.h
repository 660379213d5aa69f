// Answers from a results database: the rows as CSV or JSON lines, the Pareto front of two or
// three figures, the best point under constraints, and the PNG plots (scripts/sweep_plot.py).
#pragma once

#include <iosfwd>
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

struct Query {
    std::vector<Objective> pareto;  // 2 or 3, or none
    std::optional<std::string> where;
    std::optional<Objective> best;
    std::size_t top = 10;
};

// Prints the status counts, the front and the best point; returns false when the query asked
// for something the rows cannot answer (no ok point meets --where), with the reason printed.
bool report(std::ostream& os, const Database& db, const Query& q);

// The ok rows that meet `where` (an expression as report --where takes).
std::vector<Row> rows_where(const std::vector<Row>& rows, const std::string& where);

// A name's value in a row: a figure (or its short form), an axis, workload/status, or any
// option or parameter of the point's effective configuration.
std::optional<std::string> row_value(const Row& r, const std::string& name);

}  // namespace sprint::sweep
