#include "modules/controller.h"

#include <cmath>
#include <cstring>

#include "modules/common/timing.h"
#include "tlm_interfaces/job_check.h"

namespace sprint {

using namespace sc_core;
using namespace tlm;
using regs::ErrorCode;

Controller::Controller(const sc_module_name& name, const IpConfig& cfg, TraceScheduler& tracer)
    : sc_module(name),
      csr("csr"),
      to_xbar("to_xbar", cfg.timing),
      to_comparators("to_comparators", cfg.timing),
      to_fetcher("to_fetcher", cfg.timing),
      to_datapath("to_datapath", cfg.units,
                  [&cfg](const char* n, std::size_t) { return new InitiatorPort(n, cfg.timing); }),
      to_sram("to_sram", cfg.units,
              [&cfg](const char* n, std::size_t) { return new InitiatorPort(n, cfg.timing); }),
      irq("irq"),
      state("state"),
      head("head"),
      query("query"),
      busy("busy"),
      job("job"),
      mode("mode"),
      front_state("front_state"),
      stage_state("stage_state", 4 * cfg.units),
      stage_query("stage_query", 4 * cfg.units),
      stage_in_flight("stage_in_flight", 4 * cfg.units),
      m_cfg(cfg),
      m_clock(cfg.clock_ns, SC_NS),
      m_tracer(tracer),
      m_stats(basename(), "register file, job sequencing and interrupt"),
      m_jobs(m_stats, "jobs", "jobs", "jobs started"),
      m_jobs_failed(m_stats, "jobs_failed", "jobs", "jobs that ended with an error code"),
      m_job_cycles(m_stats, "job_cycles", "cycles", "cycles of all jobs, START to completion"),
      m_pipeline(cfg, tracer, {to_xbar, to_comparators, to_fetcher, to_datapath, to_sram},
                 {state, head, query, front_state, stage_state, stage_query, stage_in_flight},
                 m_stats) {
    csr.register_b_transport(this, &Controller::csr_transport);
    csr.register_transport_dbg(this, &Controller::csr_debug);
    for (const auto& [offset, value] : capability_registers(cfg)) m_regs[offset].set(value);
    // Register behaviour as callbacks: CTRL starts a job (it stores nothing: it reads as 0), and
    // a change of IRQ_STATUS (write-one-to-clear, applied by the register file) or IRQ_ENABLE
    // moves the interrupt line at the write's annotated time.
    m_regs[regs::CTRL].on_write = [this](uint32_t v, const sc_time& d) { on_ctrl_write(v, d); };
    for (uint32_t irq_reg : {regs::IRQ_STATUS, regs::IRQ_ENABLE})
        m_regs[irq_reg].on_write = [this, irq_reg](uint32_t v, const sc_time& d) {
            m_regs[irq_reg].set(v);
            update_irq(d);
        };
    m_stats.add(
        "register_reads", [this] { return nlohmann::json(m_regs.reads); }, "accesses",
        "register reads on csr");
    m_stats.add(
        "register_writes", [this] { return nlohmann::json(m_regs.writes); }, "accesses",
        "register writes on csr");
    m_stats.add(
        "register_errors", [this] { return nlohmann::json(m_regs.errors); }, "accesses",
        "csr accesses answered with an error response");

    SC_HAS_PROCESS(Controller);
    SC_THREAD(job_thread);
    m_pipeline.spawn_threads();
    SC_METHOD(drive_irq);
    sensitive << m_irq_ev;
    dont_initialize();
    irq.initialize(false);
}

// ---- register front
// ------------------------------------------------------------------------------

void Controller::csr_transport(tlm_generic_payload& gp, sc_time& delay) {
    delay += m_clock * double(m_cfg.controller.csr_cycles);
    m_regs.access(gp, delay);  // the registers' callbacks act on writes
}

unsigned Controller::csr_debug(tlm_generic_payload& gp) {
    return m_regs.debug(gp);
}

void Controller::on_ctrl_write(uint32_t v, const sc_time& delay) {
    if (!(v & regs::CTRL_START)) return;
    Register& status = m_regs[regs::STATUS];
    if (m_busy) {
        status.set(status.get() | regs::STATUS_OVERRUN);
        return;
    }
    m_pending = latch_job();
    m_busy = true;
    status.set(regs::STATUS_BUSY);
    m_start_ev.notify(delay);
}

regs::JobRegs Controller::latch_job() {
    regs::JobRegs j;
    const regs::DecodedJobCfg dc = regs::decode_job_cfg(m_regs[regs::JOB_CFG].get());
    j.opt = dc.opt;
    j.mode_ok = dc.mode_ok;
    j.heads = m_regs[regs::HEADS].get();
    j.n = m_regs[regs::SEQ_LEN].get();
    j.d = m_regs[regs::HEAD_DIM].get();
    j.q = get64(regs::Q_BASE_LO);
    j.k = get64(regs::K_BASE_LO);
    j.v = get64(regs::V_BASE_LO);
    j.out = get64(regs::OUT_BASE_LO);
    j.table = get64(regs::HEAD_TABLE_LO);
    j.k_lsb = get64(regs::K_LSB_BASE_LO);
    return j;
}

void Controller::update_irq(const sc_time& delay) {
    m_irq_level = (m_regs[regs::IRQ_STATUS].get() & m_regs[regs::IRQ_ENABLE].get()) != 0;
    m_irq_ev.notify(delay);
}

void Controller::drive_irq() {
    irq.write(m_irq_level);
}

void Controller::set64(uint32_t lo, uint64_t v) {
    m_regs[lo].set(uint32_t(v));
    m_regs[lo + 4].set(uint32_t(v >> 32));
}

uint64_t Controller::get64(uint32_t lo) {
    return uint64_t(m_regs[lo].get()) | (uint64_t(m_regs[lo + 4].get()) << 32);
}

// ---- job sequencer
// -------------------------------------------------------------------------------

void Controller::job_thread() {
    for (;;) {
        wait(m_start_ev);
        const sc_time start = sc_time_stamp();
        ++m_jobs;
        // The job marker, outside any --vcd-window or --vcd-heads bound.
        if (m_tracer.enabled()) {
            job.write(uint32_t(m_jobs.value()));
            mode.write(uint32_t(m_pending.opt.mode) + 1);
        }
        m_tracer.heads_clear();
        m_pipeline.clear();
        m_tracer.write(busy, true, SC_ZERO_TIME);
        m_pipeline.trace_state(Setup, start);
        const regs::JobRegs job = m_pending;
        ErrorCode err = check_job(m_cfg, job);
        if (err == ErrorCode::None) {
            wait(m_clock * double(m_cfg.controller.job_setup_cycles));
            err = m_pipeline.run(job);
        }
        finish_job(err, start);
    }
}

void Controller::finish_job(ErrorCode err, const sc_time& start) {
    const sc_time end = sc_time_stamp();  // every stage synchronised before it finished
    const uint64_t cyc = uint64_t(std::llround((end - start) / m_clock));
    m_job_cycles += cyc;
    const Pipeline::JobCounts& c = m_pipeline.counts();
    set64(regs::CYCLES_LO, cyc);
    set64(regs::MEM_RD_BYTES_LO, c.rd_bytes);
    set64(regs::MEM_WR_BYTES_LO, c.wr_bytes);
    set64(regs::KEPT_KEYS_LO, c.kept_keys);
    set64(regs::K_ROWS_FETCHED_LO, c.k_rows);
    set64(regs::V_ROWS_FETCHED_LO, c.v_rows);
    Register& status = m_regs[regs::STATUS];
    const bool overrun = status.get() & regs::STATUS_OVERRUN;
    if (err == ErrorCode::None) {
        status.set(regs::encode_status_done(overrun));
        m_regs[regs::IRQ_STATUS].set(m_regs[regs::IRQ_STATUS].get() | regs::IRQ_DONE);
    } else {
        ++m_jobs_failed;
        status.set(regs::encode_status_error(err, overrun));
        m_regs[regs::IRQ_STATUS].set(m_regs[regs::IRQ_STATUS].get() | regs::IRQ_ERROR);
        SC_REPORT_INFO("sprint/controller",
                       (std::string("job failed: ") + regs::to_string(err)).c_str());
    }
    m_busy = false;
    m_pipeline.trace_state(Idle, end);
    m_tracer.write(busy, false, SC_ZERO_TIME);
    update_irq(SC_ZERO_TIME);
}

}  // namespace sprint
