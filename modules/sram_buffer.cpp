#include "modules/sram_buffer.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace sprint {

using namespace sc_core;
using namespace tlm;

SramBuffer::SramBuffer(const sc_module_name& name, const IpConfig& cfg, TraceScheduler& tracer)
    : sc_module(name),
      from_controller("from_controller", 1,
                      [this](tlm_generic_payload& gp, sc_time& d) { controller_transport(gp, d); }),
      from_fetcher("from_fetcher", 1,
                   [this](tlm_generic_payload& gp, sc_time& d) { fetcher_transport(gp, d); }),
      from_datapath("from_datapath", 1,
                    [this](tlm_generic_payload& gp, sc_time& d) { datapath_transport(gp, d); }),
      occupancy_k("occupancy_k"),
      occupancy_v("occupancy_v"),
      m_cfg(cfg),
      m_clock(cfg.clock_ns, SC_NS),
      m_tracer(tracer),
      m_policy(ReplacementPolicy::create(cfg.sram.replacement)),
      m_kmem(cfg.sram.k_bytes),
      m_vmem(cfg.sram.v_bytes),
      m_stats(basename(), "on-chip K and V row buffers with resident tables") {
    m_stats.add(
        "read_port_queued_ns",
        [this] { return nlohmann::json(from_datapath.accept_stall.to_seconds() * 1e9); }, "ns",
        "AT: time requests waited for this block to accept them (END_REQ), summed");
    m_stats.add(
        "write_port_queued_ns",
        [this] { return nlohmann::json(from_fetcher.accept_stall.to_seconds() * 1e9); }, "ns",
        "AT: time requests waited for this block to accept them (END_REQ), summed");
}

bool SramBuffer::data_access(tlm_generic_payload& gp, sc_time& delay, ResourceTimeline& port,
                             core::Duration& busy) {
    const uint64_t a = gp.get_address();
    const uint32_t len = gp.get_data_length();
    uint8_t* mem = nullptr;
    // Written so that no sum can wrap around 2^64.
    auto inside = [&](uint64_t base, std::size_t size) {
        return a >= base && len <= size && a - base <= size - len;
    };
    if (inside(proto::kSramKBase, m_kmem.size()))
        mem = m_kmem.data() + (a - proto::kSramKBase);
    else if (inside(proto::kSramVBase, m_vmem.size()))
        mem = m_vmem.data() + (a - proto::kSramVBase);
    if (!mem || len == 0) {
        gp.set_response_status(TLM_ADDRESS_ERROR_RESPONSE);
        return false;
    }
    if (gp.get_streaming_width() != len) {
        gp.set_response_status(TLM_BURST_ERROR_RESPONSE);
        return false;
    }
    if (gp.get_byte_enable_ptr()) {
        gp.set_response_status(TLM_BYTE_ENABLE_ERROR_RESPONSE);
        return false;
    }
    if (gp.is_read())
        std::memcpy(gp.get_data_ptr(), mem, len);
    else
        std::memcpy(mem, gp.get_data_ptr(), len);
    port_access(len, delay, port, busy);
    gp.set_response_status(TLM_OK_RESPONSE);
    return true;
}

uint32_t SramBuffer::head_at(uint64_t a) const {
    const bool v = a >= proto::kSramVBase;
    const Table& t = v ? m_v : m_k;
    const uint64_t off = a - (v ? proto::kSramVBase : proto::kSramKBase);
    const uint64_t slot = t.row_bytes ? off / t.row_bytes : 0;
    return slot < t.slot_head.size() ? t.slot_head[slot] : 0;
}

void SramBuffer::port_access(uint64_t len, sc_time& delay, ResourceTimeline& port,
                             core::Duration& busy) {
    const sc_time dur =
        m_clock * double(m_cfg.sram.access_cycles + ceil_div(len, m_cfg.sram.bytes_per_cycle));
    busy += dur.to_seconds() * 1e9;
    delay = offset_of(port.occupy(abs_time(delay), dur));
}

