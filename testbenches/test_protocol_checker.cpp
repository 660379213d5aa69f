// The protocol checker against purpose-built bad initiators and targets: each test breaks one
// rule of the TLM-2.0 base protocol on a link with a ProtocolChecker inserted and requires the
// checker to name it; a correct 4-phase exchange and a correct b_transport leave it silent.
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>

#include "tlm_interfaces/protocol_checker.h"

using namespace sprint;
using namespace sc_core;
using namespace tlm;

namespace {

// An initiator whose behaviour is a script; it records what comes back on the backward path.
struct ScriptInitiator : sc_module, tlm_bw_transport_if<> {
    tlm_initiator_socket<32> socket{"socket"};
    std::function<void(ScriptInitiator&)> script;
    std::function<tlm_sync_enum(tlm_generic_payload&, tlm_phase&, sc_time&)> on_bw;
    explicit ScriptInitiator(const sc_module_name& n) : sc_module(n) {
        socket.bind(*this);
        SC_HAS_PROCESS(ScriptInitiator);
        SC_THREAD(run);
    }
    void run() {
        if (script) script(*this);
    }
    tlm_sync_enum nb_transport_bw(tlm_generic_payload& gp, tlm_phase& ph, sc_time& t) override {
        return on_bw ? on_bw(gp, ph, t) : TLM_ACCEPTED;
    }
    void invalidate_direct_mem_ptr(sc_dt::uint64, sc_dt::uint64) override {}
};

// A target whose answers are scripted.
struct ScriptTarget : sc_module, tlm_fw_transport_if<> {
    tlm_target_socket<32> socket{"socket"};
    std::function<void(tlm_generic_payload&, sc_time&)> on_b;
    std::function<tlm_sync_enum(tlm_generic_payload&, tlm_phase&, sc_time&)> on_nb;
    std::function<bool(tlm_generic_payload&, tlm_dmi&)> on_dmi;
    explicit ScriptTarget(const sc_module_name& n) : sc_module(n) { socket.bind(*this); }
    void b_transport(tlm_generic_payload& gp, sc_time& d) override {
        if (on_b)
            on_b(gp, d);
        else
            gp.set_response_status(TLM_OK_RESPONSE);
    }
    tlm_sync_enum nb_transport_fw(tlm_generic_payload& gp, tlm_phase& ph, sc_time& t) override {
        return on_nb ? on_nb(gp, ph, t) : TLM_ACCEPTED;
    }
    bool get_direct_mem_ptr(tlm_generic_payload& gp, tlm_dmi& dmi) override {
        return on_dmi ? on_dmi(gp, dmi) : false;
    }
    unsigned int transport_dbg(tlm_generic_payload&) override { return 0; }
};

struct Link {
    ScriptInitiator init{"init"};
    ProtocolChecker checker{"checker"};
    ScriptTarget tgt{"tgt"};
    Link() {
        init.socket.bind(checker.target);
        checker.initiator.bind(tgt.socket);
    }
    bool found(const std::string& what) const {
        for (const auto& v : checker.violations())
            if (v.find(what) != std::string::npos) return true;
        return false;
    }
};

uint8_t g_data[64];

void setup(tlm_generic_payload& gp, tlm_command c = TLM_READ_COMMAND, unsigned len = 4) {
    gp.set_command(c);
    gp.set_address(0x40);
    gp.set_data_ptr(g_data);
    gp.set_data_length(len);
    gp.set_streaming_width(len);
    gp.set_byte_enable_ptr(nullptr);
    gp.set_byte_enable_length(0);
    gp.set_dmi_allowed(false);
    gp.set_response_status(TLM_INCOMPLETE_RESPONSE);
}

tlm_sync_enum fw(ScriptInitiator& i, tlm_generic_payload& gp, tlm_phase ph,
                 sc_time t = SC_ZERO_TIME) {
    return i.socket->nb_transport_fw(gp, ph, t);
}

void run(Link&) {
    sc_start();
}

}  // namespace

