#include "modules/fetcher.h"
#include "modules/fetcher_plan.h"

#include <algorithm>
#include <cstring>

#include "core/crossbar.h"
#include "core/simd.h"
#include "tlm_interfaces/payload.h"

namespace sprint {

using namespace sc_core;
using namespace tlm;

// A plan from the free list for one command, back on the list when the command ends.
class Fetcher::PlanLease {
  public:
    explicit PlanLease(Fetcher& f) : m_f(f) {
        if (f.m_plans.empty()) {
            m_plan = std::make_unique<BurstPlan>();
        } else {
            m_plan = std::move(f.m_plans.back());
            f.m_plans.pop_back();
        }
    }
    ~PlanLease() { m_f.m_plans.push_back(std::move(m_plan)); }
    PlanLease(const PlanLease&) = delete;
    PlanLease& operator=(const PlanLease&) = delete;
    BurstPlan& operator*() { return *m_plan; }

  private:
    Fetcher& m_f;
    std::unique_ptr<BurstPlan> m_plan;
};

bool Fetcher::acquire(proto::FetchCommand& cmd, std::vector<uint8_t>& hit, sc_time& t) {
    proto::ResidencyCommand rc;
    rc.op = proto::ResidencyOp::Acquire;
    rc.buffer = cmd.buffer;
    rc.head = cmd.head;
    rc.row_bytes = cmd.row_bytes;
    rc.tokens = cmd.tokens;
    rc.count = cmd.count;
    rc.slots_out = cmd.slots_out;
    rc.hit_out = hit.data();
    if (!residency(cmd.unit, rc, t)) return false;
    cmd.no_room_out = rc.no_room_out;
    return true;
}

// Undo a LoadRows's Acquire: its pins go, and so do the slots whose rows never arrived (`filled`
// marks the slots that hold their data). Chunks still in flight keep theirs, so their releases
// succeed and the job fails with the memory's error, not an internal one.
void Fetcher::abandon(const proto::FetchCommand& cmd, const std::vector<uint8_t>& filled,
                      const sc_time& end) {
    proto::ResidencyCommand ab;
    ab.op = proto::ResidencyOp::Abandon;
    ab.buffer = cmd.buffer;
    ab.head = cmd.head;
    ab.count = cmd.count;
    ab.slots = cmd.slots_out;
    ab.filled = filled.data();
    sc_time at = offset_of(end);
    if (residency(cmd.unit, ab, at)) return;
    // Cannot happen for the slots Acquire just pinned; if it does, no row may stay.
    SC_REPORT_WARNING(
        "sprint/fetcher",
        "Abandon refused after a failed load: the buffer's resident table is flushed");
    proto::ResidencyCommand fl;
    fl.op = proto::ResidencyOp::Flush;
    fl.buffer = cmd.buffer;
    residency(cmd.unit, fl, at);
}

// K-MSB read-back of `n` runs of consecutive tokens (`rows` rows in all) in one ReadBack on the
// crossbar's socket, each run sensed at its `at` (which becomes its end); the codes joined with
// the packed low bits `lsb` (runs one after the other) into `full`.
bool Fetcher::read_back(const proto::FetchCommand& cmd, proto::ReadBackRun* runs, uint32_t n,
                        uint32_t rows, const uint8_t* lsb, uint8_t* full,
                        std::vector<int8_t>& msb) {
    const uint32_t d = cmd.row_bytes, kb = uint32_t(m_cfg.xbar.key_bits);
    const uint32_t lrb = core::key_lsb_row_bytes(int(d), int(kb));
    msb.resize(std::size_t(rows) * d);
    proto::XbarCommand xc;
    xc.op = proto::XbarOp::ReadBack;
    xc.head = cmd.head;
    xc.query = cmd.query;
    xc.d = d;
    xc.runs = runs;
    xc.run_count = n;
    proto::PooledPayload p(m_pool);
    proto::prepare(*p, TLM_READ_COMMAND, 0, msb.data(), rows * d);
    p->set_extension(&xc);
    sc_time dl = offset_of(runs[0].at);
    to_xbar.transport(*p, dl);
    p->clear_extension(&xc);
    if (!p->is_response_ok()) return false;
    for (uint32_t r = 0; r < rows; ++r)
        core::join_key_row(&msb[std::size_t(r) * d], lsb + std::size_t(r) * lrb, int(d), int(kb),
                           reinterpret_cast<int8_t*>(full) + std::size_t(r) * d);
    return true;
}

bool Fetcher::sram_write(const proto::FetchCommand& cmd, uint32_t slot, uint32_t rows,
                         uint8_t* data, sc_time& at) {
    proto::PooledPayload p(m_pool);
    proto::prepare(*p, TLM_WRITE_COMMAND, proto::sram_address(cmd.buffer, slot, cmd.row_bytes),
                   data, rows * cmd.row_bytes);
    proto::HeadTag tag;
    tag.head = cmd.head;
    tag.query = cmd.query;
    p->set_extension(&tag);
    sc_time d = offset_of(at);
    to_sram[cmd.unit].transport(*p, d);
    p->clear_extension(&tag);
    at = abs_time(d);
    return p->is_response_ok();
}

void Fetcher::load_rows(tlm_generic_payload& gp, proto::FetchCommand& cmd, sc_time& delay) {
    const sc_time start = abs_time(delay);
    const uint32_t rb = cmd.row_bytes;
    if (rb == 0 || !cmd.slots_out || (cmd.count && !cmd.tokens) || cmd.unit >= to_sram.size()) {
        SC_REPORT_WARNING("sprint/fetcher",
                          "LoadRows without a row size, slots or tokens, or for no unit");
        gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    PlanLease lease(*this);
    BurstPlan& plan = *lease;
    std::vector<uint8_t>& hit = plan.hit;
    hit.assign(cmd.count, 0);
    sc_time t = delay;
    if (!acquire(cmd, hit, t)) {
        SC_REPORT_WARNING("sprint/fetcher", "LoadRows: the SRAM buffer refused the Acquire");
        gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    if (cmd.no_room_out) {  // the caller retries once rows are released
        delay = t;
        gp.set_response_status(TLM_OK_RESPONSE);
        return;
    }
    uint32_t hits = 0;
    for (uint8_t h : hit) hits += h;
    const uint32_t mrb = cmd.readback ? core::key_lsb_row_bytes(int(rb), m_cfg.xbar.key_bits) : rb;
    plan.build(cmd, m_cfg.fetcher.max_burst_bytes, mrb);
    const sc_time issue = abs_time(t);  // before run(): in AT it waits until then
    const Loaded l =
        m_batched ? load_batched(cmd, plan, mrb, issue) : load_per_request(cmd, plan, mrb, issue);
    const bool ok = l.status == TLM_OK_RESPONSE && l.delivered;
    if (!ok) abandon(cmd, hit, l.end);
    const bool k = cmd.buffer == proto::Buffer::K;
    (k ? m_rows_requested_k : m_rows_requested_v) += cmd.count;
    (k ? m_rows_resident_k : m_rows_resident_v) += hits;
    (k ? m_rows_fetched_k : m_rows_fetched_v) += l.fetched;
    cmd.hits_out = hits;
    cmd.fetched_out = l.fetched;
    cmd.mem_bytes_out = delivered(plan.reqs);
    if (cmd.readback) m_readback_rows += l.fetched;
    if (m_record_loads)
        m_log.push_back({cmd.head, cmd.query, cmd.buffer, cmd.count, hits, l.fetched});
    m_busy.add(start, l.end);
    m_busy_ns.set(m_busy.ns());
    delay = offset_of(l.end);
    if (l.status != TLM_OK_RESPONSE) cmd.mem_status = l.status;
    gp.set_response_status(ok ? TLM_OK_RESPONSE : TLM_GENERIC_ERROR_RESPONSE);
}

// Each run goes on as its last piece arrives: its top bits read back (one ReadBack), then its
// rows written to their slots (one SRAM write per run of consecutive slots).
Fetcher::Loaded Fetcher::load_per_request(proto::FetchCommand& cmd, BurstPlan& plan, uint32_t mrb,
                                          const sc_time& issue) {
    const uint32_t rb = cmd.row_bytes;
    Loaded l;
    sc_time sram_end = issue;
    auto run_arrived = [&](const BurstPlan::Run& r, sc_time ready) {
        const uint8_t* rows = plan.stage.data() + std::size_t(r.packed) * mrb;
        if (cmd.readback) {  // the run's top bits from the crossbar, joined with the low bits
            plan.full.resize(std::size_t(r.rows) * rb);
            proto::ReadBackRun one{cmd.tokens[r.first], r.rows, ready};
            if (!read_back(cmd, &one, 1, r.rows, rows, plan.full.data(), plan.msb))
                return l.delivered = false;
            ready = one.at;
            rows = plan.full.data();
        }
        for (uint32_t a = 0; a < r.rows;) {
            uint32_t m = 1;
            while (a + m < r.rows &&
                   cmd.slots_out[r.first + a + m] == cmd.slots_out[r.first + a] + m)
                ++m;
            sc_time at = ready;
            if (!sram_write(cmd, cmd.slots_out[r.first + a], m,
                            const_cast<uint8_t*>(rows + std::size_t(a) * rb), at))
                return l.delivered = false;
            sram_end = std::max(sram_end, at);
            std::fill_n(&plan.hit[r.first + a], m, uint8_t(1));  // the slot holds the row now
            a += m;
        }
        l.fetched += r.rows;
        return true;
    };
    auto on_done = [&](MemReq& req) {
        const BurstPlan::Run& r = plan.runs[plan.run_of[std::size_t(&req - plan.reqs.data())]];
        if (--plan.pieces_left[std::size_t(&r - plan.runs.data())]) return true;
        return run_arrived(r, req.done);
    };
    l.status = run(plan.reqs, issue, on_done, l.end);
    if (mrb == 0)  // nothing in memory: each run comes from the crossbar alone
        for (const BurstPlan::Run& r : plan.runs)
            if (!run_arrived(r, issue)) break;
    l.end = std::max(l.end, sram_end);
    return l;
}

// The memory requests first (through timed DMI where granted), noting when each run's last piece
// arrived; then the arrived runs' read-back in one transaction and their SRAM writes in another.
// Each resource is booked with the same times in the same order as on the per-request path.
Fetcher::Loaded Fetcher::load_batched(proto::FetchCommand& cmd, BurstPlan& plan, uint32_t mrb,
                                      const sc_time& issue) {
    Loaded l;
    plan.ready.clear();
    auto on_done = [&plan](MemReq& req) {
        // LT runs the requests in order: the runs arrive in order.
        if (--plan.pieces_left[plan.run_of[std::size_t(&req - plan.reqs.data())]] == 0)
            plan.ready.push_back(req.done);
        return true;
    };
    l.status = run(plan.reqs, issue, on_done, l.end);
    if (mrb == 0) plan.ready.assign(plan.runs.size(), issue);
    const uint32_t runs = uint32_t(plan.ready.size());
    if (runs == 0) return l;
    const BurstPlan::Run& last = plan.runs[runs - 1];
    const uint32_t rows = last.packed + last.rows;
    const uint8_t* data = plan.stage.data();
    if (cmd.readback) {
        if (!read_back_runs(cmd, plan, runs, rows)) {
            l.delivered = false;
            return l;
        }
        data = plan.full.data();
    }
    sc_time sram_end = issue;
    if (!scatter_runs(cmd, plan, runs, rows, data, sram_end)) {
        l.delivered = false;
        return l;
    }
    for (uint32_t r = 0; r < runs; ++r)  // the slots hold the rows now
        std::fill_n(&plan.hit[plan.runs[r].first], plan.runs[r].rows, uint8_t(1));
    l.fetched = rows;
    l.end = std::max(l.end, sram_end);
    return l;
}

// The first `runs` runs' top bits (`rows` rows) in one ReadBack, each run sensed at its arrival;
// joined with the staged low bits into plan.full, and plan.ready moved to the read-back's ends.
bool Fetcher::read_back_runs(const proto::FetchCommand& cmd, BurstPlan& plan, uint32_t runs,
                             uint32_t rows) {
    plan.readback.resize(runs);
    for (uint32_t r = 0; r < runs; ++r)
        plan.readback[r] = {cmd.tokens[plan.runs[r].first], plan.runs[r].rows, plan.ready[r]};
    plan.full.resize(std::size_t(rows) * cmd.row_bytes);
    if (!read_back(cmd, plan.readback.data(), runs, rows, plan.stage.data(), plan.full.data(),
                   plan.msb))
        return false;
    for (uint32_t r = 0; r < runs; ++r) plan.ready[r] = plan.readback[r].at;
    return true;
}

// The first `runs` runs' rows (`data`, one after the other) to their slots in one RowScatter
// write: a port access per run of consecutive slots, at its run's time.
bool Fetcher::scatter_runs(const proto::FetchCommand& cmd, BurstPlan& plan, uint32_t runs,
                           uint32_t rows, const uint8_t* data, sc_time& end) {
    plan.scatter.clear();
    for (uint32_t r = 0; r < runs; ++r) {
        const BurstPlan::Run& run = plan.runs[r];
        for (uint32_t a = 0; a < run.rows;) {
            const uint32_t* slots = cmd.slots_out + run.first;
            uint32_t m = 1;
            while (a + m < run.rows && slots[a + m] == slots[a] + m) ++m;
            plan.scatter.push_back({slots[a], m, plan.ready[r]});
            a += m;
        }
    }
    proto::RowScatter sc;
    sc.runs = plan.scatter.data();
    sc.run_count = uint32_t(plan.scatter.size());
    sc.row_bytes = cmd.row_bytes;
    sc.query = cmd.query;
    proto::PooledPayload p(m_pool);
    proto::prepare(*p, TLM_WRITE_COMMAND, proto::sram_address(cmd.buffer, 0, cmd.row_bytes),
                   const_cast<uint8_t*>(data), rows * cmd.row_bytes);
    p->set_extension(&sc);
    sc_time dl = offset_of(plan.ready[0]);
    to_sram[cmd.unit].transport(*p, dl);
    p->clear_extension(&sc);
    end = std::max(end, abs_time(dl));
    return p->is_response_ok();
}

}  // namespace sprint
