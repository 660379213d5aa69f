// Router: decoding, base subtraction, address errors, map checks, debug, DMI and invalidation in
// global addresses, and 4-phase AT routing between two initiators and two targets.
// One elaboration and sc_start per TEST_CASE.
#include <catch2/catch.hpp>

#include <array>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/peq_with_cb_and_phase.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "platforms/components/memory.h"
#include "platforms/components/router.h"

namespace {

using sc_core::SC_NS;
using sc_core::SC_PS;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;
using sprint::platform::Memory;
using sprint::platform::MemoryConfig;
using sprint::platform::Router;
using tlm::tlm_generic_payload;
using tlm::tlm_phase;
using tlm::tlm_sync_enum;

MemoryConfig mib(uint64_t n) {
    MemoryConfig c;
    c.size_mb = n;
    return c;
}

// LT host: runs a body in one thread; records DMI invalidations it receives.
struct Host : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<Host> socket{"socket"};
    std::function<void(Host&)> body;
    std::vector<std::pair<uint64_t, uint64_t>> invalidations;
    uint64_t address_after = 0;  // the payload's address when b_transport returned

    SC_HAS_PROCESS(Host);
    explicit Host(sc_core::sc_module_name name) : sc_core::sc_module(name) {
        socket.register_invalidate_direct_mem_ptr(this, &Host::invalidate);
        SC_THREAD(run);
    }
    void run() {
        if (body) body(*this);
    }
    void invalidate(sc_dt::uint64 start, sc_dt::uint64 end) {
        invalidations.emplace_back(start, end);
    }

    tlm::tlm_response_status transport(tlm::tlm_command cmd, uint64_t addr, void* data,
                                       unsigned len, sc_time& delay) {
        tlm_generic_payload p;
        p.set_command(cmd);
        p.set_address(addr);
        p.set_data_ptr(static_cast<unsigned char*>(data));
        p.set_data_length(len);
        p.set_streaming_width(len);
        p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        socket->b_transport(p, delay);
        address_after = p.get_address();
        return p.get_response_status();
    }
    unsigned debug(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len) {
        tlm_generic_payload p;
        p.set_command(cmd);
        p.set_address(addr);
        p.set_data_ptr(static_cast<unsigned char*>(data));
        p.set_data_length(len);
        const unsigned n = socket->transport_dbg(p);
        address_after = p.get_address();
        return n;
    }
    bool dmi(uint64_t addr, tlm::tlm_dmi& out) {
        tlm_generic_payload p;
        p.set_command(tlm::TLM_READ_COMMAND);
        p.set_address(addr);
        return socket->get_direct_mem_ptr(p, out);
    }
};

// LT target that records what it sees and answers OK.
struct Probe : sc_core::sc_module {
    tlm_utils::simple_target_socket<Probe> socket{"socket"};
    std::vector<uint64_t> addresses;
    std::vector<sc_time> delays;

    explicit Probe(sc_core::sc_module_name name) : sc_core::sc_module(name) {
        socket.register_b_transport(this, &Probe::b_transport);
    }
    void b_transport(tlm_generic_payload& p, sc_time& delay) {
        addresses.push_back(p.get_address());
        delays.push_back(delay);
        p.set_response_status(tlm::TLM_OK_RESPONSE);
    }
};

// ---- approximately timed pair -------------------------------------------------------------------

class Pool : public tlm::tlm_mm_interface {
  public:
    tlm_generic_payload* allocate() {
        ++allocated;
        if (m_free.empty()) {
            m_all.push_back(std::make_unique<tlm_generic_payload>(this));
            return m_all.back().get();
        }
        tlm_generic_payload* p = m_free.back();
        m_free.pop_back();
        return p;
    }
    void free(tlm_generic_payload* p) override {
        ++freed;
        p->reset();
        m_free.push_back(p);
    }
    int allocated = 0, freed = 0;

  private:
    std::vector<std::unique_ptr<tlm_generic_payload>> m_all;
    std::vector<tlm_generic_payload*> m_free;
};

