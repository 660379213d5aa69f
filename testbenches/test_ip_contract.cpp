// The IP's socket contract as docs/registers.md states it, checked with foreign models bound
// straight to the IP (no project platform code): bad csr accesses over the 4-phase protocol get
// their error status, debug reads never wrap around the 4 KiB window, and the mem port takes a
// memory that withholds END_REQ, completes some requests early (TLM_COMPLETED / TLM_UPDATED) and
// answers the others out of order.
#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "embed_fixtures.h"

using namespace sprint;
using namespace sprint::embedtest;
using namespace sc_core;
using namespace tlm;

namespace {

// A memory that plays every legal card of the base protocol, chosen by a seeded generator per
// request: END_REQ withheld for a while (back-pressure), or TLM_UPDATED with END_REQ, or
// TLM_UPDATED with BEGIN_RESP, or TLM_COMPLETED at once; accepted requests are answered after a
// random delay, so responses come back in another order than the requests went out.
struct ReorderingMemory : sc_module {
    tlm_utils::multi_passthrough_target_socket<ReorderingMemory> socket{"socket"};
    std::vector<uint8_t> bytes;
    tlm_utils::peq_with_cb_and_phase<ReorderingMemory> peq{this, &ReorderingMemory::cb};
    std::mt19937 rng{12345};
    uint64_t requests = 0, early = 0, out_of_order = 0;
    uint64_t m_accepted_seq = 0, m_last_answered = 0;
    std::map<tlm_generic_payload*, uint64_t> m_seq;
    bool m_resp_open = false;
    std::vector<tlm_generic_payload*> m_resp_wait;