// A gather or scatter moves whole rows: no byte enables, the streaming width its length.
bool SramBuffer::whole_rows(tlm_generic_payload& gp) {
    if (gp.get_streaming_width() == gp.get_data_length() && !gp.get_byte_enable_ptr()) return true;
    gp.set_response_status(gp.get_byte_enable_ptr() ? TLM_BYTE_ENABLE_ERROR_RESPONSE
                                                    : TLM_BURST_ERROR_RESPONSE);
    return false;
}

// The rows of a RowGather, each checked against its buffer, in one pipelined port access.
bool SramBuffer::gather(tlm_generic_payload& gp, const proto::RowGather& g, sc_time& delay) {
    const uint64_t a = gp.get_address();
    const std::vector<uint8_t>* mem = a == proto::kSramKBase   ? &m_kmem
                                      : a == proto::kSramVBase ? &m_vmem
                                                               : nullptr;
    const uint64_t len = uint64_t(g.count) * g.row_bytes;
    if (!mem || !g.slots || g.count == 0 || g.row_bytes == 0 || gp.get_data_length() != len) {
        gp.set_response_status(TLM_ADDRESS_ERROR_RESPONSE);
        return false;
    }
    if (!whole_rows(gp)) return false;
    const uint64_t rows = mem->size() / g.row_bytes;
    for (uint32_t i = 0; i < g.count; ++i)
        if (g.slots[i] >= rows) {
            gp.set_response_status(TLM_ADDRESS_ERROR_RESPONSE);
            return false;
        }
    for (uint32_t i = 0; i < g.count; ++i)
        std::memcpy(gp.get_data_ptr() + std::size_t(i) * g.row_bytes,
                    mem->data() + std::size_t(g.slots[i]) * g.row_bytes, g.row_bytes);
    port_access(len, delay, m_read_port, m_read_port_busy_ns);
    gp.set_response_status(TLM_OK_RESPONSE);
    return true;
}

