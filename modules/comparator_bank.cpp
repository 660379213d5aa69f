#include "modules/comparator_bank.h"

#include <algorithm>
#include <cstring>

#include "core/keep_rule.h"

namespace sprint {

using namespace sc_core;
using namespace tlm;

ComparatorBank::ComparatorBank(const sc_module_name& name, const IpConfig& cfg,
                               TraceScheduler& tracer)
    : sc_module(name),
      from_xbar("from_xbar", 1, [this](tlm_generic_payload& gp, sc_time& d) { compare(gp, d); }),
      from_controller("from_controller", 1,
                      [this](tlm_generic_payload& gp, sc_time& d) { read_mask(gp, d); }),
      busy("busy"),
      kept_count("kept_count"),
      m_cfg(cfg),
      m_num(cfg.numerics()),
      m_clock(cfg.clock_ns, SC_NS),
      m_tracer(tracer),
      m_stats(basename(), "analog comparators, one per bitline, and keep-mask read-out") {
    m_stats.add(
        "queued_ns",
        [this] {
            return nlohmann::json(
                (from_xbar.accept_stall + from_controller.accept_stall).to_seconds() * 1e9);
        },
        "ns", "AT: time requests waited for this block to accept them (END_REQ), summed");
}

// The decisions of one query, latched for the read-out; they take no time of their own (the
// array's evaluation includes them).
void ComparatorBank::compare(tlm_generic_payload& gp, sc_time& delay) {
    auto* cmd = gp.get_extension<proto::CompareCommand>();
    if (!cmd || gp.get_command() != TLM_WRITE_COMMAND) {
        gp.set_response_status(TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    const uint32_t first = cmd->key_begin, last = cmd->key_end;
    const uint32_t n = last > first ? last - first : 0;
    if (gp.get_data_length() != n * sizeof(double) || n == 0) {
        SC_REPORT_WARNING("sprint/comparators",
                          "compare refused: no keys, or not key_end - key_begin bitline values");
        gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    if (m_latched.size() >= m_cfg.comparators.mask_latches) {
        SC_REPORT_WARNING("sprint/comparators",
                          "compare refused: every mask latch holds a mask not yet read out");
        gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    Latched l{cmd->head,
              cmd->query,
              first,
              last,
              std::vector<uint8_t>(last, 0),
              abs_time(delay) + cmd->decided_after,
              0};
    uint8_t* mask = l.mask.data();
    // Bitlines and margins indexed by key: the values arrive for [first, end).
    m_values.assign(last, 0.0);
    std::memcpy(&m_values[first], gp.get_data_ptr(), n * sizeof(double));
    m_margins.assign(last, 0.0);
    m_num.column_base = cmd->column_base;  // the head's columns: their comparators' offsets
    uint32_t k = core::compare_bitlines(m_values.data(), int(last), cmd->shift, cmd->threshold_raw,
                                        m_num, mask, m_margins.data(), int(first), int(cmd->d));
    uint64_t& extra = l.extra_cycles;
    if (m_num.adc_bits) {  // ADC read-out: the decisions (and the best key) on the codes
        k = core::adc_select(m_margins.data(), int(last), cmd->threshold_raw, cmd->adc_step, m_num,
                             mask, m_margins.data(), int(first));
        if (cmd->codes_out)
            for (uint32_t j = first; j < last; ++j) cmd->codes_out[j] = m_margins[j];
        // Each ADC converts its columns one after another; a top-k selection emits a key a cycle.
        const uint32_t columns = std::max(last, m_cfg.xbar_capacity(cmd->d));
        const uint64_t adcs = ceil_div(columns, m_cfg.comparators.adc_columns);
        extra += ceil_div(n, adcs) * m_cfg.comparators.adc_cycles + m_num.adc_topk;
        m_conversions.add(cmd->head, cmd->query, n);
    }
    if (cmd->defer_empty) {  // a pass of several: the winner-take-all finds the best key
        uint32_t best = first;
        for (uint32_t j = first + 1; j < last; ++j)
            if (m_margins[j] > m_margins[best]) best = j;
        cmd->best_out = int32_t(best);
        cmd->best_margin_out = m_margins[best];
        if (cmd->empty_row == core::EmptyRowPolicy::Max) extra += m_cfg.comparators.wta_cycles;
    } else {
        cmd->forced_out = core::apply_empty_row_policy(mask, int(last), int(cmd->query),
                                                       cmd->empty_row, m_margins.data());
        if (cmd->forced_out >= 0) {
            ++k;
            ++m_empty_rows;
            if (cmd->empty_row == core::EmptyRowPolicy::Max) extra += m_cfg.comparators.wta_cycles;
        }
    }
    if (m_num.query_max) {  // the query's largest margin is tracked before the decisions
        l.decided += m_clock * double(m_cfg.comparators.wta_cycles);
        m_max_compares.add(cmd->head, cmd->query, n);
    }
    cmd->kept_out = k;
    m_decisions.add(cmd->head, cmd->query, n);
    m_kept += k;
    m_latched.push_back(std::move(l));
    m_latched_max.record_max(m_latched.size());
    gp.set_response_status(TLM_OK_RESPONSE);
}

// The oldest latched mask read out, once decided, on the bank's one read-out port.
void ComparatorBank::read_mask(tlm_generic_payload& gp, sc_time& delay) {
    auto* cmd = gp.get_extension<proto::MaskCommand>();
    const tlm_command want =
        cmd && cmd->op == proto::MaskOp::Clear ? TLM_IGNORE_COMMAND : TLM_READ_COMMAND;
    if (!cmd || gp.get_command() != want) {
        gp.set_response_status(TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    if (cmd->op == proto::MaskOp::Clear) {
        m_latched.clear();
        gp.set_response_status(TLM_OK_RESPONSE);
        return;
    }
    if (m_latched.empty() || m_latched.front().head != cmd->head ||
        m_latched.front().query != cmd->query ||
        gp.get_data_length() != m_latched.front().key_end) {
        SC_REPORT_WARNING("sprint/comparators",
                          "mask read refused: not the oldest latched query, or the data is not "
                          "key_end bytes");
        gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    const Latched& l = m_latched.front();
    const uint32_t n = l.key_end - l.key_begin;
    const sc_time dur =
        m_clock * double(ceil_div(n, m_cfg.comparators.readout_bits_per_cycle) + l.extra_cycles);
    const sc_time start = std::max({abs_time(delay), l.decided, m_bank.free_at()});
    const sc_time end = m_bank.occupy(start, dur);
    m_busy_ns += dur.to_seconds() * 1e9;
    m_mask_bits_read += n;
    std::memcpy(gp.get_data_ptr(), l.mask.data(), l.key_end);
    uint32_t kept = 0;
    for (uint8_t b : l.mask) kept += b;
    m_tracer.write(busy, true, offset_of(start));
    m_tracer.write(kept_count, kept, offset_of(end));
    m_tracer.write(busy, false, offset_of(end));
    m_latched.pop_front();
    delay = offset_of(end);
    gp.set_response_status(TLM_OK_RESPONSE);
}

}  // namespace sprint
