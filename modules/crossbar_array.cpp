#include "modules/crossbar_array.h"

#include "tlm_interfaces/payload.h"

namespace sprint {

using namespace sc_core;
using namespace tlm;

CrossbarArray::CrossbarArray(const sc_module_name& name, const IpConfig& cfg,
                             TraceScheduler& tracer)
    : sc_module(name),
      from_controller("from_controller", 1,
                      [this](tlm_generic_payload& gp, sc_time& d) { b_transport(gp, d); }),
      from_fetcher("from_fetcher", 1,
                   [this](tlm_generic_payload& gp, sc_time& d) { b_transport(gp, d); }),
      to_comparators("to_comparators", cfg.timing),
      busy("busy"),
      m_cfg(cfg),
      m_num(cfg.numerics()),
      m_clock(cfg.clock_ns, SC_NS),
      m_tracer(tracer),
      m_stats(basename(), "ReRAM crossbar array: K MSB storage and approximate scoring") {
    m_stats.add(
        "queued_ns",
        [this] {
            return nlohmann::json(
                (from_controller.accept_stall + from_fetcher.accept_stall).to_seconds() * 1e9);
        },
        "ns", "AT: time requests waited for this block to accept them (END_REQ), summed");
}

// The array is busy for `dur` from the request's time (or when it is next free).
void CrossbarArray::occupy(const sc_time& dur, sc_time& delay) {
    sc_time start;
    const sc_time end = m_array.occupy(abs_time(delay), dur, &start);
    m_busy_ns += dur.to_seconds() * 1e9;
    m_tracer.write(busy, true, offset_of(start));
    m_tracer.write(busy, false, offset_of(end));
    delay = offset_of(end);
}

uint32_t CrossbarArray::tiles_for(uint32_t keys, uint32_t d) const {
    const uint32_t row_groups = uint32_t(ceil_div(d, m_cfg.xbar.tile_rows));
    return uint32_t(ceil_div(keys, m_cfg.xbar.tile_cols)) * row_groups;
}

void CrossbarArray::b_transport(tlm_generic_payload& gp, sc_time& delay) {
    auto* cmd = gp.get_extension<proto::XbarCommand>();
    const tlm_command want =
        cmd && cmd->op == proto::XbarOp::ReadBack ? TLM_READ_COMMAND : TLM_WRITE_COMMAND;
    if (!cmd || gp.get_command() != want) {
        gp.set_response_status(TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    if (cmd->op == proto::XbarOp::ReadBack)
        read_back(gp, *cmd, delay);
    else if (cmd->op == proto::XbarOp::Program)
        program(gp, *cmd, delay);
    else
        evaluate(gp, *cmd, delay);
}

CrossbarArray::Region* CrossbarArray::region_of(uint32_t head, uint32_t d) {
    for (auto& [base, r] : m_regions)
        if (r.head == head && r.d == d) return &r;
    return nullptr;
}

void CrossbarArray::program(tlm_generic_payload& gp, proto::XbarCommand& cmd, sc_time& delay) {
    const uint32_t capacity = m_cfg.xbar_capacity(cmd.d);
    const uint32_t total = std::max(cmd.keys_total, cmd.first_key + cmd.key_count);
    const uint32_t base = cmd.column_base;
    if (cmd.d == 0 || capacity == 0 || cmd.key_count == 0 ||
        base + cmd.first_key % capacity + cmd.key_count > capacity ||
        (base && total > capacity - base) || base % m_cfg.xbar.tile_cols != 0 ||
        gp.get_data_length() != uint64_t(cmd.key_count) * cmd.d) {
        SC_REPORT_WARNING("sprint/xbar",
                          "Program refused: the keys do not fit one pass of the tiles from the "
                          "region's first column at this head dimension, or the data is not "
                          "key_count x d bytes");
        gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    Region& r = m_regions[base];
    if (cmd.head != r.head || cmd.d != r.d || cmd.first_key == 0) {
        // The head takes the columns [base, base + span): every other head there, and any other
        // copy of this head, leaves the array.
        const uint32_t span = total > capacity ? capacity  // in passes: the whole array
                                               : uint32_t(ceil_div(total, m_cfg.xbar.tile_cols)) *
                                                     m_cfg.xbar.tile_cols;
        for (auto it = m_regions.begin(); it != m_regions.end();) {
            const bool overlaps = it->first < base + span && base < it->first + it->second.span;
            if (it->first != base && (overlaps || it->second.head == cmd.head))
                it = m_regions.erase(it);
            else
                ++it;
        }
        r.cells.reset(int(total), int(cmd.d));
        r.head = cmd.head;
        r.d = cmd.d;
        r.span = span;
        r.num = m_num;
        r.num.column_base = base;
    }
    r.cells.grow(int(total));
    // A Program at a multiple of the capacity starts a pass: the array's columns get new keys.
    if (cmd.first_key % capacity == 0) r.pass_first = r.pass_end = cmd.first_key;
    if (cmd.first_key != r.pass_end) {
        SC_REPORT_WARNING("sprint/xbar", "Program refused: keys out of order within a pass");
        gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    r.pass_end = cmd.first_key + cmd.key_count;
    r.params = cmd.params;
    const uint64_t cells = r.cells.program(reinterpret_cast<const int8_t*>(gp.get_data_ptr()),
                                           int(cmd.first_key), int(cmd.key_count), cmd.head, r.num);
    if (cmd.resident) {  // the keys are in place already: nothing is written
        m_keys_resident += cmd.key_count;
        gp.set_response_status(TLM_OK_RESPONSE);
        return;
    }
    // Every cell of a key's column takes one write: the column's count is each of its cells'.
    m_column_writes.resize(capacity, 0);
    for (uint32_t c = 0; c < cmd.key_count; ++c) {
        uint64_t& w = m_column_writes[r.num.column(cmd.first_key + c, cmd.d)];
        m_max_cell_writes.record_max(++w);
    }
    const uint64_t pulses = ceil_div(cells, m_cfg.xbar.write_parallel_cells);
    m_cell_writes.add(cmd.head, core::kNoQuery, cells);
    m_write_pulses += pulses;
    ++m_programs;
    cmd.cells_written_out = cells;
    occupy(sc_time(m_cfg.xbar.write_pulse_ns * double(pulses), SC_NS), delay);
    gp.set_response_status(TLM_OK_RESPONSE);
}

// K-MSB read-back: the programmed head's key columns sensed back into top-bit codes (what a
// stuck or varied cell gives is what the datapath gets).
void CrossbarArray::read_back(tlm_generic_payload& gp, proto::XbarCommand& cmd, sc_time& delay) {
    const Region* r = region_of(cmd.head, cmd.d);
    proto::ReadBackRun one{cmd.first_key, cmd.key_count, abs_time(delay)};
    proto::ReadBackRun* runs = cmd.runs ? cmd.runs : &one;
    const uint32_t n_runs = cmd.runs ? cmd.run_count : 1;
    uint64_t keys = 0;
    bool inside = r && n_runs > 0;
    for (uint32_t i = 0; inside && i < n_runs; ++i) {
        inside = runs[i].first_key >= r->pass_first &&
                 uint64_t(runs[i].first_key) + runs[i].key_count <= r->pass_end;
        keys += runs[i].key_count;
    }
    if (!inside || gp.get_data_length() != keys * cmd.d) {
        SC_REPORT_WARNING("sprint/xbar",
                          "ReadBack refused: another head or row size than programmed, keys past "
                          "the programmed ones, or the data is not key_count x d bytes");
        gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    auto* out = reinterpret_cast<int8_t*>(gp.get_data_ptr());
    sc_time last = abs_time(delay);
    for (uint32_t i = 0; i < n_runs; ++i) {
        proto::ReadBackRun& run = runs[i];
        m_keys.resize(run.key_count);
        for (uint32_t c = 0; c < run.key_count; ++c) m_keys[c] = run.first_key + c;
        r->cells.read_back(m_keys.data(), run.key_count, r->num, out);
        out += std::size_t(run.key_count) * cmd.d;
        m_keys_read_back.add(cmd.head, cmd.query, run.key_count);
        sc_time d = offset_of(run.at);
        occupy(cycles(uint64_t(run.key_count) * m_cfg.xbar.readback_cycles), d);
        run.at = abs_time(d);
        last = std::max(last, run.at);
    }
    delay = offset_of(last);
    gp.set_response_status(TLM_OK_RESPONSE);
}

// Evaluate: the query copied into the DAC input buffer (while the array may still evaluate the
// previous query), then one evaluation of all tiles at once with the comparators' decisions
// (evaluate_cycles, tAxTh). The response comes when the drivers latch the query and the
// evaluation starts; the decisions stay latched in the comparator bank for the read-out.
void CrossbarArray::evaluate(tlm_generic_payload& gp, proto::XbarCommand& cmd, sc_time& delay) {
    const Region* r = region_of(cmd.head, cmd.d);
    if (!r || gp.get_data_length() != cmd.d || cmd.key_begin < r->pass_first ||
        cmd.key_end > r->pass_end || cmd.key_end <= cmd.key_begin) {
        SC_REPORT_WARNING("sprint/xbar",
                          "Evaluate refused: another head or row size than programmed, or keys "
                          "outside the array's current pass");
        gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    const uint32_t d = cmd.d, first = cmd.key_begin, n = cmd.key_end - cmd.key_begin;
    m_q_dac.resize(d);
    m_bitlines.resize(cmd.key_end);
    core::query_to_dac(reinterpret_cast<const int8_t*>(gp.get_data_ptr()), int(d), r->num,
                       m_q_dac.data());
    r->cells.bitlines(m_q_dac.data(), int(cmd.key_end), cmd.head, cmd.query, r->num,
                      m_bitlines.data(), int(first));
    ++m_evaluations;
    m_analog_macs.add(cmd.head, cmd.query, uint64_t(n) * d);
    m_tile_evaluations += tiles_for(n, d);

    const sc_time asked = abs_time(delay);
    const sc_time copied =
        m_input.occupy(asked, cycles(ceil_div(d, m_cfg.xbar.query_copy_bytes_per_cycle)));
    sc_time started;
    const sc_time dur = cycles(m_cfg.xbar.evaluate_cycles);
    const sc_time decided = m_array.occupy(copied, dur, &started);
    m_input.extend_to(started);  // the buffer holds the query until the drivers latch it
    m_busy_ns += dur.to_seconds() * 1e9;
    m_tracer.write(busy, true, offset_of(started));
    m_tracer.write(busy, false, offset_of(decided));

    proto::CompareCommand cc;
    cc.head = cmd.head;
    cc.query = cmd.query;
    cc.key_begin = first;
    cc.key_end = cmd.key_end;
    cc.d = d;
    cc.defer_empty = cmd.defer_empty;
    cc.codes_out = cmd.codes_out;
    if (m_num.adc_bits) cc.adc_step = core::adc_step_raw(r->params, int(d), m_num);
    cc.shift = core::query_shift(m_q_dac.data(), int(d), m_num);
    cc.threshold_raw = core::threshold_raw(r->params, int(d), m_num);
    cc.column_base = r->num.column_base;
    cc.empty_row = cmd.empty_row;
    cc.decided_after = decided - asked;
    proto::PooledPayload out(m_pool);
    proto::prepare(*out, TLM_WRITE_COMMAND, 0, m_bitlines.data() + first,
                   unsigned(n * sizeof(double)));
    out->set_extension(&cc);
    sc_time t = delay;  // at the request: the bank latches the decisions when they are taken
    to_comparators.transport(*out, t);
    out->clear_extension(&cc);
    if (!out->is_response_ok()) {
        SC_REPORT_WARNING("sprint/xbar",
                          "Evaluate failed: the comparator bank refused the bitline values");
        gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    cmd.kept_out = cc.kept_out;
    cmd.forced_out = cc.forced_out;
    cmd.best_out = cc.best_out;
    cmd.best_margin_out = cc.best_margin_out;
    delay = offset_of(std::max(started, abs_time(t)));
    gp.set_response_status(TLM_OK_RESPONSE);
}

}  // namespace sprint