void SramBuffer::datapath_transport(tlm_generic_payload& gp, sc_time& delay) {
    if (gp.get_command() != TLM_READ_COMMAND) {
        gp.set_response_status(TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    const auto* g = gp.get_extension<proto::RowGather>();
    if (g ? gather(gp, *g, delay) : data_access(gp, delay, m_read_port, m_read_port_busy_ns)) {
        const uint64_t first =
            g ? proto::sram_address(
                    gp.get_address() == proto::kSramVBase ? proto::Buffer::V : proto::Buffer::K,
                    g->slots[0], g->row_bytes)
              : gp.get_address();
        m_read_bytes.add(head_at(first), g ? g->query : core::kNoQuery, gp.get_data_length());
        ++m_reads;
    }
}

void SramBuffer::controller_transport(tlm_generic_payload& gp, sc_time&) {
    // Reservations are the allocator's counter beside the resident table: no cycles of their own.
    auto* cmd = gp.get_extension<proto::ResidencyCommand>();
    const bool op_ok =
        cmd && (cmd->op == proto::ResidencyOp::Reserve || cmd->op == proto::ResidencyOp::Unreserve);
    if (gp.get_command() != TLM_IGNORE_COMMAND || !op_ok) {
        gp.set_response_status(TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    if (cmd->op == proto::ResidencyOp::Unreserve) {
        unreserve(*cmd);
    } else if (!reserve(*cmd)) {
        SC_REPORT_WARNING("sprint/sram",
                          "Reserve refused: no row size, or a new row size while rows are in use");
        gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    gp.set_response_status(TLM_OK_RESPONSE);
}

// The runs of a RowScatter, all checked before any is written, each one write-port access at its
// own time, in order.
bool SramBuffer::scatter(tlm_generic_payload& gp, proto::RowScatter& s, sc_time& delay) {
    const uint64_t a = gp.get_address();
    const proto::Buffer b = a == proto::kSramVBase ? proto::Buffer::V : proto::Buffer::K;
    std::vector<uint8_t>& mem = b == proto::Buffer::K ? m_kmem : m_vmem;
    const uint64_t rb = s.row_bytes, slots = rb ? mem.size() / rb : 0;
    uint64_t rows = 0;
    bool ok = (a == proto::kSramKBase || a == proto::kSramVBase) && s.runs && rb;
    for (uint32_t i = 0; ok && i < s.run_count; ++i) {
        ok = s.runs[i].rows > 0 && s.runs[i].slot < slots &&
             s.runs[i].rows <= slots - s.runs[i].slot;
        rows += s.runs[i].rows;
    }
    if (!ok || gp.get_data_length() != rows * rb) {
        gp.set_response_status(TLM_ADDRESS_ERROR_RESPONSE);
        return false;
    }
    if (!whole_rows(gp)) return false;
    const uint8_t* src = gp.get_data_ptr();
    sc_time last = abs_time(delay);
    for (uint32_t i = 0; i < s.run_count; ++i) {
        proto::RowScatter::Run& run = s.runs[i];
        const std::size_t n = std::size_t(run.rows) * rb;
        std::memcpy(mem.data() + std::size_t(run.slot) * rb, src, n);
        src += n;
        sc_time d = offset_of(run.at);
        port_access(n, d, m_write_port, m_write_port_busy_ns);
        run.at = abs_time(d);
        last = std::max(last, run.at);
        m_write_bytes.add(head_at(proto::sram_address(b, run.slot, s.row_bytes)), s.query, n);
        ++m_writes;
    }
    delay = offset_of(last);
    gp.set_response_status(TLM_OK_RESPONSE);
    return true;
}

void SramBuffer::fetcher_transport(tlm_generic_payload& gp, sc_time& delay) {
    if (gp.get_command() == TLM_WRITE_COMMAND) {
        if (auto* s = gp.get_extension<proto::RowScatter>()) {
            scatter(gp, *s, delay);
            return;
        }
        if (data_access(gp, delay, m_write_port, m_write_port_busy_ns)) {
            const auto* tag = gp.get_extension<proto::HeadTag>();
            m_write_bytes.add(head_at(gp.get_address()), tag ? tag->query : core::kNoQuery,
                              gp.get_data_length());
            ++m_writes;
        }
        return;
    }
    auto* cmd = gp.get_extension<proto::ResidencyCommand>();
    if (gp.get_command() != TLM_IGNORE_COMMAND || !cmd) {
        gp.set_response_status(TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    bool ok = true;
    switch (cmd->op) {
        case proto::ResidencyOp::Flush:
            flush(table(cmd->buffer));
            ++m_flushes;
            break;
        case proto::ResidencyOp::Release:
            ok = release(*cmd);
            break;
        case proto::ResidencyOp::Abandon:
            ok = abandon(*cmd);
            break;
        case proto::ResidencyOp::Acquire:
            ok = acquire(*cmd);
            break;
        default:  // Reserve and Unreserve come from the controller, on its own socket
            gp.set_response_status(TLM_COMMAND_ERROR_RESPONSE);
            return;
    }
    if (!ok) {
        static const char* const names[] = {"Reserve", "Unreserve", "Acquire",
                                            "Release", "Abandon",   "Flush"};
        SC_REPORT_WARNING("sprint/sram",
                          (std::string(names[int(cmd->op)]) +
                           " refused: a new row size while rows are in use, more rows than slots, "
                           "or a slot not pinned")
                              .c_str());
        gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    // The resident table is its own lookup logic (a CAM beside the data arrays): a table command
    // takes access_cycles and does not occupy a data port.
    delay += m_clock * double(m_cfg.sram.access_cycles);
    auto& t = table(cmd->buffer);
    m_tracer.write(cmd->buffer == proto::Buffer::K ? occupancy_k : occupancy_v, t.valid, delay);
    gp.set_response_status(TLM_OK_RESPONSE);
}

}  // namespace sprint