// 4-phase initiator: one BEGIN_REQ at a time (waits for END_REQ), several transactions
// outstanding, END_RESP 3 ns after BEGIN_RESP (or completes BEGIN_RESP at once). Counts protocol
// violations it sees.
struct AtInitiator : sc_core::sc_module {
    struct Request {
        tlm::tlm_command cmd;
        uint64_t address;
        uint32_t value;  // written, or expected on read
        tlm::tlm_response_status expect;
    };
    struct Result {
        tlm::tlm_response_status status = tlm::TLM_INCOMPLETE_RESPONSE;
        uint32_t data = 0;
        bool done = false;
    };

    tlm_utils::simple_initiator_socket<AtInitiator> socket{"socket"};
    std::vector<Request> requests;
    std::vector<Result> results;
    bool complete_on_resp = false;  // answer BEGIN_RESP with TLM_COMPLETED (no END_RESP)
    int violations = 0, foreign = 0;
    Pool pool;

    SC_HAS_PROCESS(AtInitiator);
    explicit AtInitiator(sc_core::sc_module_name name)
        : sc_core::sc_module(name),
          m_peq(this, &AtInitiator::on_phase),
          m_end_resp(this, &AtInitiator::on_end_resp) {
        socket.register_nb_transport_bw(this, &AtInitiator::nb_transport_bw);
        SC_THREAD(run);
    }

    void run() {
        results.assign(requests.size(), Result{});
        m_data.assign(requests.size(), 0);
        for (size_t i = 0; i < requests.size(); ++i) {
            const Request& r = requests[i];
            tlm_generic_payload* p = pool.allocate();
            p->acquire();
            m_index[p] = i;
            m_data[i] = r.cmd == tlm::TLM_WRITE_COMMAND ? r.value : 0;
            p->set_command(r.cmd);
            p->set_address(r.address);
            p->set_data_ptr(reinterpret_cast<unsigned char*>(&m_data[i]));
            p->set_data_length(4);
            p->set_streaming_width(4);
            p->set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
            tlm_phase phase = tlm::BEGIN_REQ;
            sc_time delay = SC_ZERO_TIME;
            m_req = p;
            const tlm_sync_enum s = socket->nb_transport_fw(*p, phase, delay);
            if (s == tlm::TLM_COMPLETED) {
                m_req = nullptr;
                finish(*p);
            } else if (s == tlm::TLM_UPDATED) {
                m_peq.notify(*p, phase, delay);
            }
            while (m_req) sc_core::wait(m_req_done);
        }
    }

    tlm_sync_enum nb_transport_bw(tlm_generic_payload& p, tlm_phase& phase, sc_time& delay) {
        if (!m_index.count(&p)) {
            ++foreign;
            return tlm::TLM_COMPLETED;
        }
        if (complete_on_resp && phase == tlm::BEGIN_RESP) {
            if (m_resp) ++violations;
            if (m_req == &p) {
                m_req = nullptr;
                m_req_done.notify();
            }
            finish(p);
            return tlm::TLM_COMPLETED;
        }
        m_peq.notify(p, phase, delay);
        return tlm::TLM_ACCEPTED;
    }

    void on_phase(tlm_generic_payload& p, const tlm_phase& phase) {
        if (phase == tlm::END_REQ || phase == tlm::BEGIN_RESP) {
            if (m_req == &p) {
                m_req = nullptr;
                m_req_done.notify();
            } else if (phase == tlm::END_REQ) {
                ++violations;  // END_REQ for a request not in the request phase
            }
        }
        if (phase != tlm::BEGIN_RESP) return;
        if (m_resp) ++violations;  // BEGIN_RESP before the previous END_RESP
        m_resp = &p;
        m_end_resp.notify(p, tlm::END_RESP, sc_time(3, SC_NS));
    }

    void on_end_resp(tlm_generic_payload& p, const tlm_phase&) {
        tlm_phase phase = tlm::END_RESP;
        sc_time delay = SC_ZERO_TIME;
        m_resp = nullptr;
        const tlm_sync_enum s = socket->nb_transport_fw(p, phase, delay);
        if (s != tlm::TLM_COMPLETED) ++violations;
        finish(p);
    }

