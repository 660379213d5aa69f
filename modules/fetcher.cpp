#include "modules/fetcher.h"

#include <algorithm>
#include <cstring>
#include <functional>

#include "tlm_interfaces/payload.h"

namespace sprint {

using namespace sc_core;
using namespace tlm;

Fetcher::Window::Window(const Fetcher& f, const sc_time& start)
    : m_f(f), m_last_issue(start), m_end(start) {}

sc_time Fetcher::Window::next_issue() const {
    sc_time t = m_first ? m_last_issue
                        : m_last_issue + m_f.m_clock * double(m_f.m_cfg.fetcher.issue_cycles);
    // m_done is sorted: requests still in flight at t are those completing after t. With o of
    // them in flight, the next one waits for the earliest completion that leaves o - 1.
    const std::size_t o = m_f.m_cfg.fetcher.max_outstanding;
    const auto first_pending = std::upper_bound(m_done.begin(), m_done.end(), t);
    const std::size_t pending = std::size_t(m_done.end() - first_pending);
    if (pending >= o) t = m_done[m_done.size() - o];
    return t;
}

void Fetcher::Window::completed(const sc_time& issue, const sc_time& done) {
    m_first = false;
    m_last_issue = issue;
    m_end = std::max(m_end, done);
    m_done.insert(std::upper_bound(m_done.begin(), m_done.end(), done), done);
    // Issue times never go back: completions at or before this issue can no longer limit one.
    const auto stale = std::upper_bound(m_done.begin(), m_done.end(), issue);
    if (stale - m_done.begin() > 64) m_done.erase(m_done.begin(), stale);
    events.emplace_back(issue, +1);
    events.emplace_back(done, -1);
}

Fetcher::Fetcher(const sc_module_name& name, const IpConfig& cfg, TraceScheduler& tracer)
    : sc_module(name),
      from_controller("from_controller"),
      mem("mem"),
      to_sram("to_sram"),
      busy("busy"),
      outstanding("outstanding"),
      m_cfg(cfg),
      m_clock(cfg.clock_ns, SC_NS),
      m_tracer(tracer),
      m_stats(basename(), "DRAM-to-SRAM fetch engine and output write-back") {
    from_controller.register_b_transport(this, &Fetcher::b_transport);
    mem.register_invalidate_direct_mem_ptr(this, &Fetcher::invalidate_dmi);
    m_stats.add("mem_read_bytes", &mem_read_bytes, "B", "bytes read on the mem port");
    m_stats.add("mem_write_bytes", &mem_write_bytes, "B", "bytes written on the mem port");
    m_stats.add("mem_reads", &mem_reads, "transactions", "read requests on the mem port");
    m_stats.add("mem_writes", &mem_writes, "transactions", "write requests on the mem port");
    m_stats.add("rows_requested_k", &rows_requested_k, "rows", "K rows the datapath needed");
    m_stats.add("rows_requested_v", &rows_requested_v, "rows", "V rows the datapath needed");
    m_stats.add("rows_resident_k", &rows_resident_k, "rows", "K rows found resident (re-used)");
    m_stats.add("rows_resident_v", &rows_resident_v, "rows", "V rows found resident (re-used)");
    m_stats.add("rows_fetched_k", &rows_fetched_k, "rows", "K rows fetched from memory");
    m_stats.add("rows_fetched_v", &rows_fetched_v, "rows", "V rows fetched from memory");
    m_stats.add("dmi_accesses", &dmi_accesses, "accesses", "accesses served through DMI pointers");
    m_stats.add("mem_errors", &mem_errors, "responses", "error responses from memory");
    m_stats.add("max_in_flight", &max_in_flight, "requests", "most memory requests in flight");
    m_stats.add("busy_ns", &busy_ns, "ns", "time with a command in progress");
}

void Fetcher::b_transport(tlm_generic_payload& gp, sc_time& delay) {
    const tlm_command c = gp.get_command();
    if (c == TLM_READ_COMMAND || c == TLM_WRITE_COMMAND) return transfer(gp, delay);
    auto* cmd = gp.get_extension<proto::FetchCommand>();
    if (c != TLM_IGNORE_COMMAND || !cmd) {
        gp.set_response_status(TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    if (cmd->op == proto::FetchOp::Flush) flush(*cmd, gp, delay);
    else load_rows(gp, *cmd, delay);
}

bool Fetcher::flush_buffer(proto::Buffer b, uint32_t head, sc_time& delay) {
    proto::ResidencyCommand rc;
    rc.op = proto::ResidencyOp::Flush;
    rc.buffer = b;
    rc.head = head;
    tlm_generic_payload p;
    proto::prepare(p, TLM_IGNORE_COMMAND, 0, nullptr, 0);
    p.set_extension(&rc);
    to_sram->b_transport(p, delay);
    p.clear_extension(&rc);
    return p.is_response_ok();
}

void Fetcher::flush(proto::FetchCommand& cmd, tlm_generic_payload& gp, sc_time& delay) {
    for (proto::Buffer b : {proto::Buffer::K, proto::Buffer::V}) {
        if (!flush_buffer(b, cmd.head, delay)) {
            gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
            return;
        }
    }
    gp.set_response_status(TLM_OK_RESPONSE);
}

bool Fetcher::dmi_lookup(uint64_t addr, uint32_t len, bool write, tlm_dmi*& out) {
    for (auto& d : m_dmi) {
        if (addr >= d.get_start_address() && addr + len - 1 <= d.get_end_address() &&
            (write ? d.is_write_allowed() : d.is_read_allowed())) {
            out = &d;
            return true;
        }
    }
    return false;
}

void Fetcher::invalidate_dmi(sc_dt::uint64 start, sc_dt::uint64 end) {
    m_dmi.erase(std::remove_if(m_dmi.begin(), m_dmi.end(),
                               [&](const tlm_dmi& d) {
                                   return d.get_start_address() <= end && d.get_end_address() >= start;
                               }),
                m_dmi.end());
}

tlm_response_status Fetcher::mem_access(tlm_command cmd, uint64_t addr, uint8_t* data, uint32_t len,
                                        const sc_time& issue, sc_time& done) {
    const bool write = cmd == TLM_WRITE_COMMAND;
    tlm_dmi* dmi = nullptr;
    if (m_cfg.fetcher.use_dmi && dmi_lookup(addr, len, write, dmi)) {
        uint8_t* p = dmi->get_dmi_ptr() + (addr - dmi->get_start_address());
        if (write) std::memcpy(p, data, len);
        else std::memcpy(data, p, len);
        done = issue + (write ? dmi->get_write_latency() : dmi->get_read_latency());
        ++dmi_accesses;
    } else {
        tlm_generic_payload& gp = m_mem_gp;  // re-used: constructing a payload costs allocations
        proto::prepare(gp, cmd, addr, data, len);
        sc_time delay = offset_of(issue);
        mem->b_transport(gp, delay);
        done = abs_time(delay);
        if (!gp.is_response_ok()) {
            ++mem_errors;
            return gp.get_response_status();
        }
        if (m_cfg.fetcher.use_dmi && gp.is_dmi_allowed()) {
            tlm_dmi d;
            if (mem->get_direct_mem_ptr(gp, d)) m_dmi.push_back(d);
        }
    }
    if (write) {
        mem_write_bytes += len;
        ++mem_writes;
    } else {
        mem_read_bytes += len;
        ++mem_reads;
    }
    return TLM_OK_RESPONSE;
}

void Fetcher::trace_command(const sc_time& start, const sc_time& end, Window& w) {
    busy_ns += (end - start).to_seconds() * 1e9;
    std::stable_sort(w.events.begin(), w.events.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    int64_t n = 0;
    for (const auto& e : w.events) {
        n += e.second;
        max_in_flight = std::max<uint64_t>(max_in_flight, uint64_t(std::max<int64_t>(n, 0)));
    }
    if (!m_tracer.enabled()) return;
    m_tracer.write(busy, true, offset_of(start));
    n = 0;
    for (const auto& e : w.events) {
        n += e.second;
        m_tracer.write(outstanding, uint32_t(std::max<int64_t>(n, 0)), offset_of(e.first));
    }
    m_tracer.write(busy, false, offset_of(end));
}

void Fetcher::transfer(tlm_generic_payload& gp, sc_time& delay) {
    const sc_time start = abs_time(delay);
    Window w(*this, start);
    const uint32_t len = gp.get_data_length();
    if (gp.get_byte_enable_ptr()) {
        gp.set_response_status(TLM_BYTE_ENABLE_ERROR_RESPONSE);
        return;
    }
    if (gp.get_streaming_width() != len) {
        gp.set_response_status(TLM_BURST_ERROR_RESPONSE);
        return;
    }
    tlm_response_status st = TLM_OK_RESPONSE;
    for (uint32_t off = 0; off < len && st == TLM_OK_RESPONSE;) {
        const uint32_t n = std::min(len - off, m_cfg.fetcher.max_burst_bytes);
        const sc_time issue = w.next_issue();
        sc_time done;
        st = mem_access(gp.get_command(), gp.get_address() + off, gp.get_data_ptr() + off, n,
                        issue, done);
        w.completed(issue, done);
        off += n;
    }
    trace_command(start, w.end(), w);
    delay = offset_of(w.end());
    gp.set_response_status(st);
}

bool Fetcher::sram_write(proto::Buffer b, uint32_t slot, uint32_t rows, uint32_t row_bytes,
                         const uint8_t* data, sc_time& at) {
    tlm_generic_payload& p = m_sram_gp;
    proto::prepare(p, TLM_WRITE_COMMAND, proto::sram_address(b, slot, row_bytes),
                   const_cast<uint8_t*>(data), rows * row_bytes);
    sc_time d = offset_of(at);
    to_sram->b_transport(p, d);
    at = abs_time(d);
    return p.is_response_ok();
}

void Fetcher::load_rows(tlm_generic_payload& gp, proto::FetchCommand& cmd, sc_time& delay) {
    const sc_time start = abs_time(delay);
    const uint32_t rb = cmd.row_bytes;
    if (rb == 0 || !cmd.slots_out || (cmd.count && !cmd.tokens)) {
        gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    m_hit.assign(cmd.count, 0);
    proto::ResidencyCommand rc;
    rc.op = proto::ResidencyOp::Acquire;
    rc.buffer = cmd.buffer;
    rc.head = cmd.head;
    rc.row_bytes = rb;
    rc.tokens = cmd.tokens;
    rc.count = cmd.count;
    rc.slots_out = cmd.slots_out;
    rc.hit_out = m_hit.data();
    tlm_generic_payload p;
    proto::prepare(p, TLM_IGNORE_COMMAND, 0, nullptr, 0);
    p.set_extension(&rc);
    sc_time t = delay;
    to_sram->b_transport(p, t);
    p.clear_extension(&rc);
    if (!p.is_response_ok()) {
        gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    Window w(*this, abs_time(t));
    sc_time end = abs_time(t);
    uint32_t fetched = 0, hits = 0;
    for (uint32_t i = 0; i < cmd.count; ++i) hits += m_hit[i];
    const uint32_t burst = m_cfg.fetcher.max_burst_bytes;
    const uint32_t max_rows = std::max<uint32_t>(1, burst / rb);
    tlm_response_status st = TLM_OK_RESPONSE;
    for (uint32_t i = 0; i < cmd.count && st == TLM_OK_RESPONSE;) {
        if (m_hit[i]) { ++i; continue; }
        // A burst: consecutive missing tokens (adjacent in memory), up to max_burst_bytes; a row
        // larger than that is read in max_burst_bytes pieces.
        uint32_t n = 1;
        while (i + n < cmd.count && n < max_rows && !m_hit[i + n] &&
               cmd.tokens[i + n] == cmd.tokens[i] + n)
            ++n;
        m_stage.resize(std::size_t(n) * rb);
        const uint64_t addr = cmd.tensor_base + uint64_t(cmd.tokens[i]) * rb;
        sc_time done = abs_time(t);
        for (uint32_t off = 0; off < n * rb && st == TLM_OK_RESPONSE;) {
            const uint32_t piece = std::min(n * rb - off, burst);
            const sc_time issue = w.next_issue();
            sc_time piece_done;
            st = mem_access(TLM_READ_COMMAND, addr + off, m_stage.data() + off, piece, issue, piece_done);
            w.completed(issue, piece_done);
            done = std::max(done, piece_done);
            off += piece;
        }
        if (st != TLM_OK_RESPONSE) break;
        // Rows land in their slots; runs of consecutive slots are written in one access.
        for (uint32_t a = 0; a < n;) {
            uint32_t m = 1;
            while (a + m < n && cmd.slots_out[i + a + m] == cmd.slots_out[i + a] + m) ++m;
            sc_time at = done;
            if (!sram_write(cmd.buffer, cmd.slots_out[i + a], m, rb, &m_stage[std::size_t(a) * rb], at)) {
                gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
                return;
            }
            end = std::max(end, at);
            a += m;
        }
        fetched += n;
        i += n;
    }
    if (st != TLM_OK_RESPONSE) {
        // Slots were allocated for rows that never arrived: drop the buffer's resident table so
        // no row without data is ever taken as resident.
        sc_time ft = offset_of(std::max(end, w.end()));
        flush_buffer(cmd.buffer, cmd.head, ft);
    }
    end = std::max(end, w.end());
    const bool k = cmd.buffer == proto::Buffer::K;
    (k ? rows_requested_k : rows_requested_v) += cmd.count;
    (k ? rows_resident_k : rows_resident_v) += hits;
    (k ? rows_fetched_k : rows_fetched_v) += fetched;
    cmd.hits_out = hits;
    cmd.fetched_out = fetched;
    m_log.push_back({cmd.head, cmd.query, cmd.buffer, cmd.count, hits, fetched});
    trace_command(start, end, w);
    delay = offset_of(end);
    if (st != TLM_OK_RESPONSE) {
        cmd.mem_status = st;
        gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    gp.set_response_status(TLM_OK_RESPONSE);
}

}  // namespace sprint