TEST_CASE("protocol checker: a correct 4-phase exchange and a correct b_transport are silent") {
    Link l;
    l.tgt.on_nb = [&](tlm_generic_payload& gp, tlm_phase& ph, sc_time&) {
        if (ph == BEGIN_REQ) {  // accept now, respond 10 ns later
            gp.set_response_status(TLM_OK_RESPONSE);
            ph = END_REQ;
            return TLM_UPDATED;
        }
        return TLM_COMPLETED;  // END_RESP
    };
    l.init.script = [&](ScriptInitiator& i) {
        tlm_generic_payload gp;
        setup(gp);
        fw(i, gp, BEGIN_REQ);
        wait(10, SC_NS);
        tlm_phase p = BEGIN_RESP;
        sc_time t = SC_ZERO_TIME;
        l.tgt.socket->nb_transport_bw(gp, p, t);  // the target's response
        fw(i, gp, END_RESP);
        tlm_generic_payload b;
        setup(b, TLM_WRITE_COMMAND);
        sc_time d(5, SC_NS);
        i.socket->b_transport(b, d);
    };
    run(l);
    CHECK(l.checker.violations().empty());
    CHECK(l.checker.transactions == 2);
}

TEST_CASE("protocol checker: a second BEGIN_REQ before END_REQ is caught") {
    Link l;  // the target accepts and never sends END_REQ
    l.init.script = [](ScriptInitiator& i) {
        tlm_generic_payload a, b;
        setup(a);
        setup(b);
        fw(i, a, BEGIN_REQ);
        fw(i, b, BEGIN_REQ);
    };
    run(l);
    CHECK(l.found("BEGIN_REQ while another BEGIN_REQ awaits END_REQ"));
}

TEST_CASE("protocol checker: a response without a response status is caught") {
    Link l;
    l.tgt.on_nb = [](tlm_generic_payload&, tlm_phase& ph, sc_time&) {
        ph = BEGIN_RESP;  // responds at once, status left INCOMPLETE
        return TLM_UPDATED;
    };
    l.init.script = [](ScriptInitiator& i) {
        tlm_generic_payload gp;
        setup(gp);
        fw(i, gp, BEGIN_REQ);
    };
    run(l);
    CHECK(l.found("BEGIN_RESP without a response status"));
}

TEST_CASE("protocol checker: b_transport returning without a response status is caught") {
    Link l;
    l.tgt.on_b = [](tlm_generic_payload&, sc_time&) {};
    l.init.script = [](ScriptInitiator& i) {
        tlm_generic_payload gp;
        setup(gp);
        sc_time d = SC_ZERO_TIME;
        i.socket->b_transport(gp, d);
    };
    run(l);
    CHECK(l.found("b_transport returned without a response status"));
}

TEST_CASE(
    "protocol checker: END_RESP before BEGIN_RESP and END_REQ on the forward path are caught") {
    Link l;
    l.init.script = [](ScriptInitiator& i) {
        tlm_generic_payload gp;
        setup(gp);
        fw(i, gp, BEGIN_REQ);
        fw(i, gp, END_RESP);
        fw(i, gp, END_REQ);
    };
    run(l);
    CHECK(l.found("END_RESP before BEGIN_RESP"));
    CHECK(l.found("END_REQ on the forward path"));
}

TEST_CASE("protocol checker: a read of length 0 and byte enables of length 0 are caught") {
    Link l;
    l.init.script = [](ScriptInitiator& i) {
        tlm_generic_payload a, b;
        setup(a, TLM_READ_COMMAND, 0);
        sc_time d = SC_ZERO_TIME;
        i.socket->b_transport(a, d);
        setup(b);
        uint8_t be[4] = {0xFF, 0xFF, 0xFF, 0xFF};
        b.set_byte_enable_ptr(be);
        b.set_byte_enable_length(0);
        i.socket->b_transport(b, d);
    };
    run(l);
    CHECK(l.found("data length 0 for a read or write"));
    CHECK(l.found("byte-enable pointer with byte-enable length 0"));
}