    void finish(tlm_generic_payload& p) {
        const size_t i = m_index.at(&p);
        results[i].status = p.get_response_status();
        results[i].data = m_data[i];
        results[i].done = true;
        if (p.get_address() != requests[i].address) ++violations;  // address not restored
        m_index.erase(&p);
        p.release();
    }

  private:
    tlm_utils::peq_with_cb_and_phase<AtInitiator> m_peq, m_end_resp;
    std::map<tlm_generic_payload*, size_t> m_index;
    std::vector<uint32_t> m_data;
    tlm_generic_payload* m_req = nullptr;
    tlm_generic_payload* m_resp = nullptr;
    sc_core::sc_event m_req_done;
};

// 4-phase target with 256 bytes of storage. Data is accessed when BEGIN_REQ arrives.
// accept_now: END_REQ on the return path (TLM_UPDATED, annotated accept_delay), else END_REQ
// after accept_delay. complete_writes: writes return TLM_COMPLETED at once. respond_reads_now:
// reads return BEGIN_RESP on the return path when no response is open. One response at a time.
struct AtTarget : sc_core::sc_module {
    tlm_utils::simple_target_socket<AtTarget> socket{"socket"};
    bool accept_now = false, complete_writes = false, respond_reads_now = false;
    sc_time accept_delay{2, SC_NS}, response_delay{10, SC_NS};
    std::vector<uint64_t> addresses;
    int violations = 0;
    std::array<uint8_t, 256> mem{};

    explicit AtTarget(sc_core::sc_module_name name)
        : sc_core::sc_module(name), m_peq(this, &AtTarget::on_phase) {
        socket.register_nb_transport_fw(this, &AtTarget::nb_transport_fw);
    }

    tlm_sync_enum nb_transport_fw(tlm_generic_payload& p, tlm_phase& phase, sc_time& delay) {
        if (phase == tlm::END_RESP) {
            if (m_resp != &p) ++violations;
            m_peq.notify(p, phase, delay);
            return tlm::TLM_COMPLETED;
        }
        if (phase != tlm::BEGIN_REQ) {
            ++violations;
            return tlm::TLM_COMPLETED;
        }
        if (m_req) ++violations;  // BEGIN_REQ before END_REQ of the previous one
        addresses.push_back(p.get_address());
        access(p);
        if (complete_writes && p.get_command() == tlm::TLM_WRITE_COMMAND) {
            delay += sc_time(5, SC_NS);
            return tlm::TLM_COMPLETED;
        }
        if (respond_reads_now && p.get_command() == tlm::TLM_READ_COMMAND && !m_resp &&
            m_ready.empty()) {
            m_resp = &p;
            phase = tlm::BEGIN_RESP;
            return tlm::TLM_UPDATED;
        }
        if (accept_now) {
            delay += accept_delay;
            m_peq.notify(p, tlm::BEGIN_RESP, delay + response_delay);
            phase = tlm::END_REQ;
            return tlm::TLM_UPDATED;
        }
        m_req = &p;
        m_peq.notify(p, tlm::END_REQ, delay + accept_delay);
        return tlm::TLM_ACCEPTED;
    }

    void access(tlm_generic_payload& p) {
        const uint64_t a = p.get_address();
        if (a + p.get_data_length() > mem.size()) {
            p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return;
        }
        if (p.get_command() == tlm::TLM_WRITE_COMMAND)
            std::memcpy(&mem[a], p.get_data_ptr(), p.get_data_length());
        else
            std::memcpy(p.get_data_ptr(), &mem[a], p.get_data_length());
        p.set_response_status(tlm::TLM_OK_RESPONSE);
    }

