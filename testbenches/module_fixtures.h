// Fixtures of the module unit tests (test_module_*.cpp): each IP block is driven on its own
// through its sockets by a test initiator (an SC_THREAD running the test body) and answered by
// stub targets that record what they receive, or by the real neighbour block. Results are
// recorded inside the thread and checked after sc_start(), one elaboration per TEST_CASE.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "tlm_interfaces/timed_dmi.h"

namespace sprint::modtest {

inline sc_core::sc_time ns(double v) {
    return sc_core::sc_time(v, sc_core::SC_NS);
}

// One base-protocol request; `width` 0 means streaming width = length.
struct Request {
    tlm::tlm_command cmd = tlm::TLM_IGNORE_COMMAND;
    uint64_t addr = 0;
    void* data = nullptr;
    unsigned len = 0;
    unsigned width = 0;
    const uint8_t* be = nullptr;
    unsigned be_len = 0;
};

// Sends `r` (with `ext` attached when not null) and returns the response status. The extension
// belongs to the caller: it is detached before the payload dies (a payload without a memory
// manager would otherwise free it).
template <class Socket, class Ext = tlm::tlm_extension_base>
tlm::tlm_response_status send(Socket& s, const Request& r, sc_core::sc_time& delay,
                              Ext* ext = nullptr) {
    tlm::tlm_generic_payload gp;
    gp.set_command(r.cmd);
    gp.set_address(r.addr);
    gp.set_data_ptr(static_cast<unsigned char*>(r.data));
    gp.set_data_length(r.len);
    gp.set_streaming_width(r.width ? r.width : r.len);
    gp.set_byte_enable_ptr(const_cast<uint8_t*>(r.be));
    gp.set_byte_enable_length(r.be_len);
    gp.set_dmi_allowed(false);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    if constexpr (!std::is_same_v<Ext, tlm::tlm_extension_base>) {
        if (ext) gp.set_extension(ext);
    }
    s->b_transport(gp, delay);
    if constexpr (!std::is_same_v<Ext, tlm::tlm_extension_base>) {
        if (ext) gp.clear_extension(ext);
    }
    return gp.get_response_status();
}

// A test initiator: one socket and one SC_THREAD running `body`.
struct TestInitiator : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<TestInitiator> socket;
    std::function<void(TestInitiator&)> body;

    SC_HAS_PROCESS(TestInitiator);
    explicit TestInitiator(const sc_core::sc_module_name& n) : sc_module(n), socket("socket") {
        SC_THREAD(run);
    }
    void run() {
        if (body) body(*this);
    }

    template <class Ext = tlm::tlm_extension_base>
    tlm::tlm_response_status transport(const Request& r, sc_core::sc_time& delay,
                                       Ext* ext = nullptr) {
        return send(socket, r, delay, ext);
    }
    // Command carried by an extension only (TLM_IGNORE_COMMAND, no data).
    template <class Ext>
    tlm::tlm_response_status command(Ext& ext, sc_core::sc_time& delay) {
        return send(socket, Request{}, delay, &ext);
    }
    tlm::tlm_response_status read(uint64_t addr, void* data, unsigned len,
                                  sc_core::sc_time& delay) {
        return send(socket, Request{tlm::TLM_READ_COMMAND, addr, data, len}, delay);
    }
    tlm::tlm_response_status write(uint64_t addr, const void* data, unsigned len,
                                   sc_core::sc_time& delay) {
        return send(socket, Request{tlm::TLM_WRITE_COMMAND, addr, const_cast<void*>(data), len},
                    delay);
    }
};

// A stub target: records every transaction it receives (command, address, a copy of the data,
// the annotated arrival offset) and answers through `respond` (default: OK, no added delay).
struct StubTarget : sc_core::sc_module {
    struct Record {
        tlm::tlm_command cmd;
        uint64_t addr;
        std::vector<uint8_t> data;
        sc_core::sc_time arrive_offset;
    };
    tlm_utils::simple_target_socket<StubTarget> socket;
    std::vector<Record> log;
    std::function<void(tlm::tlm_generic_payload&, sc_core::sc_time&)> respond;

    explicit StubTarget(const sc_core::sc_module_name& n) : sc_module(n), socket("socket") {
        socket.register_b_transport(this, &StubTarget::b_transport);
    }
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
        const uint8_t* p = gp.get_data_ptr();
        log.push_back(
            {gp.get_command(), gp.get_address(),
             p ? std::vector<uint8_t>(p, p + gp.get_data_length()) : std::vector<uint8_t>{},
             delay});
        gp.set_response_status(tlm::TLM_OK_RESPONSE);
        if (respond) respond(gp, delay);
    }
};

// A passthrough between an initiator and a memory: forwards b_transport, DMI and debug
// transport (and DMI invalidation back), and logs every timed transaction.
struct Tap : sc_core::sc_module {
    struct Access {
        tlm::tlm_command cmd;
        uint64_t addr;
        unsigned len;
        sc_core::sc_time arrive, done;  // absolute
        tlm::tlm_response_status status;
    };
    tlm_utils::simple_target_socket<Tap> in;
    tlm_utils::simple_initiator_socket<Tap> out;
    std::vector<Access> log;
    // A tap logs every timed access, so it clears a timed-DMI grant (as TransactionTracer does)
    // unless `pass_timing`: then it is a hop that knows nothing of timed DMI, with `latency` of its
    // own on every b_transport.
    bool pass_timing = false;
    sc_core::sc_time latency = sc_core::SC_ZERO_TIME;

    explicit Tap(const sc_core::sc_module_name& n) : sc_module(n), in("in"), out("out") {
        in.register_b_transport(this, &Tap::b_transport);
        in.register_get_direct_mem_ptr(this, &Tap::get_direct_mem_ptr);
        in.register_transport_dbg(this, &Tap::transport_dbg);
        out.register_invalidate_direct_mem_ptr(this, &Tap::invalidate);
    }
    void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
        const sc_core::sc_time arrive = sc_core::sc_time_stamp() + delay;
        delay += latency;
        out->b_transport(gp, delay);
        log.push_back({gp.get_command(), gp.get_address(), gp.get_data_length(), arrive,
                       sc_core::sc_time_stamp() + delay, gp.get_response_status()});
    }
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& d) {
        const bool granted = out->get_direct_mem_ptr(gp, d);
        auto* grant = gp.get_extension<sprint::proto::TimingGrant>();
        if (grant && !pass_timing) grant->timing = nullptr;
        return granted;
    }
    unsigned transport_dbg(tlm::tlm_generic_payload& gp) { return out->transport_dbg(gp); }
    void invalidate(sc_dt::uint64 s, sc_dt::uint64 e) { in->invalidate_direct_mem_ptr(s, e); }
};

// Deterministic int8 rows (a small LCG, so the data does not depend on the standard library).
inline std::vector<int8_t> int8_rows(std::size_t rows, std::size_t d, uint32_t seed) {
    std::vector<int8_t> v(rows * d);
    uint32_t x = seed * 2654435761u + 12345u;
    for (auto& e : v) {
        x = x * 1664525u + 1013904223u;
        e = int8_t(uint8_t(x >> 24));
    }
    return v;
}

// Distinct byte pattern per row: byte e of row r is (r * 37 + e * 11 + salt) mod 256.
inline std::vector<uint8_t> byte_rows(std::size_t rows, std::size_t d, uint8_t salt = 0) {
    std::vector<uint8_t> v(rows * d);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t e = 0; e < d; ++e) v[r * d + e] = uint8_t(r * 37 + e * 11 + salt);
    return v;
}

}  // namespace sprint::modtest
