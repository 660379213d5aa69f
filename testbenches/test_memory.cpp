// Memory model: storage, error responses, byte enables, the LT timeline, presets, DMI, debug
// transport, host-side load/dump. One elaboration and sc_start per TEST_CASE.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include <unistd.h>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "platforms/components/memory.h"

namespace {

using sc_core::SC_NS;
using sc_core::SC_PS;
using sc_core::sc_time;
using sprint::platform::Memory;
using sprint::platform::MemoryConfig;

// Runs a test body in one SC_THREAD against `socket`.
struct Host : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<Host> socket{"socket"};
    std::function<void(Host&)> body;

    SC_HAS_PROCESS(Host);
    explicit Host(sc_core::sc_module_name name) : sc_core::sc_module(name) { SC_THREAD(run); }
    void run() { body(*this); }

    tlm::tlm_response_status transport(tlm::tlm_command cmd, uint64_t addr, void* data,
                                       unsigned len, sc_time& delay, const uint8_t* be = nullptr,
                                       unsigned be_len = 0, unsigned width = 0) {
        tlm::tlm_generic_payload p;
        p.set_command(cmd);
        p.set_address(addr);
        p.set_data_ptr(static_cast<unsigned char*>(data));
        p.set_data_length(len);
        p.set_streaming_width(width ? width : len);
        p.set_byte_enable_ptr(const_cast<uint8_t*>(be));
        p.set_byte_enable_length(be_len);
        p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        socket->b_transport(p, delay);
        last_dmi_allowed = p.is_dmi_allowed();
        return p.get_response_status();
    }
    tlm::tlm_response_status write(uint64_t addr, void* data, unsigned len) {
        sc_time d = sc_core::SC_ZERO_TIME;
        return transport(tlm::TLM_WRITE_COMMAND, addr, data, len, d);
    }
    tlm::tlm_response_status read(uint64_t addr, void* data, unsigned len) {
        sc_time d = sc_core::SC_ZERO_TIME;
        return transport(tlm::TLM_READ_COMMAND, addr, data, len, d);
    }
    unsigned debug(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len) {
        tlm::tlm_generic_payload p;
        p.set_command(cmd);
        p.set_address(addr);
        p.set_data_ptr(static_cast<unsigned char*>(data));
        p.set_data_length(len);
        return socket->transport_dbg(p);
    }
    bool dmi(uint64_t addr, tlm::tlm_dmi& out) {
        tlm::tlm_generic_payload p;
        p.set_command(tlm::TLM_READ_COMMAND);
        p.set_address(addr);
        return socket->get_direct_mem_ptr(p, out);
    }
    bool last_dmi_allowed = false;
};

// Round numbers: 64 B take 4 ns at 16 GB/s.
MemoryConfig round_config() {
    MemoryConfig c;
    c.latency_ns = 50;
    c.write_latency_ns = 70;
    c.bandwidth_gbps = 16;
    c.burst_bytes = 64;
    return c;
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = uint8_t(seed + i * 7);
    return v;
}

std::string temp_path(const std::string& tag) {
    return (std::filesystem::temp_directory_path() /
            ("sprint_test_memory_" + tag + "_" + std::to_string(::getpid()) + ".bin"))
        .string();
}

}  // namespace

TEST_CASE("memory: read after write through b_transport across a chunk boundary", "[memory]") {
    Memory mem("mem");
    Host host("host");
    host.socket.bind(mem.target);
    const uint64_t edge = Memory::kChunkBytes - 4;
    auto a = pattern(16, 1), b = pattern(8, 100);
    std::vector<uint8_t> ra(16), rb(8);
    std::vector<tlm::tlm_response_status> st;
    bool dmi_hint = false;
    host.body = [&](Host& h) {
        st.push_back(h.write(0x100, a.data(), 16));
        st.push_back(h.write(edge, b.data(), 8));
        st.push_back(h.read(0x100, ra.data(), 16));
        st.push_back(h.read(edge, rb.data(), 8));
        dmi_hint = h.last_dmi_allowed;
    };
    sc_core::sc_start();

    REQUIRE(st == std::vector<tlm::tlm_response_status>(4, tlm::TLM_OK_RESPONSE));
    CHECK(ra == a);
    CHECK(rb == b);
    CHECK(dmi_hint);
    CHECK(mem.allocated_chunks() == 2);
    const auto& c = mem.counters();
    CHECK(c.write_transactions == 2);
    CHECK(c.read_transactions == 2);
    CHECK(c.write_bytes == 24);
    CHECK(c.read_bytes == 24);
    CHECK(c.error_responses == 0);
    CHECK(mem.stats().value("read_bytes") == 24);
    CHECK(mem.stats().to_json()["busy_ps"]["unit"] == "ps");
}