    void on_phase(tlm_generic_payload& p, const tlm_phase& phase) {
        if (phase == tlm::END_REQ) {
            m_req = nullptr;
            tlm_phase ph = tlm::END_REQ;
            sc_time d = SC_ZERO_TIME;
            socket->nb_transport_bw(p, ph, d);
            m_peq.notify(p, tlm::BEGIN_RESP, response_delay);
        } else if (phase == tlm::BEGIN_RESP) {
            m_ready.push_back(&p);
            respond();
        } else if (phase == tlm::END_RESP) {
            m_resp = nullptr;
            respond();
        }
    }

    void respond() {
        while (!m_resp && !m_ready.empty()) {
            tlm_generic_payload* p = m_ready.front();
            m_ready.pop_front();
            m_resp = p;
            tlm_phase ph = tlm::BEGIN_RESP;
            sc_time d = SC_ZERO_TIME;
            const tlm_sync_enum s = socket->nb_transport_bw(*p, ph, d);
            if (s == tlm::TLM_COMPLETED || (s == tlm::TLM_UPDATED && ph == tlm::END_RESP))
                m_resp = nullptr;
        }
    }

  private:
    tlm_utils::peq_with_cb_and_phase<AtTarget> m_peq;
    tlm_generic_payload* m_req = nullptr;
    tlm_generic_payload* m_resp = nullptr;
    std::deque<tlm_generic_payload*> m_ready;
};

}  // namespace

