// The summary text sprint-sim prints: the run's header, one column per job (results, engines,
// energy by block), the comparisons with the baselines, the warnings and the host time.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <ostream>

#include "platforms/sim/report_internal.h"

namespace sprint::platform {

using report::fmt;
using report::fmt_int;
using report::json;
using report::ratio;
using report::speed_words;
using report::Table;

namespace {

// Rows of a name column then one right-aligned column per job, each at least `min_width` wide;
// returns the width used.
std::size_t print_table(std::ostream& out, const Table& rows, std::size_t name_width,
                        std::size_t min_width) {
    std::size_t w = min_width;
    for (const auto& l : rows)
        for (std::size_t i = 1; i < l.size(); ++i) w = std::max(w, l[i].size() + 2);
    for (const auto& l : rows) {
        out << "  " << std::left << std::setw(int(name_width)) << l[0];
        for (std::size_t i = 1; i < l.size(); ++i) out << std::right << std::setw(int(w)) << l[i];
        out << "\n";
    }
    return w;
}

void print_header(std::ostream& out, const RunOptions& o, const PlatformConfig& c,
                  const Inputs& in) {
    const IpConfig& ip = c.ip;
    out << "sprint-sim: " << in.q.heads << " heads x N=" << in.q.n << " x d=" << in.q.d << ", "
        << in.source;
    if (o.thresholds.empty() && !core::keeps_all(o.job.mode)) {
        out << ", thresholds calibrated to keep "
            << (o.keep_mass > 0.0 ? "softmax mass " : "fraction ")
            << (o.keep_mass > 0.0 ? o.keep_mass : o.keep_fraction) << " on the "
            << (o.job.mode == core::Mode::OnchipPrune
                    ? std::string("exact scores")
                    : std::string(core::to_string(o.calibrate_on)) + " comparator margins");
        if (o.calibrate_queries) out << " of the first " << o.calibrate_queries << " queries";
        if (!o.calibrate_q_file.empty())
            out << " of the calibration files " << o.calibrate_q_file << ", " << o.calibrate_k_file;
    }
    out << (o.job.causal ? ", causal" : "") << "\n";
    out << "IP (" << o.timing << "): " << 1.0 / ip.clock_ns << " GHz, crossbar " << ip.xbar.tiles
        << " tiles of " << ip.xbar.tile_rows << "x" << ip.xbar.tile_cols << " (" << ip.xbar.key_bits
        << "-bit keys, " << ip.xbar.query_bits << "-bit queries), " << ip.units
        << (ip.units == 1 ? " compute unit" : " compute units") << " with SRAM " << ip.sram.k_bytes
        << " + " << ip.sram.v_bytes << " B" << (ip.units == 1 ? "" : " each") << ", softmax "
        << core::to_string(o.job.softmax)
        << (o.job.k_readback && o.job.mode == core::Mode::Sprint ? ", K-MSB read-back" : "")
        << (ip.comparators.adc_bits
                ? ", " + std::to_string(ip.comparators.adc_bits) + "-bit ADC read-out" +
                      (ip.comparators.adc_topk
                           ? " keeping the top " + std::to_string(ip.comparators.adc_topk)
                           : std::string(" against the threshold"))
                : std::string())
        << "\n";
    out << "memory: " << c.dram.preset << ", "
        << (c.dram.channels > 1 ? std::to_string(c.dram.channels) + " channels x " : "")
        << c.dram.bandwidth_gbps << " GB/s, " << c.dram.latency_ns << " ns, "
        << c.tech.value("dram", "read") << "/" << c.tech.value("dram", "write")
        << " pJ/bit read/write\n\n";
}

Table result_rows(const std::vector<JobReport>& reps) {
    Table rows = {{""}};
    for (const auto& r : reps) rows[0].push_back(core::to_string(r.mode));
    auto row = [&](const std::string& name, auto f) {
        std::vector<std::string> line{name};
        for (const auto& r : reps) line.push_back(f(r));
        rows.push_back(line);
    };
    row("cycles", [](const JobReport& r) { return fmt_int(r.run->result.cycles); });
    row("time (us)", [](const JobReport& r) { return fmt(r.time_us, 1); });
    row("memory read (MiB)", [](const JobReport& r) {
        return fmt(double(r.run->result.mem_read_bytes) / 1048576.0, 2);
    });
    row("memory written (MiB)", [](const JobReport& r) {
        return fmt(double(r.run->result.mem_write_bytes) / 1048576.0, 2);
    });
    row("keep fraction", [](const JobReport& r) { return fmt(r.fid.overall.keep_fraction, 4); });
    row("K rows fetched / visible pairs", [](const JobReport& r) { return fmt(r.new_fetch, 4); });
    row("new kept keys per query (paper)",
        [](const JobReport& r) { return fmt(r.fid.overall.ideal_new_fetch_fraction, 4); });
    // Figures of the references: "skipped" with --fidelity=false.
    const auto acc = [](const JobReport& r, double x, int digits) {
        return r.fid.overall.accuracy ? fmt(x, digits) : std::string("skipped");
    };
    row("attention mass retained",
        [&](const JobReport& r) { return acc(r, r.fid.overall.mass_retained, 4); });
    row("output rel. error vs dense float",
        [&](const JobReport& r) { return acc(r, r.fid.overall.relative_l2_error, 4); });
    row("output cosine vs dense float",
        [&](const JobReport& r) { return acc(r, r.fid.overall.cosine_similarity, 5); });
    row("memory bandwidth (GB/s)", [](const JobReport& r) {
        return fmt(double(r.run->result.mem_read_bytes + r.run->result.mem_write_bytes) /
                       std::max(1e-9, r.time_us * 1e3),
                   2);
    });
    row("max memory requests in flight",
        [](const JobReport& r) { return fmt_int(r.run->max_in_flight); });
    row("limiting bound", [](const JobReport& r) { return r.bounds.limit; });
    row("largest bound (cycles)",
        [](const JobReport& r) { return fmt_int(uint64_t(std::llround(r.bounds.largest))); });
    row("cycles / largest bound", [](const JobReport& r) {
        return fmt(double(r.run->result.cycles) / std::max(1.0, r.bounds.largest), 2);
    });
    row("energy (uJ)", [](const JobReport& r) { return fmt(r.energy.total_pj * 1e-6, 2); });
    row("energy per query (nJ)", [](const JobReport& r) {
        return fmt(r.energy.total_pj * 1e-3 / std::max(1.0, r.queries), 2);
    });
    row("GOPs/s, GOPs/J (dense-equivalent)", [](const JobReport& r) {
        return fmt(r.ops / std::max(1e-9, r.time_us * 1e3), 0) + ", " +
               fmt(1e3 * r.ops / std::max(1e-9, r.energy.total_pj), 0);
    });
    row("area (mm2)", [](const JobReport& r) { return fmt(r.energy.area_mm2, 2); });
    row("writes on the most written cell",
        [](const JobReport& r) { return fmt_int(uint64_t(std::llround(r.cell_writes))); });
    row("jobs until cell endurance", [](const JobReport& r) {
        return r.cell_writes > 0 ? fmt(r.endurance_jobs, 0) : std::string("-");
    });
    row("bit-exact vs core reference", [](const JobReport& r) {
        return std::string(!r.verified ? "skipped" : r.bit_exact ? "yes" : "NO");
    });
    return rows;
}

// Busy and stalled cycles of the pipeline stages, busy cycles of the blocks.
Table engine_table(const std::vector<JobReport>& reps, const PlatformConfig& c) {
    const double clock_ns = c.ip.clock_ns;
    Table rows;
    for (const auto& e : report::engine_rows(c.ip.units, c.dram.channels)) {
        std::vector<std::string> line{e.label};
        for (const auto& r : reps) {
            const json m = r.run->model(), d = r.run->dram();
            const double busy = e.busy(m, d) / clock_ns,
                         stall = e.stall ? e.stall(m, d) / clock_ns : -1.0;
            line.push_back(fmt_int(uint64_t(std::llround(busy))) +
                           (stall >= 0 ? " / " + fmt_int(uint64_t(std::llround(stall)))
                                       : std::string(" / -")));
        }
        rows.push_back(line);
    }
    return rows;
}

// "sprint vs dense: speed-up 8.40x, energy 5.38x lower, memory traffic 85.1% lower", each figure
// worded by its direction (slow-down, energy higher, traffic higher when the first job loses).
std::string comparison(const JobReport& a, const JobReport& b) {
    auto bytes = [](const JobReport& r) {
        return double(r.run->result.mem_read_bytes + r.run->result.mem_write_bytes);
    };
    const double su =
        double(b.run->result.cycles) / double(std::max<uint64_t>(1, a.run->result.cycles));
    const double tr = 1.0 - bytes(a) / std::max(1.0, bytes(b));
    const double er = b.energy.total_pj / std::max(1e-9, a.energy.total_pj);
    return "  " + std::string(core::to_string(a.mode)) + " vs " + core::to_string(b.mode) + ": " +
           speed_words(su) + ", energy " + ratio(er, "lower", "higher") + ", memory traffic " +
           fmt(100.0 * std::fabs(tr), 1) + (tr >= 0 ? "% lower\n" : "% higher\n");
}

}  // namespace

void print_summary(std::ostream& out, const RunOptions& o, const PlatformConfig& c,
                   const Inputs& in, const Evaluation& ev, double wall) {
    const std::vector<JobReport>& reps = ev.reports;
    print_header(out, o, c, in);
    const Table results = result_rows(reps);
    const Table engines = engine_table(reps, c);
    std::size_t name_width = 0;
    for (const Table* t : {&results, &engines})
        for (const auto& l : *t) name_width = std::max(name_width, l[0].size());
    const std::size_t w = print_table(out, results, name_width, 12);
    std::vector<std::string> skipped;
    if (!reps.empty() && !reps[0].fid.overall.accuracy)
        skipped.push_back(
            "the fidelity references (a) and (b): mass, output error (--fidelity=false)");
    if (!reps.empty() && !reps[0].verified)
        skipped.push_back("the bit-exact check against the core (--verify=false)");
    for (std::size_t k = 0; k < skipped.size(); ++k)
        out << (k ? "; " : "  skipped: ") << skipped[k] << (k + 1 == skipped.size() ? "\n" : "");
    out << "\n  engines: cycles busy / stalled (stages: waiting for input, output or SRAM room;\n"
           "  blocks: requests queued for them; fetcher: memory requests awaiting END_REQ)\n";
    print_table(out, engines, name_width, w);
    out << "\n  energy by block, uJ (dynamic + leakage; technology " << c.tech.name
        << ", docs/energy.md)\n";
    print_table(out, report::energy_table(reps), name_width, w);
    if (reps.size() > 1) out << "\n";
    for (std::size_t i = 1; i < reps.size(); ++i) out << comparison(reps[0], reps[i]);
    if (!ev.warnings.empty()) out << "\n";
    for (const auto& w : ev.warnings) out << "  warning: " << w << "\n";
    out << "\nhost time: set-up " << fmt(ev.setup_seconds, 2) << " s, simulation " << fmt(wall, 2)
        << " s, checks after it " << fmt(ev.check_seconds, 2) << " s (fidelity references "
        << fmt(ev.reference_seconds, 2) << " s on a second thread as queries complete); "
        << fmt(double(ev.scores) / wall / 1e6, 2)
        << " M key scores per second simulated, peak memory " << report::peak_rss_mib() << " MiB\n";
}

}  // namespace sprint::platform
