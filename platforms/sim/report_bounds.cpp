// Lower bounds on a job's cycles from the work each resource did (Bounds, simulation.h), and the
// one that limits the job.
#include <algorithm>

#include "modules/compute_unit.h"
#include "platforms/sim/report_internal.h"

namespace sprint::platform::report {

Bounds job_bounds(const JobRun& r, const PlatformConfig& c) {
    const json m = r.model();
    const double clk = c.ip.clock_ns;
    Bounds b;
    // The units work in parallel: the busiest one's datapath and SRAM port bound the job.
    for (uint32_t u = 0; u < c.ip.units; ++u) {
        const std::string unit = unit_name(u);
        b.datapath = std::max(b.datapath, (num(m, {unit, "datapath", "qk_busy_ns"}) +
                                           num(m, {unit, "datapath", "softmax_busy_ns"}) +
                                           num(m, {unit, "datapath", "v_busy_ns"})) /
                                              clk);
        b.sram = std::max(b.sram, std::max(num(m, {unit, "sram", "read_port_busy_ns"}),
                                           num(m, {unit, "sram", "write_port_busy_ns"})) /
                                      clk);
    }
    const double bytes = double(r.result.mem_read_bytes + r.result.mem_write_bytes);
    b.memory_bandwidth = bytes / (c.dram.bandwidth_gbps * c.dram.channels) / clk;  // GB/s = B/ns
    // Little's law on requests: each is in flight at least one latency, max_outstanding at once.
    const double requests = num(m, {"fetcher", "mem_reads"}) + num(m, {"fetcher", "mem_writes"});
    b.memory_latency = requests * c.dram.latency_ns / double(c.ip.fetcher.max_outstanding) / clk;
    b.crossbar = num(m, {"xbar", "busy_ns"}) / clk;
    // The front's own work: the crossbar (programming, evaluations, read-backs) and the
    // comparator bank's mask read-out, which overlap (one query's read-out with the next one's
    // evaluation): the busier of the two. Its waits for memory (head table, K for programming,
    // Q rows) are the memory bounds' part.
    b.front = std::max(num(m, {"xbar", "busy_ns"}), num(m, {"comparators", "busy_ns"})) / clk;
    const std::pair<const char*, double> all[] = {{"front", b.front},
                                                  {"datapath", b.datapath},
                                                  {"sram", b.sram},
                                                  {"mem-bandwidth", b.memory_bandwidth},
                                                  {"mem-latency", b.memory_latency},
                                                  {"crossbar", b.crossbar}};
    for (const auto& [name, v] : all)
        if (v > b.largest) {
            b.largest = v;
            b.limit = name;
        }
    return b;
}

}  // namespace sprint::platform::report