TEST_CASE("protocol checker: a request that starts with a response status set is caught") {
    Link l;
    l.init.script = [](ScriptInitiator& i) {
        tlm_generic_payload gp;
        setup(gp);
        gp.set_response_status(TLM_OK_RESPONSE);
        sc_time d = SC_ZERO_TIME;
        i.socket->b_transport(gp, d);
    };
    run(l);
    CHECK(l.found("response status not INCOMPLETE when the request starts"));
}

TEST_CASE("protocol checker: timing annotations that go backwards are caught") {
    Link l;
    l.tgt.on_b = [](tlm_generic_payload& gp, sc_time& d) {
        gp.set_response_status(TLM_OK_RESPONSE);
        d = SC_ZERO_TIME;  // was 20 ns: earlier than the request
    };
    l.tgt.on_nb = [](tlm_generic_payload&, tlm_phase& ph, sc_time& t) {
        ph = END_REQ;
        t = SC_ZERO_TIME;  // BEGIN_REQ was annotated at +30 ns
        return TLM_UPDATED;
    };
    l.init.script = [](ScriptInitiator& i) {
        tlm_generic_payload a, b;
        setup(a);
        sc_time d(20, SC_NS);
        i.socket->b_transport(a, d);
        setup(b);
        fw(i, b, BEGIN_REQ, sc_time(30, SC_NS));
    };
    run(l);
    CHECK(l.found("b_transport: it returned at an earlier time than it was called"));
    CHECK(l.found("END_REQ annotated earlier than the previous phase"));
}

TEST_CASE(
    "protocol checker: a target that waits inside b_transport and returns a smaller annotation is "
    "fine") {
    // TLM-2.0 lets a b_transport target call wait(): it synchronises (30 ns of annotation become
    // simulated time) and returns the rest. Only time stamp + annotation must not go back.
    Link l;
    l.tgt.on_b = [](tlm_generic_payload& gp, sc_time& d) {
        wait(d);
        d = sc_time(5, SC_NS);
        gp.set_response_status(TLM_OK_RESPONSE);
    };
    sc_time returned_at;
    l.init.script = [&](ScriptInitiator& i) {
        tlm_generic_payload gp;
        setup(gp);
        sc_time d(30, SC_NS);
        i.socket->b_transport(gp, d);
        returned_at = sc_time_stamp() + d;
    };
    run(l);
    CHECK(returned_at == sc_time(35, SC_NS));
    CHECK(l.checker.violations() == std::vector<std::string>{});
}

TEST_CASE("protocol checker: a second BEGIN_RESP before END_RESP is caught") {
    Link l;
    l.tgt.on_nb = [](tlm_generic_payload&, tlm_phase& ph, sc_time&) {
        ph = END_REQ;
        return TLM_UPDATED;
    };
    l.init.script = [&](ScriptInitiator& i) {
        tlm_generic_payload a, b;
        setup(a);
        setup(b);
        fw(i, a, BEGIN_REQ);
        fw(i, b, BEGIN_REQ);
        for (tlm_generic_payload* gp : {&a, &b}) {
            gp->set_response_status(TLM_OK_RESPONSE);
            tlm_phase p = BEGIN_RESP;
            sc_time t = SC_ZERO_TIME;
            l.tgt.socket->nb_transport_bw(*gp, p, t);  // the initiator never sends END_RESP
        }
    };
    run(l);
    CHECK(l.found("BEGIN_RESP while another BEGIN_RESP awaits END_RESP"));
}

TEST_CASE("protocol checker: a DMI grant that does not hold the address is caught") {
    Link l;
    static uint8_t mem[256];
    l.tgt.on_dmi = [](tlm_generic_payload&, tlm_dmi& dmi) {
        dmi.set_dmi_ptr(mem);
        dmi.set_start_address(0x100);  // the request was for 0x40
        dmi.set_end_address(0x1FF);
        dmi.allow_read_write();
        return true;
    };
    l.init.script = [](ScriptInitiator& i) {
        tlm_generic_payload gp;
        setup(gp);
        tlm_dmi dmi;
        i.socket->get_direct_mem_ptr(gp, dmi);
    };
    run(l);
    CHECK(l.found("DMI region granted that does not contain the requested address"));
}
