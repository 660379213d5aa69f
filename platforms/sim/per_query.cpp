// The --per-query table: for every job one row per query (what the pipeline recorded for it and
// the events the modules counted under its head and query, priced by the cost model), one row per
// head for the work the head did as a whole (the head table, crossbar programming, Q rows read a
// group at a time), and one row for the job's leakage. Every count and energy column sums, over a
// job's rows, to that job's statistics (a test checks it); docs/observability.md has the columns.
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "platforms/sim/simulation.h"

namespace sprint::platform {

namespace {

using core::QueryTable;

// table[head][query], 0 outside the table.
double at(const QueryTable& t, uint32_t head, uint32_t query) {
    return head < t.size() && query < t[head].size() ? double(t[head][query]) : 0.0;
}

// A job's per-query counts: the tables' growth during the job.
class JobTables {
  public:
    explicit JobTables(const JobRun& r) : m_r(r) {}
    double query(const std::string& path, uint32_t h, uint32_t q) const {
        const auto a = m_r.tables_after.find(path);
        if (a == m_r.tables_after.end())
            throw std::runtime_error("no per-query statistic " + path + " for the energy");
        const auto b = m_r.tables_before.find(path);
        return at(a->second, h, q) - (b == m_r.tables_before.end() ? 0.0 : at(b->second, h, q));
    }
    // The head's queries together.
    double head_queries(const std::string& path, uint32_t h) const {
        const auto a = m_r.tables_after.find(path);
        if (a == m_r.tables_after.end())
            throw std::runtime_error("no per-query statistic " + path + " for the energy");
        const auto b = m_r.tables_before.find(path);
        double sum = 0.0;
        if (h < a->second.size())
            for (uint64_t v : a->second[h]) sum += double(v);
        if (b != m_r.tables_before.end() && h < b->second.size())
            for (uint64_t v : b->second[h]) sum -= double(v);
        return sum;
    }

  private:
    const JobRun& m_r;
};

std::string join(const std::vector<std::string>& path) {
    std::string s;
    for (const auto& p : path) s += (s.empty() ? "" : ".") + p;
    return s;
}

// The statistic's per-head value in a job's deltas.
double per_head(const nlohmann::json& model, const std::vector<std::string>& path, uint32_t h) {
    const nlohmann::json* p = &model;
    for (const auto& k : path) {
        if (!p->is_object() || !p->contains(k))
            throw std::runtime_error("no statistic " + join(path) + " for the energy");
        p = &(*p)[k];
    }
    if (!p->contains("per_head"))
        throw std::runtime_error("no per-head statistic " + join(path) + " for the energy");
    const nlohmann::json& a = (*p)["per_head"];
    return h < a.size() ? a[h].get<double>() : 0.0;
}

// An integer as one; anything else to 1/1000 (pJ, cycles), no trailing zeros.
std::string num(double v) {
    if (std::fabs(v - std::round(v)) < 5e-4) return std::to_string(int64_t(std::llround(v)));
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    std::string s = buf;
    while (s.back() == '0') s.pop_back();
    return s;
}

}  // namespace

namespace {

// The columns, in order (docs/observability.md describes each).
const char* const kColumns[] = {"job",
                                "mode",
                                "row",
                                "head",
                                "query",
                                "unit",
                                "lead",
                                "kept",
                                "visible",
                                "k_rows_fetched",
                                "v_rows_fetched",
                                "k_rows_reused",
                                "v_rows_reused",
                                "mem_read_bytes",
                                "mem_write_bytes",
                                "front_cycle",
                                "compute_begin_cycle",
                                "compute_end_cycle",
                                "done_cycle",
                                "latency_cycles",
                                "compute_busy_cycles",
                                "compute_wait_cycles",
                                "energy_pj"};
enum Col {
    Job,
    ModeCol,
    RowKind,
    Head,
    QueryCol,
    Unit,
    Lead,
    Kept,
    Visible,
    KFetched,
    VFetched,
    KReused,
    VReused,
    MemRead,
    MemWrite,
    Front,
    ComputeBegin,
    ComputeEnd,
    Done,
    Latency,
    ComputeBusy,
    ComputeWait,
    Energy,
    kFixedColumns
};

// The rows of one job: one per query, one per head for its own work, one for the job's leakage.
class JobRows {
  public:
    JobRows(std::ostream& out, const PlatformConfig& c, const Inputs& in,
            const std::vector<std::string>& blocks, std::size_t job, const JobReport& rep)
        : m_out(out),
          m_c(c),
          m_in(in),
          m_blocks(blocks),
          m_job(job),
          m_rep(rep),
          m_r(*rep.run),
          m_tables(*rep.run),
          m_model(rep.run->model()) {}

    void write() {
        double busy_ns = 0.0, wait_ns = 0.0;  // the queries' compute time
        for (const Controller::QueryRecord& q : m_r.queries) {
            busy_ns += q.compute_busy_ns;
            wait_ns += q.compute_wait_ns;
            query_row(q);
        }
        for (uint32_t h = 0; h < uint32_t(m_in.q.heads); ++h) head_row(h);
        job_row(busy_ns, wait_ns);
    }

  private:
    std::string cycles(const sc_core::sc_time& t) const {
        return num(std::round(t.to_seconds() * 1e12 / (m_c.ip.clock_ns * 1000.0)));
    }