TEST_CASE("memory: unwritten memory reads zero and storage is sparse", "[memory]") {
    MemoryConfig cfg;
    cfg.size_mb = 4096;
    Memory mem("mem", cfg);
    Host host("host");
    host.socket.bind(mem.target);
    const uint64_t size = uint64_t(4096) << 20;
    std::vector<uint8_t> r(64, 0xAA);
    uint64_t w = 0x0102030405060708ull, rw = 0;
    std::vector<tlm::tlm_response_status> st;
    size_t chunks_after_read = 99;
    host.body = [&](Host& h) {
        st.push_back(h.read(uint64_t(3) << 30, r.data(), 64));
        chunks_after_read = mem.allocated_chunks();
        st.push_back(h.write(size - 8, &w, 8));
        st.push_back(h.read(size - 8, &rw, 8));
    };
    sc_core::sc_start();

    REQUIRE(st == std::vector<tlm::tlm_response_status>(3, tlm::TLM_OK_RESPONSE));
    CHECK(mem.size_bytes() == size);
    CHECK(r == std::vector<uint8_t>(64, 0));
    CHECK(chunks_after_read == 0);
    CHECK(rw == w);
    CHECK(mem.allocated_chunks() == 1);
    std::vector<uint8_t> d(32, 0xAA);
    mem.dump(0x1234, d.data(), d.size());
    CHECK(d == std::vector<uint8_t>(32, 0));
    CHECK(mem.allocated_chunks() == 1);
}