TEST_CASE("router: decode and base subtraction and routing latency", "[router]") {
    Router router("router");
    Memory ram0("ram0", mib(1)), ram1("ram1", mib(2));
    Probe probe("probe");
    Host host("host");
    host.socket.bind(router.targets);
    router.initiators.bind(ram0.target);
    router.initiators.bind(probe.socket);
    router.initiators.bind(ram1.target);
    router.map(0, 0x8000'0000, 1 << 20, "ram0");
    router.map(1, 0x1000'0000, 0x1000, "probe");
    router.map(2, 0x9000'0000, 2 << 20, "ram1");

    std::vector<tlm::tlm_response_status> st;
    std::vector<sc_time> d;
    std::vector<uint64_t> after;
    uint32_t back = 0;
    host.body = [&](Host& h) {
        uint32_t a = 0x11223344, b = 0x55667788, c = 0;
        auto go = [&](tlm::tlm_command cmd, uint64_t addr, uint32_t* v) {
            sc_time delay = SC_ZERO_TIME;
            st.push_back(h.transport(cmd, addr, v, 4, delay));
            d.push_back(delay);
            after.push_back(h.address_after);
        };
        go(tlm::TLM_WRITE_COMMAND, 0x8000'0010, &a);
        go(tlm::TLM_WRITE_COMMAND, 0x9010'0000, &b);
        go(tlm::TLM_READ_COMMAND, 0x1000'0040, &c);
        sc_core::wait(1, sc_core::SC_US);
        go(tlm::TLM_READ_COMMAND, 0x8000'0010, &back);
    };
    sc_core::sc_start();

    REQUIRE(st == std::vector<tlm::tlm_response_status>(4, tlm::TLM_OK_RESPONSE));
    CHECK(after == std::vector<uint64_t>{0x8000'0010, 0x9010'0000, 0x1000'0040, 0x8000'0010});
    uint32_t m0 = 0, m1 = 0;
    ram0.dump(0x10, &m0, 4);
    ram1.dump(0x10'0000, &m1, 4);
    CHECK(m0 == 0x11223344);
    CHECK(m1 == 0x55667788);
    CHECK(back == 0x11223344);
    REQUIRE(probe.addresses == std::vector<uint64_t>{0x40});
    CHECK(probe.delays == std::vector<sc_time>{sc_time(1, SC_NS)});
    CHECK(d[2] == sc_time(1, SC_NS));
    // 1 ns routing + 80 ns lpddr4 read latency + one 64 B burst at 19.2 GB/s
    CHECK(d[3] == sc_time(84333, SC_PS));
    CHECK(router.stats().value("ram0.transactions") == 2);
    CHECK(router.stats().value("ram0.bytes") == 8);
    CHECK(router.stats().value("ram1.transactions") == 1);
    CHECK(router.stats().value("probe.transactions") == 1);
    CHECK(router.stats().value("unmapped_errors") == 0);
}

TEST_CASE("router: unmapped and region-crossing accesses get address errors", "[router]") {
    Router router("router");
    Probe probe("probe");
    Memory ram("ram", mib(1));
    Host host("host");
    host.socket.bind(router.targets);
    router.initiators.bind(probe.socket);
    router.initiators.bind(ram.target);
    router.map(0, 0x1000, 0x1000, "probe");
    router.map(1, 0x2000, 0x1000, "ram");  // adjacent; only 4 KiB of the memory is mapped

    std::vector<tlm::tlm_response_status> st;
    std::vector<sc_time> d;
    host.body = [&](Host& h) {
        uint8_t buf[8] = {};
        auto go = [&](uint64_t addr) {
            sc_time delay = SC_ZERO_TIME;
            st.push_back(h.transport(tlm::TLM_READ_COMMAND, addr, buf, 8, delay));
            d.push_back(delay);
        };
        go(0x0);     // below every region
        go(0x3000);  // just past the end
        go(0x1FFC);  // probe region into the ram region
        go(0x2FFC);  // ram region past its end (the memory itself is larger)
        go(0x1FF8);  // the last 8 bytes of the probe region are fine
    };
    sc_core::sc_start();

    REQUIRE(st.size() == 5);
    for (int i = 0; i < 4; ++i) CHECK(st[i] == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    CHECK(st[4] == tlm::TLM_OK_RESPONSE);
    for (int i = 0; i < 4; ++i) CHECK(d[i] == sc_time(1, SC_NS));
    CHECK(probe.addresses == std::vector<uint64_t>{0xFF8});
    CHECK(ram.counters().read_transactions == 0);
    CHECK(router.stats().value("unmapped_errors") == 2);
    CHECK(router.stats().value("probe.address_errors") == 1);
    CHECK(router.stats().value("ram.address_errors") == 1);
    CHECK(router.stats().value("probe.transactions") == 1);
}

TEST_CASE("router: overlapping and malformed regions are rejected", "[router]") {
    Router router("router");
    router.map(0, 0x1000, 0x1000, "a");
    CHECK_THAT(router.check_map(0x1800, 0x1000, "b"),
               Catch::Matchers::Contains("overlaps region 'a'"));
    CHECK_THAT(router.check_map(0x0, 0x1001, "b"), Catch::Matchers::Contains("overlaps"));
    CHECK_THAT(router.check_map(0x0, 0x10000, "b"), Catch::Matchers::Contains("overlaps"));
    CHECK(router.check_map(0x2000, 0x1000, "b") == "");
    CHECK(router.check_map(0x0, 0x1000, "b") == "");
    CHECK_THAT(router.check_map(0x2000, 0, "b"), Catch::Matchers::Contains("zero size"));
    CHECK_THAT(router.check_map(~0ull - 0xF, 0x20, "b"), Catch::Matchers::Contains("wraps"));
    CHECK_THAT(router.check_map(0x4000, 0x10, "a"), Catch::Matchers::Contains("already"));
    CHECK_THROWS_AS(router.map(1, 0x1800, 0x1000, "b"), sc_core::sc_report);
    CHECK_THROWS_WITH(router.map(1, 0x1FFF, 1, "c"), Catch::Matchers::Contains("sprint/router"));
    router.map(1, 0x2000, 0x1000, "b");
    CHECK(router.stats().to_json().contains("b"));
    CHECK(router.describe_map() ==
          "a [0x1000, 0x1fff] -> initiators[0]\nb [0x2000, 0x2fff] -> initiators[1]\n");
}

TEST_CASE("router: routing latency parameter and an unbound target index", "[router]") {
    sprint::platform::RouterConfig cfg;
    sprint::core::ParamRegistry reg;
    cfg.register_params(reg, "bus");
    REQUIRE(reg.find("bus.latency_ns") != nullptr);
    CHECK(reg.find("bus.latency_ns")->unit == "ns");
    CHECK(reg.set("bus.latency_ns", "2.5") == "");
    CHECK(cfg.latency_ns == 2.5);
    CHECK(reg.set("bus.latency_ns", "-1") != "");

    Router router("router", cfg);
    Probe probe("probe");
    Host host("host");
    host.socket.bind(router.targets);
    router.initiators.bind(probe.socket);
    router.map(0, 0x0, 0x100, "probe");
    router.map(1, 0x100, 0x100, "missing");  // initiators[1] is never bound
    CHECK_THROWS_WITH(sc_core::sc_start(), Catch::Matchers::Contains("initiators[1]"));
}

TEST_CASE("router: debug transport is translated and truncated at the region end", "[router]") {
    Router router("router");
    Memory ram("ram", mib(1));
    Host host("host");
    host.socket.bind(router.targets);
    router.initiators.bind(ram.target);
    router.map(0, 0x4000'0000, 0x1000, "ram");

    unsigned n_w = 0, n_edge = 0, n_unmapped = 9;
    uint64_t after = 0;
    uint8_t edge[8] = {};
    host.body = [&](Host& h) {
        uint32_t v = 0xDEADBEEF;
        n_w = h.debug(tlm::TLM_WRITE_COMMAND, 0x4000'0FFC, &v, 4);
        n_edge = h.debug(tlm::TLM_READ_COMMAND, 0x4000'0FFC, edge, 8);
        after = h.address_after;
        uint8_t b[4];
        n_unmapped = h.debug(tlm::TLM_READ_COMMAND, 0x4000'1000, b, 4);
    };
    sc_core::sc_start();

    CHECK(n_w == 4);
    CHECK(n_edge == 4);
    CHECK(after == 0x4000'0FFC);
    CHECK(n_unmapped == 0);
    uint32_t m = 0;
    ram.dump(0xFFC, &m, 4);
    CHECK(m == 0xDEADBEEF);
    uint32_t e = 0;
    std::memcpy(&e, edge, 4);
    CHECK(e == 0xDEADBEEF);
    CHECK(ram.counters().debug_bytes == 8);
}

TEST_CASE("router: DMI in global addresses clamped to the region and invalidation", "[router]") {
    Router router("router");
    Memory ram0("ram0", mib(1)), ram1("ram1", mib(2));
    Host host("host"), other("other");
    host.socket.bind(router.targets);
    other.socket.bind(router.targets);
    router.initiators.bind(ram0.target);
    router.initiators.bind(ram1.target);
    router.map(0, 0x8000'0000, 0x10000, "ram0");  // 64 KiB window on a 1 MiB memory
    router.map(1, 0x9000'0000, 2 << 20, "ram1");

    tlm::tlm_dmi d0, d1, hole;
    bool g0 = false, g1 = false, gh = true;
    uint32_t seen = 0;
    size_t inv_before = 99;
    host.body = [&](Host& h) {
        g0 = h.dmi(0x8000'0100, d0);
        g1 = h.dmi(0x9010'0000, d1);
        gh = h.dmi(0x8800'0000, hole);
        if (g0) {
            const uint32_t v = 0xA5A5F00D;
            std::memcpy(d0.get_dmi_ptr() + (0x8000'0100 - d0.get_start_address()), &v, 4);
            sc_time delay;
            h.transport(tlm::TLM_READ_COMMAND, 0x8000'0100, &seen, 4, delay);
        }
        inv_before = h.invalidations.size();
        ram1.invalidate_all_dmi();
        ram0.invalidate_all_dmi();
    };
    sc_core::sc_start();

    REQUIRE(g0);
    CHECK(d0.get_start_address() == 0x8000'0000);
    CHECK(d0.get_end_address() == 0x8000'FFFF);
    CHECK(d0.get_read_latency() == sc_time(83333, SC_PS));
    CHECK(seen == 0xA5A5F00D);
    REQUIRE(g1);
    CHECK(d1.get_start_address() == 0x9010'0000);
    CHECK(d1.get_end_address() == 0x901F'FFFF);
    CHECK_FALSE(gh);
    CHECK(hole.is_none_allowed());
    CHECK(hole.get_start_address() == 0x8001'0000);
    CHECK(hole.get_end_address() == 0x8FFF'FFFF);

    CHECK(inv_before == 0);
    const std::vector<std::pair<uint64_t, uint64_t>> expect{{0x9000'0000, 0x901F'FFFF},
                                                            {0x8000'0000, 0x8000'FFFF}};
    CHECK(host.invalidations == expect);
    CHECK(other.invalidations == expect);
}

TEST_CASE("router: AT 4-phase routing between two initiators and two targets", "[router]") {
    Router router("router");
    AtInitiator i0("i0"), i1("i1");
    AtTarget ta("ta"), tb("tb");
    ta.complete_writes = true;    // early completion, also for requests the router had to queue
    ta.respond_reads_now = true;  // BEGIN_RESP on the return path of BEGIN_REQ
    tb.accept_now = true;         // END_REQ on the return path
    tb.response_delay = sc_time(5, SC_NS);
    i1.complete_on_resp = true;
    i0.socket.bind(router.targets);
    i1.socket.bind(router.targets);
    router.initiators.bind(ta.socket);
    router.initiators.bind(tb.socket);
    router.map(0, 0x1000, 0x100, "ta");
    router.map(1, 0x2000, 0x100, "tb");

    auto program = [](AtInitiator& in, uint64_t off, uint32_t tag) {
        using R = AtInitiator::Request;
        for (uint32_t k = 0; k < 4; ++k) {
            in.requests.push_back(
                R{tlm::TLM_WRITE_COMMAND, 0x1000 + off + 4 * k, tag + k, tlm::TLM_OK_RESPONSE});
            in.requests.push_back(R{tlm::TLM_WRITE_COMMAND, 0x2000 + off + 4 * k, tag + 16 + k,
                                    tlm::TLM_OK_RESPONSE});
        }
        for (uint32_t k = 0; k < 4; ++k) {
            in.requests.push_back(
                R{tlm::TLM_READ_COMMAND, 0x1000 + off + 4 * k, tag + k, tlm::TLM_OK_RESPONSE});
            in.requests.push_back(
                R{tlm::TLM_READ_COMMAND, 0x2000 + off + 4 * k, tag + 16 + k, tlm::TLM_OK_RESPONSE});
        }
        in.requests.push_back(R{tlm::TLM_READ_COMMAND, 0x5000, 0, tlm::TLM_ADDRESS_ERROR_RESPONSE});
    };
    program(i0, 0x00, 0xA000);
    program(i1, 0x40, 0xB000);
    sc_core::sc_start();

    for (AtInitiator* in : {&i0, &i1}) {
        INFO(in->name());
        REQUIRE(in->results.size() == in->requests.size());
        for (size_t k = 0; k < in->requests.size(); ++k) {
            INFO("request " << k);
            const auto& r = in->requests[k];
            const auto& res = in->results[k];
            CHECK(res.done);
            CHECK(res.status == r.expect);
            if (r.cmd == tlm::TLM_READ_COMMAND && r.expect == tlm::TLM_OK_RESPONSE)
                CHECK(res.data == r.value);
        }
        CHECK(in->violations == 0);
        CHECK(in->foreign == 0);
        CHECK(in->pool.allocated == 17);
        CHECK(in->pool.freed == 17);
    }
    CHECK(ta.violations == 0);
    CHECK(tb.violations == 0);
    REQUIRE(ta.addresses.size() == 16);
    REQUIRE(tb.addresses.size() == 16);
    for (uint64_t a : ta.addresses) CHECK(a < 0x100);
    for (uint64_t a : tb.addresses) CHECK(a < 0x100);
    CHECK(router.pending() == 0);
    CHECK(router.stats().value("ta.transactions") == 16);
    CHECK(router.stats().value("tb.bytes") == 64);
    CHECK(router.stats().value("unmapped_errors") == 2);
}