    ReorderingMemory(const sc_module_name& n, std::size_t size) : sc_module(n), bytes(size, 0) {
        socket.register_nb_transport_fw(this, &ReorderingMemory::fw);
    }
    void execute(tlm_generic_payload& gp) {
        ++requests;
        const uint64_t a = gp.get_address();
        const unsigned n = gp.get_data_length();
        if (a > bytes.size() || n > bytes.size() - a) {
            gp.set_response_status(TLM_ADDRESS_ERROR_RESPONSE);
            return;
        }
        if (gp.is_read())
            std::memcpy(gp.get_data_ptr(), &bytes[a], n);
        else
            std::memcpy(&bytes[a], gp.get_data_ptr(), n);
        gp.set_response_status(TLM_OK_RESPONSE);
    }
    tlm_sync_enum fw(int, tlm_generic_payload& gp, tlm_phase& ph, sc_time& t) {
        if (ph == END_RESP) {
            m_resp_open = false;
            send_next_response();
            return TLM_COMPLETED;
        }
        REQUIRE(ph == BEGIN_REQ);
        switch (rng() % 4) {
            case 0:  // finished on the spot
                execute(gp);
                ++early;
                t += sc_time(3, SC_NS);
                return TLM_COMPLETED;
            case 1:  // END_REQ now, the response later
                ph = END_REQ;
                t += sc_time(1, SC_NS);
                later(gp, sc_time(double(10 + rng() % 200), SC_NS));
                return TLM_UPDATED;
            case 2:                      // straight to the response: BEGIN_RESP implies END_REQ
                if (m_resp_open) break;  // one response open at a time
                execute(gp);
                ++early;
                ph = BEGIN_RESP;
                t += sc_time(5, SC_NS);
                m_resp_open = true;
                return TLM_UPDATED;
            default:
                break;
        }
        // Back-pressure: END_REQ withheld for a while.
        peq.notify(gp, END_REQ, sc_time(double(5 + rng() % 50), SC_NS));
        return TLM_ACCEPTED;
    }
    void later(tlm_generic_payload& gp, const sc_time& d) {
        m_seq[&gp] = ++m_accepted_seq;
        peq.notify(gp, BEGIN_RESP, d);
    }
    void cb(tlm_generic_payload& gp, const tlm_phase& ph) {
        if (ph == END_REQ) {
            tlm_phase p = END_REQ;
            sc_time t = SC_ZERO_TIME;
            socket->nb_transport_bw(gp, p, t);
            later(gp, sc_time(double(10 + rng() % 200), SC_NS));
            return;
        }
        const uint64_t seq = m_seq[&gp];
        m_seq.erase(&gp);
        if (seq < m_last_answered) ++out_of_order;
        m_last_answered = std::max(m_last_answered, seq);
        execute(gp);
        m_resp_wait.push_back(&gp);
        send_next_response();
    }
    void send_next_response() {
        while (!m_resp_open && !m_resp_wait.empty()) {
            tlm_generic_payload* gp = m_resp_wait.front();
            m_resp_wait.erase(m_resp_wait.begin());
            tlm_phase p = BEGIN_RESP;
            sc_time t = SC_ZERO_TIME;
            m_resp_open = true;
            const tlm_sync_enum s = socket->nb_transport_bw(*gp, p, t);
            if (s == TLM_COMPLETED) m_resp_open = false;
        }
    }
};

void run_reordering(TimingMode mode) {
    const FlatJob job;
    IpConfig cfg;
    cfg.timing = mode;
    cfg.fetcher.mem_protocol = MemProtocol::Nb;  // the memory has no b_transport
    cfg.check_protocol = true;                   // a checker on mem and on every internal link
    EmbedBench<ReorderingMemory> b(cfg, 1 << 20);
    auto& ram = b.ram;
    job.load(ram.bytes);
    uint32_t status = 0;
    b.cpu.program = [&](Cpu& c) {
        job.start(c);
        wait(c.irq.posedge_event());
        status = c.read(regs::STATUS);
    };
    sc_start();
    CHECK(status == regs::STATUS_DONE);
    CHECK(job.output_exact(ram.bytes, cfg));
    CHECK(ram.early > 10u);
    CHECK(ram.out_of_order > 10u);
    CHECK(b.ip.protocol_violations() == std::vector<std::string>{});
}

// An initiator that speaks only the 4-phase protocol on csr.
struct NbCsrMaster : sc_module, tlm_bw_transport_if<> {
    tlm_initiator_socket<32> socket{"socket"};
    std::function<void(NbCsrMaster&)> body;
    sc_event resp;
    explicit NbCsrMaster(const sc_module_name& n) : sc_module(n) {
        socket.bind(*this);
        SC_HAS_PROCESS(NbCsrMaster);
        SC_THREAD(run);
    }
    void run() { body(*this); }
    tlm_sync_enum nb_transport_bw(tlm_generic_payload&, tlm_phase& ph, sc_time&) override {
        if (ph == BEGIN_RESP) {
            resp.notify();
            ph = END_RESP;
            return TLM_COMPLETED;
        }
        return TLM_ACCEPTED;  // END_REQ
    }
    void invalidate_direct_mem_ptr(sc_dt::uint64, sc_dt::uint64) override {}
    // One access through BEGIN_REQ ... BEGIN_RESP; returns the response status.
    tlm_response_status access(tlm_command cmd, uint64_t addr, uint8_t* data, unsigned len,
                               const uint8_t* be = nullptr, unsigned be_len = 0) {
        tlm_generic_payload gp;
        gp.set_command(cmd);
        gp.set_address(addr);
        gp.set_data_ptr(data);
        gp.set_data_length(len);
        gp.set_streaming_width(len);
        gp.set_byte_enable_ptr(const_cast<uint8_t*>(be));
        gp.set_byte_enable_length(be_len);
        gp.set_response_status(TLM_INCOMPLETE_RESPONSE);
        tlm_phase ph = BEGIN_REQ;
        sc_time t = SC_ZERO_TIME;
        const tlm_sync_enum s = socket->nb_transport_fw(gp, ph, t);
        if (s != TLM_COMPLETED && !(s == TLM_UPDATED && ph == BEGIN_RESP)) wait(resp);
        if (s == TLM_UPDATED && ph == BEGIN_RESP) {
            ph = END_RESP;
            t = SC_ZERO_TIME;
            socket->nb_transport_fw(gp, ph, t);
        }
        return gp.get_response_status();
    }
};

}  // namespace