TEST_CASE("memory: address and burst and byte-enable errors and the ignore command", "[memory]") {
    MemoryConfig cfg;
    cfg.size_mb = 1;
    Memory mem("mem", cfg);
    Host host("host");
    host.socket.bind(mem.target);
    const uint64_t size = Memory::kChunkBytes;
    std::vector<tlm::tlm_response_status> st;
    std::vector<sc_time> delays;
    host.body = [&](Host& h) {
        uint8_t buf[8] = {};
        const uint8_t be = 0xff;
        auto run = [&](tlm::tlm_command cmd, uint64_t addr, unsigned width, const uint8_t* bep,
                       unsigned be_len) {
            sc_time d(5, SC_NS);
            st.push_back(h.transport(cmd, addr, buf, 8, d, bep, be_len, width));
            delays.push_back(d);
        };
        run(tlm::TLM_READ_COMMAND, size, 0, nullptr, 0);       // starts past the end
        run(tlm::TLM_WRITE_COMMAND, size - 4, 0, nullptr, 0);  // runs past the end
        run(tlm::TLM_READ_COMMAND, 0, 4, nullptr, 0);          // streaming
        run(tlm::TLM_WRITE_COMMAND, 0, 0, &be, 0);             // byte enables of length 0
        run(tlm::TLM_IGNORE_COMMAND, 0, 0, nullptr, 0);
        run(tlm::TLM_READ_COMMAND, size - 8, 0, nullptr, 0);  // the last 8 bytes are fine
    };
    sc_core::sc_start();

    REQUIRE(st.size() == 6);
    CHECK(st[0] == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    CHECK(st[1] == tlm::TLM_ADDRESS_ERROR_RESPONSE);
    CHECK(st[2] == tlm::TLM_BURST_ERROR_RESPONSE);
    CHECK(st[3] == tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    CHECK(st[4] == tlm::TLM_OK_RESPONSE);
    CHECK(st[5] == tlm::TLM_OK_RESPONSE);
    for (int i = 0; i < 5; ++i) CHECK(delays[i] == sc_time(5, SC_NS));
    CHECK(mem.counters().error_responses == 4);
    CHECK(mem.counters().read_transactions == 1);
    CHECK(mem.counters().write_transactions == 0);
    CHECK(mem.allocated_chunks() == 0);
}

TEST_CASE("memory: byte enables are honoured and a short pattern repeats", "[memory]") {
    Memory mem("mem");
    Host host("host");
    host.socket.bind(mem.target);
    const std::vector<uint8_t> init(8, 0x11);
    mem.load(0x40, init.data(), init.size());
    std::vector<uint8_t> r(8, 0xEE);
    std::vector<tlm::tlm_response_status> st;
    host.body = [&](Host& h) {
        uint8_t w[8] = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7};
        const uint8_t be_w[2] = {TLM_BYTE_ENABLED, TLM_BYTE_DISABLED};
        const uint8_t be_r[4] = {TLM_BYTE_DISABLED, TLM_BYTE_ENABLED, TLM_BYTE_ENABLED,
                                 TLM_BYTE_DISABLED};
        sc_time d;
        st.push_back(h.transport(tlm::TLM_WRITE_COMMAND, 0x40, w, 8, d, be_w, 2));
        st.push_back(h.transport(tlm::TLM_READ_COMMAND, 0x40, r.data(), 8, d, be_r, 4));
    };
    sc_core::sc_start();

    REQUIRE(st == std::vector<tlm::tlm_response_status>(2, tlm::TLM_OK_RESPONSE));
    std::vector<uint8_t> m(8);
    mem.dump(0x40, m.data(), 8);
    CHECK(m == std::vector<uint8_t>{0xA0, 0x11, 0xA2, 0x11, 0xA4, 0x11, 0xA6, 0x11});
    CHECK(r == std::vector<uint8_t>{0xEE, 0x11, 0xA2, 0xEE, 0xEE, 0x11, 0xA6, 0xEE});
}

TEST_CASE("memory: LT timeline pipelines same-time requests and queues behind a busy bus",
          "[memory]") {
    Memory mem("mem", round_config());  // read 50 ns, write 70 ns, 4 ns per 64 B
    Host host("host");
    host.socket.bind(mem.target);
    std::vector<sc_time> d;
    host.body = [&](Host& h) {
        uint8_t buf[640] = {};
        auto go = [&](tlm::tlm_command cmd, unsigned len, sc_time annotated) {
            h.transport(cmd, 0, buf, len, annotated);
            d.push_back(annotated);
        };
        go(tlm::TLM_READ_COMMAND, 64, sc_core::SC_ZERO_TIME);  // d[0]: 50 + 4
        sc_core::wait(d[0]);                                   // t = 54 ns, bus free
        for (int k = 0; k < 4; ++k)
            go(tlm::TLM_READ_COMMAND, 64, sc_core::SC_ZERO_TIME);  // d[1..4]: 54, 58, 62, 66
        sc_core::wait(1, sc_core::SC_US);                          // bus long idle
        go(tlm::TLM_WRITE_COMMAND, 100, sc_core::SC_ZERO_TIME);    // d[5]: 70 + 2 bursts = 78
        sc_core::wait(1, sc_core::SC_US);
        go(tlm::TLM_READ_COMMAND, 640, sc_core::SC_ZERO_TIME);  // d[6]: 50 + 40 = 90
        go(tlm::TLM_READ_COMMAND, 64, sc_time(10, SC_NS));      // d[7]: arrives at 10, queues: 94
    };
    sc_core::sc_start();

    REQUIRE(d.size() == 8);
    CHECK(d[0] == sc_time(54, SC_NS));
    CHECK(d[1] == sc_time(54, SC_NS));
    CHECK(d[2] == sc_time(58, SC_NS));
    CHECK(d[3] == sc_time(62, SC_NS));
    CHECK(d[4] == sc_time(66, SC_NS));
    CHECK(d[5] == sc_time(78, SC_NS));
    CHECK(d[6] == sc_time(90, SC_NS));
    CHECK(d[7] == sc_time(94, SC_NS));
    // 1 + 4 + 2 + 10 + 1 bursts of 4 ns
    CHECK(mem.counters().busy_ps == 18 * 4000);
}

TEST_CASE("memory: channels - interleaved blocks on their own buses, an access split over them",
          "[memory]") {
    MemoryConfig cfg = round_config();  // read 50 ns, 4 ns per 64 B on each channel
    cfg.channels = 2;
    cfg.interleave_bytes = 256;  // bytes 0-255 on channel 0, 256-511 on 1, 512-767 on 0 ...
    Memory mem("mem", cfg);
    Host host("host");
    host.socket.bind(mem.target);
    std::vector<sc_time> d;
    host.body = [&](Host& h) {
        uint8_t buf[1024] = {};
        auto go = [&](uint64_t addr, unsigned len) {
            sc_time t = sc_core::SC_ZERO_TIME;
            h.transport(tlm::TLM_READ_COMMAND, addr, buf, len, t);
            d.push_back(t);
        };
        go(0, 256);    // d[0]: channel 0, 50 + 16
        go(256, 256);  // d[1]: channel 1, free: 50 + 16, beside d[0]
        go(512, 256);  // d[2]: channel 0 again, behind d[0]: 66 + 16
        sc_core::wait(1, sc_core::SC_US);
        go(128, 256);  // d[3]: 128 B on channel 0 and 128 B on channel 1 at once: 50 + 8
        sc_core::wait(1, sc_core::SC_US);
        go(0, 1024);  // d[4]: 512 B on each channel, both at once: 50 + 32
    };
    sc_core::sc_start();
    REQUIRE(d.size() == 5);
    CHECK(d[0] == sc_time(66, SC_NS));
    CHECK(d[1] == sc_time(66, SC_NS));
    CHECK(d[2] == sc_time(82, SC_NS));
    CHECK(d[3] == sc_time(58, SC_NS));
    CHECK(d[4] == sc_time(82, SC_NS));
    CHECK(mem.counters().busy_ps == (4 + 4 + 4 + 4 + 16) * 4000);  // bursts on all channels
    MemoryConfig bad = round_config();
    bad.channels = 0;
    CHECK_THAT(bad.validate(), Catch::Matchers::Contains("channels"));
}

TEST_CASE("memory: default lpddr4 timing of one 64-byte read", "[memory]") {
    Memory mem("mem");
    Host host("host");
    host.socket.bind(mem.target);
    sc_time d;
    host.body = [&](Host& h) {
        uint8_t buf[64];
        h.transport(tlm::TLM_READ_COMMAND, 0, buf, 64, d);
    };
    sc_core::sc_start();
    CHECK(d == sc_time(83333, SC_PS));  // 80 ns + 64 B / 19.2 GB/s
}

TEST_CASE("memory: presets and parameters and validation", "[memory]") {
    struct Expect {
        const char* name;
        double lat, wlat, bw;
        uint32_t burst;
    };
    const Expect table[] = {{"lpddr4", 80, 80, 19.2, 64},
                            {"hbm2", 60, 60, 256, 64},
                            {"ddr4", 70, 70, 25.6, 64},
                            {"reram", 40, 100, 19.2, 64}};
    for (const auto& e : table) {
        MemoryConfig c;
        c.size_mb = 77;
        REQUIRE(MemoryConfig::apply_preset(e.name, c));
        CHECK(c.preset == e.name);
        CHECK(c.latency_ns == e.lat);
        CHECK(c.write_latency_ns == e.wlat);
        CHECK(c.bandwidth_gbps == e.bw);
        CHECK(c.burst_bytes == e.burst);
        CHECK(c.size_mb == 77);
    }
    CHECK(MemoryConfig::preset_names() ==
          std::vector<std::string>{"lpddr4", "hbm2", "ddr4", "reram"});

    const MemoryConfig def;
    CHECK(def.preset == "lpddr4");
    CHECK(def.latency_ns == 80);
    CHECK(def.write_latency_ns == 80);
    CHECK(def.bandwidth_gbps == 19.2);
    CHECK(def.burst_bytes == 64);
    CHECK(def.size_mb == 1024);
    CHECK(def.dmi);

    MemoryConfig c;
    CHECK_FALSE(MemoryConfig::apply_preset("sram", c));
    CHECK(c.preset == "lpddr4");
    CHECK(c.latency_ns == 80);

    sprint::core::ParamRegistry reg;
    c.register_params(reg, "dram");
    const char* names[] = {"dram.preset",
                           "dram.latency_ns",
                           "dram.write_latency_ns",
                           "dram.bandwidth_gbps",
                           "dram.burst_bytes",
                           "dram.size_mb",
                           "dram.dmi"};
    for (const char* n : names) CHECK(reg.find(n) != nullptr);
    CHECK(reg.find("dram.latency_ns")->unit == "ns");
    CHECK(reg.find("dram.bandwidth_gbps")->unit == "GB/s");
    CHECK(reg.find("dram.burst_bytes")->unit == "B");
    CHECK(reg.find("dram.size_mb")->unit == "MiB");
    CHECK(reg.set("dram.preset", "hbm2") == "");
    CHECK(c.preset == "hbm2");
    CHECK_THAT(reg.set("dram.preset", "sram"), Catch::Matchers::Contains("dram.preset"));
    CHECK(reg.set("dram.bandwidth_gbps", "0") != "");
    CHECK(reg.set("dram.size_mb", "4096") == "");
    CHECK(c.size_mb == 4096);

    CHECK(def.validate() == "");
    MemoryConfig bad = def;
    bad.bandwidth_gbps = 0;
    CHECK_THAT(bad.validate(), Catch::Matchers::Contains("bandwidth_gbps"));
    bad = def;
    bad.burst_bytes = 0;
    CHECK_THAT(bad.validate(), Catch::Matchers::Contains("burst_bytes"));
    bad = def;
    bad.size_mb = 0;
    CHECK_THAT(bad.validate(), Catch::Matchers::Contains("size_mb"));
}

TEST_CASE("memory: constructor rejects a bad configuration", "[memory]") {
    MemoryConfig cfg;
    cfg.bandwidth_gbps = 0;
    CHECK_THROWS_WITH(Memory("mem", cfg), Catch::Matchers::Contains("bandwidth_gbps") &&
                                              Catch::Matchers::Contains("sprint/memory"));
}

TEST_CASE("memory: DMI grant range and latencies and DMI writes seen by b_transport", "[memory]") {
    Memory mem("mem", round_config());
    MemoryConfig off = round_config();
    off.dmi = false;
    Memory nodmi("nodmi", off);
    Host host("host"), host2("host2");
    host.socket.bind(mem.target);
    host2.socket.bind(nodmi.target);
    tlm::tlm_dmi dmi, denied;
    bool granted = false, granted2 = true, hint2 = true;
    uint32_t seen = 0, via_dmi = 0;
    host.body = [&](Host& h) {
        granted = h.dmi(0x123456, dmi);
        if (!granted) return;
        const uint32_t v = 0xCAFEF00D;
        std::memcpy(dmi.get_dmi_ptr() + (0x123456 - dmi.get_start_address()), &v, 4);
        h.read(0x123456, &seen, 4);
        const uint32_t w = 0x12345678;
        h.write(0x100000, const_cast<uint32_t*>(&w), 4);
        std::memcpy(&via_dmi, dmi.get_dmi_ptr(), 4);
    };
    host2.body = [&](Host& h) {
        granted2 = h.dmi(0x10, denied);
        uint32_t x;
        h.read(0x10, &x, 4);
        hint2 = h.last_dmi_allowed;
    };
    sc_core::sc_start();

    REQUIRE(granted);
    CHECK(dmi.get_start_address() == 0x100000);
    CHECK(dmi.get_end_address() == 0x1FFFFF);
    CHECK(dmi.is_read_write_allowed());
    CHECK(dmi.get_read_latency() == sc_time(54, SC_NS));
    CHECK(dmi.get_write_latency() == sc_time(74, SC_NS));
    CHECK(seen == 0xCAFEF00D);
    CHECK(via_dmi == 0x12345678);
    CHECK(mem.counters().dmi_grants == 1);

    CHECK_FALSE(granted2);
    CHECK_FALSE(hint2);
    CHECK(denied.is_none_allowed());
    CHECK(denied.get_start_address() == 0);
    CHECK(denied.get_end_address() == nodmi.size_bytes() - 1);
    CHECK(nodmi.counters().dmi_grants == 0);
}

TEST_CASE("memory: debug transport is untimed and counted apart", "[memory]") {
    MemoryConfig cfg = round_config();
    cfg.size_mb = 1;
    Memory mem("mem", cfg);
    Host host("host");
    host.socket.bind(mem.target);
    auto w = pattern(32, 9);
    std::vector<uint8_t> r(32);
    unsigned n_w = 0, n_r = 0, n_out = 9, n_part = 0;
    sc_time d;
    host.body = [&](Host& h) {
        n_w = h.debug(tlm::TLM_WRITE_COMMAND, 0x40, w.data(), 32);
        n_r = h.debug(tlm::TLM_READ_COMMAND, 0x40, r.data(), 32);
        uint8_t buf[8];
        n_out = h.debug(tlm::TLM_READ_COMMAND, Memory::kChunkBytes, buf, 8);
        n_part = h.debug(tlm::TLM_READ_COMMAND, Memory::kChunkBytes - 4, buf, 8);
        h.transport(tlm::TLM_READ_COMMAND, 0, buf, 8, d);
    };
    sc_core::sc_start();

    CHECK(n_w == 32);
    CHECK(n_r == 32);
    CHECK(r == w);
    CHECK(n_out == 0);
    CHECK(n_part == 4);
    CHECK(mem.counters().debug_bytes == 68);
    CHECK(mem.counters().read_bytes == 8);  // only the timed read
    CHECK(mem.counters().write_bytes == 0);
    CHECK(d == sc_time(54, SC_NS));  // the bus timeline saw no debug traffic
}

TEST_CASE("memory: load/dump and load_file/dump_file round trip with bad paths and ranges",
          "[memory]") {
    MemoryConfig cfg;
    cfg.size_mb = 4;
    Memory mem("mem", cfg);
    const uint64_t size = 4 * Memory::kChunkBytes;

    const auto data = pattern(2 * Memory::kChunkBytes + 123, 5);  // touches four chunks
    mem.load(0xFFFF0, data.data(), data.size());
    std::vector<uint8_t> back(data.size());
    mem.dump(0xFFFF0, back.data(), back.size());
    CHECK(back == data);

    const std::string out = temp_path("out"), in = temp_path("in");
    mem.dump_file(out, 0xFFFF0, data.size());
    CHECK(std::filesystem::file_size(out) == data.size());
    const auto small = pattern(1000, 77);
    {
        std::ofstream f(in, std::ios::binary);
        f.write(reinterpret_cast<const char*>(small.data()), std::streamsize(small.size()));
    }
    mem.load_file(in, size - 1000);
    std::vector<uint8_t> tail(1000);
    mem.dump(size - 1000, tail.data(), 1000);
    CHECK(tail == small);

    Memory mem2("mem2", cfg);
    mem2.load_file(out, 0x10);
    std::vector<uint8_t> again(data.size());
    mem2.dump(0x10, again.data(), again.size());
    CHECK(again == data);

    CHECK_THROWS_WITH(mem.load_file("/nonexistent/dir/x.bin", 0),
                      Catch::Matchers::Contains("/nonexistent/dir/x.bin"));
    CHECK_THROWS_AS(mem.dump_file("/nonexistent/dir/x.bin", 0, 16), std::runtime_error);
    CHECK_THROWS_AS(mem.load_file(in, size - 999), std::runtime_error);  // file does not fit
    uint8_t b[2] = {};
    CHECK_THROWS_WITH(mem.load(size - 1, b, 2), Catch::Matchers::Contains("outside"));
    CHECK_THROWS_AS(mem.dump(size, b, 1), std::runtime_error);
    CHECK_NOTHROW(mem.dump(size, b, 0));
    std::remove(out.c_str());
    std::remove(in.c_str());
}