    // A row of `kind` with the job's columns and the energy cells filled.
    std::vector<std::string> row(const char* kind, const core::EnergyReport& e) const {
        std::vector<std::string> cells(kFixedColumns + m_blocks.size());
        cells[Job] = std::to_string(m_job);
        cells[ModeCol] = core::to_string(m_rep.mode);
        cells[RowKind] = kind;
        cells[Energy] = num(e.total_pj);
        for (std::size_t b = 0; b < m_blocks.size(); ++b) {
            const auto it = e.per_block_pj.find(m_blocks[b]);
            cells[kFixedColumns + b] = num(it == e.per_block_pj.end() ? 0.0 : it->second);
        }
        return cells;
    }

    // The dynamic energy of the events read through `get`.
    core::EnergyReport energy(const CountOf& get) const {
        return core::cost(m_c.tech,
                          cost_counts(get, m_c, m_rep.run->desc.opt, m_in.q.d, -1, nullptr, false),
                          0.0);
    }

    void emit(const std::vector<std::string>& cells) {
        for (std::size_t i = 0; i < cells.size(); ++i) m_out << (i ? "," : "") << cells[i];
        m_out << "\n";
    }

    void query_row(const Controller::QueryRecord& q) {
        const CountOf get = [&](const std::vector<std::string>& path) {
            return m_tables.query(join(path), q.head, q.query);
        };
        auto cells = row("query", energy(get));
        cells[Head] = std::to_string(q.head);
        cells[QueryCol] = std::to_string(q.query);
        cells[Unit] = std::to_string(q.unit);
        cells[Lead] = std::to_string(q.lead);
        cells[Kept] = std::to_string(q.kept);
        cells[Visible] = std::to_string(q.visible);
        cells[KFetched] = std::to_string(q.k_fetched);
        cells[VFetched] = std::to_string(q.v_fetched);
        cells[KReused] = std::to_string(q.k_reused);
        cells[VReused] = std::to_string(q.v_reused);
        cells[MemRead] = num(get({"fetcher", "mem_read_bytes"}));
        cells[MemWrite] = num(get({"fetcher", "mem_write_bytes"}));
        cells[Front] = cycles(q.front - m_r.start);
        cells[ComputeBegin] = cycles(q.compute_begin - m_r.start);
        cells[ComputeEnd] = cycles(q.compute_end - m_r.start);
        cells[Done] = cycles(q.done - m_r.start);
        cells[Latency] = num(std::stod(cells[Done]) - std::stod(cells[Front]));
        cells[ComputeBusy] = num(q.compute_busy_ns / m_c.ip.clock_ns);
        cells[ComputeWait] = num(q.compute_wait_ns / m_c.ip.clock_ns);
        emit(cells);
    }

    // Each head's own work: its counts less its queries'.
    void head_row(uint32_t h) {
        const CountOf get = [&](const std::vector<std::string>& path) {
            return per_head(m_model, path, h) - m_tables.head_queries(join(path), h);
        };
        auto cells = row("head", energy(get));
        cells[Head] = std::to_string(h);
        cells[MemRead] = num(get({"fetcher", "mem_read_bytes"}));
        cells[MemWrite] = num(get({"fetcher", "mem_write_bytes"}));
        emit(cells);
    }

    // The job's leakage (every block leaks for the job's whole time, whatever runs), its cycles,
    // and the compute stages' time after each unit's last query (waiting for the job's end):
    // the units' compute time less the queries' (`busy_ns`, `wait_ns`).
    void job_row(double busy_ns, double wait_ns) {
        core::EnergyReport leak;
        for (const core::EnergyLine& l : m_rep.energy.lines)
            if (l.action == "leakage") {
                leak.total_pj += l.pj;
                leak.per_block_pj[l.block] += l.pj;
            }
        auto cells = row("job", leak);
        cells[Latency] = std::to_string(m_r.result.cycles);
        double unit_busy = 0.0, unit_wait = 0.0;
        for (const auto& [name, u] : m_model.at("controller").items()) {
            if (name.rfind("unit_", 0) != 0) continue;
            const nlohmann::json& st = u.at("stage_compute");
            unit_busy += st.at("busy_ns").at("value").get<double>();
            unit_wait += st.at("starved_ns").at("value").get<double>() +
                         st.at("blocked_ns").at("value").get<double>();
        }
        cells[ComputeBusy] = num((unit_busy - busy_ns) / m_c.ip.clock_ns);
        cells[ComputeWait] = num((unit_wait - wait_ns) / m_c.ip.clock_ns);
        emit(cells);
    }

    std::ostream& m_out;
    const PlatformConfig& m_c;
    const Inputs& m_in;
    const std::vector<std::string>& m_blocks;
    const std::size_t m_job;
    const JobReport& m_rep;
    const JobRun& m_r;
    const JobTables m_tables;
    const nlohmann::json m_model;
};

}  // namespace

std::string per_query_csv(const PlatformConfig& c, const Inputs& in, const Evaluation& ev) {
    // The energy columns: every block the job's energy has (dynamic and leakage).
    std::vector<std::string> blocks;
    if (!ev.reports.empty())
        for (const auto& [b, pj] : ev.reports[0].energy.per_block_pj) blocks.push_back(b);
    std::ostringstream out;
    for (int i = 0; i < kFixedColumns; ++i) out << (i ? "," : "") << kColumns[i];
    for (const auto& b : blocks) out << ",energy_" << b << "_pj";
    out << "\n";
    for (std::size_t j = 0; j < ev.reports.size(); ++j)
        JobRows(out, c, in, blocks, j, ev.reports[j]).write();
    return out.str();
}

}  // namespace sprint::platform