TEST_CASE(
    "contract: the mem port takes back-pressure, early completion and out-of-order responses - "
    "at") {
    run_reordering(TimingMode::AT);
}

TEST_CASE(
    "contract: the mem port takes back-pressure, early completion and out-of-order responses - lt "
    "with nb") {
    run_reordering(TimingMode::LT);
}

TEST_CASE("contract: bad csr accesses over the 4-phase protocol get their error status") {
    IpConfig cfg;
    cfg.timing = TimingMode::AT;
    SprintIp ip("sprint", cfg);
    PlainMemory ram("ram", 1 << 16);
    NbCsrMaster cpu("cpu");
    ProtocolChecker check("check_csr");
    sc_signal<bool> irq("irq");
    cpu.socket.bind(check.target);
    check.initiator.bind(ip.csr);
    ip.mem.bind(ram.socket);
    ip.irq(irq);
    std::vector<tlm_response_status> got;
    uint32_t id = 0, heads = 0;
    cpu.body = [&](NbCsrMaster& m) {
        uint8_t b[8] = {5, 0, 0, 0, 0, 0, 0, 0};
        const uint8_t partial[4] = {0xFF, 0, 0xFF, 0xFF};
        got.push_back(m.access(TLM_READ_COMMAND, regs::HEADS + 2, b, 4));           // misaligned
        got.push_back(m.access(TLM_READ_COMMAND, 0x0F0, b, 4));                     // unmapped
        got.push_back(m.access(TLM_WRITE_COMMAND, regs::HEADS, b, 1));              // 1 byte
        got.push_back(m.access(TLM_WRITE_COMMAND, regs::HEADS, b, 8));              // 8 bytes
        got.push_back(m.access(TLM_WRITE_COMMAND, regs::HEADS, b, 4, partial, 4));  // byte enables
        got.push_back(m.access(TLM_WRITE_COMMAND, regs::ID, b, 4));                 // read-only
        got.push_back(m.access(TLM_WRITE_COMMAND, regs::HEADS, b, 4));              // good
        got.push_back(m.access(TLM_READ_COMMAND, regs::ID, reinterpret_cast<uint8_t*>(&id), 4));
        got.push_back(
            m.access(TLM_READ_COMMAND, regs::HEADS, reinterpret_cast<uint8_t*>(&heads), 4));
        sc_stop();
    };
    sc_start();
    CHECK(got == std::vector<tlm_response_status>{
                     TLM_ADDRESS_ERROR_RESPONSE, TLM_ADDRESS_ERROR_RESPONSE,
                     TLM_BURST_ERROR_RESPONSE, TLM_BURST_ERROR_RESPONSE,
                     TLM_BYTE_ENABLE_ERROR_RESPONSE, TLM_COMMAND_ERROR_RESPONSE, TLM_OK_RESPONSE,
                     TLM_OK_RESPONSE, TLM_OK_RESPONSE});
    CHECK(id == regs::kIdValue);
    CHECK(heads == 5u);
    CHECK(check.violations() == std::vector<std::string>{});
}

TEST_CASE("contract: debug reads on csr never wrap around the 4 KiB window") {
    EmbedBench<PlainMemory> b(IpConfig{}, 1 << 16);
    std::vector<unsigned> got;
    b.cpu.program = [&](Cpu& c) {
        for (uint64_t a : {uint64_t(0), uint64_t(0x1000), uint64_t(1) << 32,
                           (uint64_t(1) << 32) + 4, ~uint64_t(3)}) {
            uint32_t v[2] = {0, 0};
            tlm_generic_payload gp;
            gp.set_command(TLM_READ_COMMAND);
            gp.set_address(a);
            gp.set_data_ptr(reinterpret_cast<unsigned char*>(v));
            gp.set_data_length(8);
            gp.set_streaming_width(8);
            got.push_back(c.bus->transport_dbg(gp));
        }
    };
    sc_start();
    // Offset 0 holds ID and VERSION; everything at or past 0x1000 is outside (no aliasing of
    // 2^32 onto offset 0).
    CHECK(got == std::vector<unsigned>{8, 0, 0, 0, 0});
}
