#include "modules/fetcher.h"

#include <algorithm>
#include <cstring>

#include "core/crossbar.h"
#include "core/simd.h"
#include "tlm_interfaces/payload.h"

namespace sprint {

using namespace sc_core;
using namespace tlm;

// ---- LT request window -------------------------------------------------------------------------

Fetcher::Window::Window(Fetcher& f, const sc_time& start) : m_f(f), m_last_issue(start) {}

namespace {

// How many of the sorted values v are <= t: a binary search without branches on the data (the
// window asks several times per memory request, on comparisons that predict badly).
std::size_t count_le(const std::vector<uint64_t>& v, uint64_t t) {
    const uint64_t* a = v.data();
    std::size_t n = v.size();
    if (n == 0) return 0;
    const uint64_t* b = a;
    while (n > 1) {
        const std::size_t h = n / 2;
        b = b[h] <= t ? b + h : b;
        n -= h;
    }
    return std::size_t(b - a) + (*b <= t ? 1 : 0);
}

}  // namespace

sc_time Fetcher::Window::next_issue() const {
    const sc_time t0 = m_first
                           ? m_last_issue
                           : m_last_issue + m_f.m_clock * double(m_f.m_cfg.fetcher.issue_cycles);
    // In flight at t: issued by t and not ended by t. Every request is issued before it ends,
    // so that is #{issue <= t} - #{done <= t}: two binary searches. While max_outstanding are in
    // flight at t, t moves to the first of them to end.
    const std::size_t o = m_f.m_cfg.fetcher.max_outstanding;
    const auto& fl = m_f.m_lt_flight;
    auto in_flight = [&fl](uint64_t t) {
        return count_le(fl.issue_sorted, t) - count_le(fl.done, t);
    };
    uint64_t t = t0.value();
    while (in_flight(t) >= o) {
        // Move t to the first of those in flight to end: by done, the first one after t that
        // was issued by t.
        std::size_t k = count_le(fl.done, t);
        while (fl.issue[k] > t) ++k;  // one exists: o >= 1 are in flight
        t = fl.done[k];
    }
    return sc_time::from_value(t);
}

void Fetcher::Window::completed(const sc_time& issue, const sc_time& done) {
    m_first = false;
    m_last_issue = issue;
    auto& fl = m_f.m_lt_flight;
    const auto at = std::upper_bound(fl.done.begin(), fl.done.end(), done.value());
    fl.issue.insert(fl.issue.begin() + (at - fl.done.begin()), issue.value());
    fl.done.insert(at, done.value());
    fl.issue_sorted.insert(
        std::upper_bound(fl.issue_sorted.begin(), fl.issue_sorted.end(), issue.value()),
        issue.value());
    // Every issue time to come is at or after simulated time (a command starts at its caller's
    // local time, never before now): requests that ended before now cannot limit one.
    if (fl.done.size() > 2 * std::size_t(m_f.m_cfg.fetcher.max_outstanding) + 16) {
        const std::size_t ended =
            std::size_t(std::upper_bound(fl.done.begin(), fl.done.end(), sc_time_stamp().value()) -
                        fl.done.begin());
        for (std::size_t k = 0; k < ended; ++k)
            fl.issue_sorted.erase(
                std::lower_bound(fl.issue_sorted.begin(), fl.issue_sorted.end(), fl.issue[k]));
        fl.issue.erase(fl.issue.begin(), fl.issue.begin() + std::ptrdiff_t(ended));
        fl.done.erase(fl.done.begin(), fl.done.begin() + std::ptrdiff_t(ended));
    }
}

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

Fetcher::~Fetcher() = default;  // here, where BurstPlan is complete

// ---- commands ----------------------------------------------------------------------------------

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

// K-MSB read-back of `rows` consecutive tokens from cmd.tokens[first]: one ReadBack on the
// crossbar's socket at `at` (which becomes its end), the codes joined with the packed low bits.
bool Fetcher::read_back(const proto::FetchCommand& cmd, uint32_t first, uint32_t rows,
                        const uint8_t* lsb, uint8_t* full, std::vector<int8_t>& msb, sc_time& at) {
    const uint32_t d = cmd.row_bytes, kb = uint32_t(m_cfg.xbar.key_bits);
    const uint32_t lrb = core::key_lsb_row_bytes(int(d), int(kb));
    msb.resize(std::size_t(rows) * d);
    proto::XbarCommand xc;
    xc.op = proto::XbarOp::ReadBack;
    xc.head = cmd.head;
    xc.query = cmd.query;
    xc.d = d;
    xc.first_key = cmd.tokens[first];
    xc.key_count = rows;
    proto::PooledPayload p(m_pool);
    proto::prepare(*p, TLM_READ_COMMAND, 0, reinterpret_cast<uint8_t*>(msb.data()), rows * d);
    p->set_extension(&xc);
    sc_time dl = offset_of(at);
    to_xbar.transport(*p, dl);
    p->clear_extension(&xc);
    at = abs_time(dl);
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

// The bursts of one LoadRows: runs of consecutive missing tokens (adjacent in memory) up to
// max_burst_bytes, a row larger than that read in max_burst_bytes pieces, into a staging buffer.
// Plans are reused (Fetcher::m_plans): commands under way at once each hold their own.
struct Fetcher::BurstPlan {
    struct Run {
        uint32_t first, rows, pieces;
    };
    std::vector<uint8_t> hit;  // per token: resident, then: its slot holds the row's data
    std::vector<Run> runs;
    std::vector<MemReq> reqs;
    std::vector<uint32_t> run_of;  // request -> run
    std::vector<uint32_t> pieces_left;
    std::vector<uint8_t> stage;
    std::vector<uint8_t> full;  // read-back: a run's rows rebuilt
    std::vector<int8_t> msb;    // and their top bits from the crossbar

    // rb: bytes of a row in memory (the packed low bits with K-MSB read-back, else row_bytes).
    // rb = 0 (read-back of keys whose every bit is in the crossbar): runs without a request.
    void build(const proto::FetchCommand& cmd, uint32_t burst, uint32_t rb) {
        runs.clear();
        reqs.clear();
        run_of.clear();
        pieces_left.clear();
        const uint32_t max_rows = rb ? std::max<uint32_t>(1, burst / rb) : burst;
        for (uint32_t i = 0; i < cmd.count;) {
            if (hit[i]) {
                ++i;
                continue;
            }
            uint32_t n = 1;
            while (i + n < cmd.count && n < max_rows && !hit[i + n] &&
                   cmd.tokens[i + n] == cmd.tokens[i] + n)
                ++n;
            runs.push_back({i, n, uint32_t(ceil_div(uint64_t(n) * rb, burst))});
            pieces_left.push_back(runs.back().pieces);
            i += n;
        }
        stage.resize(std::size_t(cmd.count) * rb);
        for (std::size_t r = 0; r < runs.size(); ++r) {
            const uint64_t addr = (cmd.readback ? cmd.lsb_base : cmd.tensor_base) +
                                  uint64_t(cmd.tokens[runs[r].first]) * rb;
            uint8_t* dst = stage.data() + std::size_t(runs[r].first) * rb;
            for (uint32_t off = 0; off < runs[r].rows * rb; off += burst) {
                reqs.push_back({TLM_READ_COMMAND, addr + off, dst + off,
                                std::min(runs[r].rows * rb - off, burst), cmd.head, cmd.query});
                run_of.push_back(uint32_t(r));
            }
        }
    }
};

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
    std::vector<uint8_t>& full = plan.full;
    // When the last piece of a run arrives, its rows go to their slots (runs of consecutive slots
    // in one SRAM access).
    sc_time sram_end = abs_time(t);
    bool sram_ok = true;
    uint32_t fetched = 0;
    auto run_arrived = [&](const BurstPlan::Run& r, sc_time ready) {
        const uint8_t* rows = plan.stage.data() + std::size_t(r.first) * mrb;
        if (cmd.readback) {  // the run's top bits from the crossbar, joined with the low bits
            full.resize(std::size_t(r.rows) * rb);
            if (!read_back(cmd, r.first, r.rows, rows, full.data(), plan.msb, ready))
                return sram_ok = false;
            rows = full.data();
        }
        for (uint32_t a = 0; a < r.rows;) {
            uint32_t m = 1;
            while (a + m < r.rows &&
                   cmd.slots_out[r.first + a + m] == cmd.slots_out[r.first + a] + m)
                ++m;
            sc_time at = ready;
            if (!sram_write(cmd, cmd.slots_out[r.first + a], m,
                            const_cast<uint8_t*>(rows + std::size_t(a) * rb), at))
                return sram_ok = false;
            sram_end = std::max(sram_end, at);
            std::fill_n(&hit[r.first + a], m, uint8_t(1));  // from now on the slot holds the row
            a += m;
        }
        fetched += r.rows;
        return true;
    };
    auto on_done = [&](MemReq& req) {
        const BurstPlan::Run& r = plan.runs[plan.run_of[std::size_t(&req - plan.reqs.data())]];
        if (--plan.pieces_left[std::size_t(&r - plan.runs.data())]) return true;
        return run_arrived(r, req.done);
    };
    sc_time end;
    const sc_time issue = abs_time(t);  // before run(): in AT it waits until then
    const tlm_response_status st = run(plan.reqs, issue, on_done, end);
    if (mrb == 0)  // nothing in memory: each run comes from the crossbar alone
        for (const BurstPlan::Run& r : plan.runs)
            if (!run_arrived(r, issue)) break;
    end = std::max(end, sram_end);
    const bool ok = st == TLM_OK_RESPONSE && sram_ok;
    if (!ok) abandon(cmd, hit, end);
    const bool k = cmd.buffer == proto::Buffer::K;
    (k ? m_rows_requested_k : m_rows_requested_v) += cmd.count;
    (k ? m_rows_resident_k : m_rows_resident_v) += hits;
    (k ? m_rows_fetched_k : m_rows_fetched_v) += fetched;
    cmd.hits_out = hits;
    cmd.fetched_out = fetched;
    cmd.mem_bytes_out = delivered(plan.reqs);
    if (cmd.readback) m_readback_rows += fetched;
    if (m_record_loads)
        m_log.push_back({cmd.head, cmd.query, cmd.buffer, cmd.count, hits, fetched});
    m_busy.add(start, end);
    m_busy_ns.set(m_busy.ns());
    delay = offset_of(end);
    if (st != TLM_OK_RESPONSE) cmd.mem_status = st;
    gp.set_response_status(ok ? TLM_OK_RESPONSE : TLM_GENERIC_ERROR_RESPONSE);
}

// ---- memory requests ---------------------------------------------------------------------------

void Fetcher::trace_in_flight(int change, const sc_time& at) {
    m_in_flight = uint32_t(int(m_in_flight) + change);
    m_max_in_flight.record_max(m_in_flight);
    m_tracer.write(outstanding, m_in_flight, offset_of(at));
    if (m_in_flight == 0)
        m_tracer.write(busy, false, offset_of(at));
    else if (change > 0 && m_in_flight == 1)
        m_tracer.write(busy, true, offset_of(at));
}

tlm_response_status Fetcher::run(std::vector<MemReq>& reqs, const sc_time& start,
                                 const std::function<bool(MemReq&)>& done_fn, sc_time& end) {
    end = start;
    tlm_response_status first_error = TLM_OK_RESPONSE;
    if (!m_at) {
        // LT: sequential calls with annotated issue times through the window. The requests in
        // flight at once are traced from the issue and completion times.
        Window w(*this, start);
        // Its own list: with the 4-phase protocol on mem an LT run waits inside mem_access, and
        // another command's run may start meanwhile.
        std::vector<std::pair<sc_time, int>> events;
        events.reserve(2 * reqs.size());
        for (MemReq& r : reqs) {
            r.issue = w.next_issue();
            const tlm_response_status st = r.status = mem_access(r);
            w.completed(r.issue, r.done);
            events.emplace_back(r.issue, +1);
            events.emplace_back(r.done, -1);
            end = std::max(end, r.done);
            if (st != TLM_OK_RESPONSE) {
                first_error = st;
                break;
            }
            if (done_fn && !done_fn(r)) break;
        }
        std::stable_sort(events.begin(), events.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (const auto& e : events) trace_in_flight(e.second, e.first);
        return first_error;
    }
    // AT: the request threads run the transactions; completions come back in time order.
    if (start > sc_time_stamp()) wait(start - sc_time_stamp());
    Batch b;
    for (MemReq& r : reqs) m_queue.emplace_back(&r, &b);
    m_queue_ev.notify();
    bool stop = false;
    for (std::size_t handled = 0; handled < reqs.size();) {
        while (b.finished.empty()) wait(b.ev);
        MemReq& r = *b.finished.front();
        b.finished.pop_front();
        ++handled;
        end = std::max(end, r.done);
        if (stop) continue;
        if (r.status != TLM_OK_RESPONSE) {
            first_error = r.status;
            stop = true;
            // Requests not yet started are dropped; started ones still complete.
            auto before = m_queue.size();
            m_queue.erase(std::remove_if(m_queue.begin(), m_queue.end(),
                                         [&](const auto& q) { return q.second == &b; }),
                          m_queue.end());
            handled += before - m_queue.size();
            continue;
        }
        if (done_fn && !done_fn(r)) stop = true;
    }
    end = std::max(end, sc_time_stamp());
    return first_error;
}

void Fetcher::request_thread() {
    for (;;) {
        while (m_queue.empty()) wait(m_queue_ev);
        auto [r, batch] = m_queue.front();
        m_queue.pop_front();
        r->issue = sc_time_stamp();
        trace_in_flight(+1, r->issue);
        r->status = mem_access(*r);
        trace_in_flight(-1, r->done);
        batch->finished.push_back(r);
        batch->ev.notify();
        // Space issues: the next request of this thread starts no earlier than issue_cycles later.
        if (m_cfg.fetcher.issue_cycles) wait(m_clock * double(m_cfg.fetcher.issue_cycles));
    }
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
                                   return d.get_start_address() <= end &&
                                          d.get_end_address() >= start;
                               }),
                m_dmi.end());
}

