#include "modules/fetcher.h"
#include "modules/fetcher_plan.h"

#include <algorithm>
#include <cstring>

#include "tlm_interfaces/payload.h"

namespace sprint {

using namespace sc_core;
using namespace tlm;

// ---- construction ------------------------------------------------------------------------------

// The commands the controller can have under way at once: LoadRows of both buffers, the posted
// output writes, and one more (a Q read, a head-table read or a release). A command that waits
// for memory never keeps another from starting.
unsigned Fetcher::command_slots(const IpConfig& cfg) {
    return cfg.units * (2 * cfg.controller.loads_in_flight + cfg.controller.posted_writes) + 2;
}

Fetcher::Fetcher(const sc_module_name& name, const IpConfig& cfg, TraceScheduler& tracer)
    : sc_module(name),
      from_controller("from_controller", command_slots(cfg),
                      [this](tlm_generic_payload& gp, sc_time& d) { execute(gp, d); }),
      mem("mem", cfg.timing, cfg.fetcher.mem_protocol == MemProtocol::Nb),
      to_sram("to_sram", cfg.units,
              [&cfg](const char* n, std::size_t) { return new InitiatorPort(n, cfg.timing); }),
      to_xbar("to_xbar", cfg.timing),
      busy("busy"),
      outstanding("outstanding"),
      m_cfg(cfg),
      m_clock(cfg.clock_ns, SC_NS),
      m_tracer(tracer),
      m_at(cfg.timing == TimingMode::AT),
      m_stats(basename(), "DRAM-to-SRAM fetch engine and output write-back") {
    mem.on_invalidate = [this](sc_dt::uint64 s, sc_dt::uint64 e) { invalidate_dmi(s, e); };
    const bool lt_batched = !m_at && cfg.fetcher.lt_path == LtPath::Batched &&
                            cfg.fetcher.mem_protocol == MemProtocol::Auto;
    m_batched = lt_batched;
    m_timed_dmi = lt_batched && !cfg.fetcher.use_dmi;
    if (m_at)
        for (uint32_t i = 0; i < cfg.fetcher.max_outstanding; ++i)
            sc_spawn(sc_bind(&Fetcher::request_thread, this), sc_gen_unique_name("request"));
    m_stats.add(
        "queued_ns",
        [this] { return nlohmann::json(from_controller.accept_stall.to_seconds() * 1e9); }, "ns",
        "AT: time requests waited for this block to accept them (END_REQ), summed");
    m_stats.add(
        "mem_request_stall_ns",
        [this] { return nlohmann::json(mem.request_stall.to_seconds() * 1e9); }, "ns",
        "AT: time memory requests waited to be accepted (END_REQ), summed over requests");
}

// ---- commands ----------------------------------------------------------------------------------

Fetcher::~Fetcher() = default;  // here, where BurstPlan is complete

void Fetcher::execute(tlm_generic_payload& gp, sc_time& delay) {
    const tlm_command c = gp.get_command();
    if (c == TLM_READ_COMMAND || c == TLM_WRITE_COMMAND) return transfer(gp, delay);
    auto* cmd = gp.get_extension<proto::FetchCommand>();
    if (c != TLM_IGNORE_COMMAND || !cmd) {
        gp.set_response_status(TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    bool ok = true;
    if (cmd->op == proto::FetchOp::LoadRows) {
        load_rows(gp, *cmd, delay);
        return;
    }
    if (cmd->op == proto::FetchOp::Peek) {  // untimed and uncounted: debug transport
        tlm_generic_payload dbg;
        proto::prepare(dbg, TLM_READ_COMMAND, gp.get_address(), gp.get_data_ptr(),
                       gp.get_data_length());
        const unsigned n = mem.socket->transport_dbg(dbg);
        gp.set_response_status(n == gp.get_data_length() ? TLM_OK_RESPONSE
                                                         : TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    proto::ResidencyCommand rc;
    rc.head = cmd->head;
    if (cmd->op == proto::FetchOp::ReleaseRows) {
        rc.op = proto::ResidencyOp::Release;
        rc.buffer = cmd->buffer;
        rc.count = cmd->count;
        rc.slots = cmd->slots;
        ok = cmd->unit < to_sram.size() && residency(cmd->unit, rc, delay);
    } else {
        rc.op = proto::ResidencyOp::Flush;
        for (uint32_t u = 0; u < to_sram.size(); ++u)
            for (proto::Buffer b : {proto::Buffer::K, proto::Buffer::V}) {
                rc.buffer = b;
                ok = ok && residency(u, rc, delay);
            }
    }
    if (!ok)
        SC_REPORT_WARNING("sprint/fetcher",
                          "ReleaseRows or Flush refused by the SRAM buffer (slots not pinned)");
    gp.set_response_status(ok ? TLM_OK_RESPONSE : TLM_GENERIC_ERROR_RESPONSE);
}

bool Fetcher::residency(uint32_t unit, proto::ResidencyCommand& rc, sc_time& delay) {
    proto::PooledPayload p(m_pool);
    proto::prepare(*p, TLM_IGNORE_COMMAND, 0, nullptr, 0);
    p->set_extension(&rc);
    to_sram[unit].transport(*p, delay);
    p->clear_extension(&rc);
    return p->is_response_ok();
}

void Fetcher::transfer(tlm_generic_payload& gp, sc_time& delay) {
    const uint32_t len = gp.get_data_length();
    if (gp.get_byte_enable_ptr()) {
        gp.set_response_status(TLM_BYTE_ENABLE_ERROR_RESPONSE);
        return;
    }
    if (gp.get_streaming_width() != len) {
        gp.set_response_status(TLM_BURST_ERROR_RESPONSE);
        return;
    }
    const auto* tag = gp.get_extension<proto::HeadTag>();
    std::vector<MemReq> reqs;
    for (uint32_t off = 0; off < len; off += m_cfg.fetcher.max_burst_bytes)
        reqs.push_back({gp.get_command(), gp.get_address() + off, gp.get_data_ptr() + off,
                        std::min(len - off, m_cfg.fetcher.max_burst_bytes), tag ? tag->head : 0u,
                        tag ? tag->query : core::kNoQuery});
    const sc_time start = abs_time(delay);
    sc_time end;
    const tlm_response_status st = run(reqs, start, nullptr, end);
    if (auto* t = gp.get_extension<proto::HeadTag>()) t->bytes_out = delivered(reqs);
    m_busy.add(start, end);
    m_busy_ns.set(m_busy.ns());
    delay = offset_of(end);
    gp.set_response_status(st);
}

uint64_t Fetcher::delivered(const std::vector<MemReq>& reqs) {
    uint64_t n = 0;
    for (const MemReq& r : reqs)
        if (r.status == TLM_OK_RESPONSE) n += r.len;
    return n;
}

}  // namespace sprint