tlm_response_status Fetcher::mem_access(MemReq& r) {
    const bool write = r.cmd == TLM_WRITE_COMMAND;
    tlm_dmi* dmi = nullptr;
    if (m_cfg.fetcher.use_dmi && dmi_lookup(r.addr, r.len, write, dmi)) {
        uint8_t* p = dmi->get_dmi_ptr() + (r.addr - dmi->get_start_address());
        if (write)
            std::memcpy(p, r.data, r.len);
        else
            std::memcpy(r.data, p, r.len);
        r.done = r.issue + (write ? dmi->get_write_latency() : dmi->get_read_latency());
        if (m_at) wait(r.done - sc_time_stamp());
        ++m_dmi_accesses;
    } else {
        proto::PooledPayload gp(m_pool);
        proto::prepare(*gp, r.cmd, r.addr, r.data, r.len);
        sc_time delay = offset_of(r.issue);
        mem.transport(*gp, delay);
        r.done = abs_time(delay);
        if (!gp->is_response_ok()) {
            ++m_mem_errors;
            return gp->get_response_status();
        }
        if (m_cfg.fetcher.use_dmi && gp->is_dmi_allowed()) {
            tlm_dmi d;
            if (mem.socket->get_direct_mem_ptr(*gp, d)) m_dmi.push_back(d);
        }
    }
    if (write) {
        m_mem_write_bytes.add(r.head, r.query, r.len);
        m_mem_writes.add(r.head, r.query, 1);
    } else {
        m_mem_read_bytes.add(r.head, r.query, r.len);
        m_mem_reads.add(r.head, r.query, 1);
    }
    return TLM_OK_RESPONSE;
}

}  // namespace sprint
