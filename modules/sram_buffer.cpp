#include "modules/sram_buffer.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace sprint {

using namespace sc_core;
using namespace tlm;

namespace {

class Lru : public ReplacementPolicy {
  public:
    void on_insert(uint64_t& stamp, uint64_t now) override { stamp = now; }
    void on_hit(uint64_t& stamp, uint64_t now) override { stamp = now; }
};
class Fifo : public ReplacementPolicy {
  public:
    void on_insert(uint64_t& stamp, uint64_t now) override { stamp = now; }
    void on_hit(uint64_t&, uint64_t) override {}
};

}  // namespace

std::unique_ptr<ReplacementPolicy> ReplacementPolicy::create(Replacement r) {
    if (r == Replacement::Fifo) return std::make_unique<Fifo>();
    return std::make_unique<Lru>();
}

std::size_t ClaimCounts::home(uint64_t key) const {
    return std::size_t((key * 0x9E3779B97F4A7C15ull) >> 32) & (m_keys.size() - 1);
}

std::size_t ClaimCounts::find(uint64_t key) const {
    const std::size_t mask = m_keys.size() - 1;
    std::size_t c = home(key);
    while (m_keys[c] != kEmpty && m_keys[c] != key) c = (c + 1) & mask;
    return c;
}

uint32_t ClaimCounts::count(uint64_t key) const {
    if (m_size == 0) return 0;
    const std::size_t c = find(key);
    return m_keys[c] == key ? m_counts[c] : 0;
}

void ClaimCounts::grow() {
    std::vector<uint64_t> keys = std::move(m_keys);
    std::vector<uint32_t> counts = std::move(m_counts);
    m_keys.assign(std::max<std::size_t>(64, 2 * keys.size()), kEmpty);
    m_counts.assign(m_keys.size(), 0);
    for (std::size_t i = 0; i < keys.size(); ++i)
        if (keys[i] != kEmpty) {
            const std::size_t c = find(keys[i]);
            m_keys[c] = keys[i];
            m_counts[c] = counts[i];
        }
}

bool ClaimCounts::add(uint64_t key) {
    if (2 * (m_size + 1) > m_keys.size()) grow();  // at most half full
    const std::size_t c = find(key);
    if (m_keys[c] == key) return ++m_counts[c] == 1;
    m_keys[c] = key;
    m_counts[c] = 1;
    ++m_size;
    return true;
}

bool ClaimCounts::remove(uint64_t key) {
    if (m_size == 0) return false;
    const std::size_t mask = m_keys.size() - 1;
    std::size_t c = find(key);
    if (m_keys[c] != key || --m_counts[c] > 0) return false;
    // Backward-shift deletion: move later keys of the probe run into the gap.
    m_keys[c] = kEmpty;
    --m_size;
    for (std::size_t n = (c + 1) & mask; m_keys[n] != kEmpty; n = (n + 1) & mask) {
        const std::size_t h = home(m_keys[n]);
        // The key at n may fill the gap at c when its home is not in (c, n] (cyclically).
        const bool stays = c <= n ? (h > c && h <= n) : (h > c || h <= n);
        if (stays) continue;
        m_keys[c] = m_keys[n];
        m_counts[c] = m_counts[n];
        m_keys[n] = kEmpty;
        c = n;
    }
    return true;
}

void ClaimCounts::clear() {
    std::fill(m_keys.begin(), m_keys.end(), kEmpty);
    m_size = 0;
}

SramBuffer::SramBuffer(const sc_module_name& name, const IpConfig& cfg, TraceScheduler& tracer)
    : sc_module(name),
      from_controller("from_controller", 1,
                      [this](tlm_generic_payload& gp, sc_time& d) { controller_transport(gp, d); }),
      from_fetcher("from_fetcher", 1,
                   [this](tlm_generic_payload& gp, sc_time& d) { fetcher_transport(gp, d); }),
      from_datapath("from_datapath", 1,
                    [this](tlm_generic_payload& gp, sc_time& d) { datapath_transport(gp, d); }),
      occupancy_k("occupancy_k"),
      occupancy_v("occupancy_v"),
      m_cfg(cfg),
      m_clock(cfg.clock_ns, SC_NS),
      m_tracer(tracer),
      m_policy(ReplacementPolicy::create(cfg.sram.replacement)),
      m_kmem(cfg.sram.k_bytes),
      m_vmem(cfg.sram.v_bytes),
      m_stats(basename(), "on-chip K and V row buffers with resident tables") {
    m_stats.add(
        "read_port_queued_ns",
        [this] { return nlohmann::json(from_datapath.accept_stall.to_seconds() * 1e9); }, "ns",
        "AT: time requests waited for this block to accept them (END_REQ), summed");
    m_stats.add(
        "write_port_queued_ns",
        [this] { return nlohmann::json(from_fetcher.accept_stall.to_seconds() * 1e9); }, "ns",
        "AT: time requests waited for this block to accept them (END_REQ), summed");
}

bool SramBuffer::data_access(tlm_generic_payload& gp, sc_time& delay, ResourceTimeline& port,
                             core::Duration& busy) {
    const uint64_t a = gp.get_address();
    const uint32_t len = gp.get_data_length();
    uint8_t* mem = nullptr;
    // Written so that no sum can wrap around 2^64.
    auto inside = [&](uint64_t base, std::size_t size) {
        return a >= base && len <= size && a - base <= size - len;
    };
    if (inside(proto::kSramKBase, m_kmem.size()))
        mem = m_kmem.data() + (a - proto::kSramKBase);
    else if (inside(proto::kSramVBase, m_vmem.size()))
        mem = m_vmem.data() + (a - proto::kSramVBase);
    if (!mem || len == 0) {
        gp.set_response_status(TLM_ADDRESS_ERROR_RESPONSE);
        return false;
    }
    if (gp.get_streaming_width() != len) {
        gp.set_response_status(TLM_BURST_ERROR_RESPONSE);
        return false;
    }
    if (gp.get_byte_enable_ptr()) {
        gp.set_response_status(TLM_BYTE_ENABLE_ERROR_RESPONSE);
        return false;
    }
    if (gp.is_read())
        std::memcpy(gp.get_data_ptr(), mem, len);
    else
        std::memcpy(mem, gp.get_data_ptr(), len);
    port_access(len, delay, port, busy);
    gp.set_response_status(TLM_OK_RESPONSE);
    return true;
}

uint32_t SramBuffer::head_at(uint64_t a) const {
    const bool v = a >= proto::kSramVBase;
    const Table& t = v ? m_v : m_k;
    const uint64_t off = a - (v ? proto::kSramVBase : proto::kSramKBase);
    const uint64_t slot = t.row_bytes ? off / t.row_bytes : 0;
    return slot < t.slot_head.size() ? t.slot_head[slot] : 0;
}

void SramBuffer::port_access(uint64_t len, sc_time& delay, ResourceTimeline& port,
                             core::Duration& busy) {
    const sc_time dur =
        m_clock * double(m_cfg.sram.access_cycles + ceil_div(len, m_cfg.sram.bytes_per_cycle));
    busy += dur.to_seconds() * 1e9;
    delay = offset_of(port.occupy(abs_time(delay), dur));
}

// The rows of a RowGather, each checked against its buffer, in one pipelined port access.
bool SramBuffer::gather(tlm_generic_payload& gp, const proto::RowGather& g, sc_time& delay) {
    const uint64_t a = gp.get_address();
    const std::vector<uint8_t>* mem = a == proto::kSramKBase   ? &m_kmem
                                      : a == proto::kSramVBase ? &m_vmem
                                                               : nullptr;
    const uint64_t len = uint64_t(g.count) * g.row_bytes;
    if (!mem || !g.slots || g.count == 0 || g.row_bytes == 0 || gp.get_data_length() != len) {
        gp.set_response_status(TLM_ADDRESS_ERROR_RESPONSE);
        return false;
    }
    if (gp.get_streaming_width() != gp.get_data_length() || gp.get_byte_enable_ptr()) {
        gp.set_response_status(gp.get_byte_enable_ptr() ? TLM_BYTE_ENABLE_ERROR_RESPONSE
                                                        : TLM_BURST_ERROR_RESPONSE);
        return false;
    }
    const uint64_t rows = mem->size() / g.row_bytes;
    for (uint32_t i = 0; i < g.count; ++i)
        if (g.slots[i] >= rows) {
            gp.set_response_status(TLM_ADDRESS_ERROR_RESPONSE);
            return false;
        }
    for (uint32_t i = 0; i < g.count; ++i)
        std::memcpy(gp.get_data_ptr() + std::size_t(i) * g.row_bytes,
                    mem->data() + std::size_t(g.slots[i]) * g.row_bytes, g.row_bytes);
    port_access(len, delay, m_read_port, m_read_port_busy_ns);
    gp.set_response_status(TLM_OK_RESPONSE);
    return true;
}

void SramBuffer::datapath_transport(tlm_generic_payload& gp, sc_time& delay) {
    if (gp.get_command() != TLM_READ_COMMAND) {
        gp.set_response_status(TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    const auto* g = gp.get_extension<proto::RowGather>();
    if (g ? gather(gp, *g, delay) : data_access(gp, delay, m_read_port, m_read_port_busy_ns)) {
        const uint64_t first =
            g ? proto::sram_address(
                    gp.get_address() == proto::kSramVBase ? proto::Buffer::V : proto::Buffer::K,
                    g->slots[0], g->row_bytes)
              : gp.get_address();
        m_read_bytes.add(head_at(first), g ? g->query : core::kNoQuery, gp.get_data_length());
        ++m_reads;
    }
}

void SramBuffer::controller_transport(tlm_generic_payload& gp, sc_time&) {
    // Reservations are the allocator's counter beside the resident table: no cycles of their own.
    auto* cmd = gp.get_extension<proto::ResidencyCommand>();
    const bool op_ok =
        cmd && (cmd->op == proto::ResidencyOp::Reserve || cmd->op == proto::ResidencyOp::Unreserve);
    if (gp.get_command() != TLM_IGNORE_COMMAND || !op_ok) {
        gp.set_response_status(TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    if (cmd->op == proto::ResidencyOp::Unreserve) {
        unreserve(*cmd);
    } else if (!reserve(*cmd)) {
        SC_REPORT_WARNING("sprint/sram",
                          "Reserve refused: no row size, or a new row size while rows are in use");
        gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    gp.set_response_status(TLM_OK_RESPONSE);
}

bool SramBuffer::reserve(proto::ResidencyCommand& cmd) {
    Table& t = table(cmd.buffer);
    const uint32_t bytes = cmd.buffer == proto::Buffer::K ? m_cfg.sram.k_bytes : m_cfg.sram.v_bytes;
    if (!use_row_size(t, bytes, cmd.row_bytes)) return false;
    const uint32_t slots = uint32_t(t.slot_token.size());
    cmd.capacity_out = slots;
    // With tokens, only rows no chunk in flight claims yet need room: the chunks in flight never
    // hold more distinct rows than there are slots, so every Acquire (made in the same order)
    // finds room. Without tokens, every row counts.
    uint32_t fresh = cmd.count;
    if (cmd.tokens) {
        fresh = 0;
        for (uint32_t i = 0; i < cmd.count; ++i) fresh += t.claims.count(claim_key(cmd, i)) == 0;
    }
    const uint32_t held = t.reserved + t.claimed;
    cmd.no_room_out = fresh > slots - std::min(slots, held);
    if (cmd.no_room_out) return true;
    if (!cmd.tokens) {
        t.reserved += cmd.count;
        return true;
    }
    for (uint32_t i = 0; i < cmd.count; ++i)
        if (t.claims.add(claim_key(cmd, i))) ++t.claimed;
    return true;
}

void SramBuffer::unreserve(const proto::ResidencyCommand& cmd) {
    Table& t = table(cmd.buffer);
    if (!cmd.tokens) {
        t.reserved -= std::min(t.reserved, cmd.count);
        return;
    }
    for (uint32_t i = 0; i < cmd.count; ++i) {
        // A row never claimed (a Flush ended its claims) changes nothing.
        if (t.claims.remove(claim_key(cmd, i))) --t.claimed;
    }
}

// The runs of a RowScatter, all checked before any is written, each one write-port access at its
// own time, in order.
bool SramBuffer::scatter(tlm_generic_payload& gp, proto::RowScatter& s, sc_time& delay) {
    const uint64_t a = gp.get_address();
    const proto::Buffer b = a == proto::kSramVBase ? proto::Buffer::V : proto::Buffer::K;
    std::vector<uint8_t>& mem = b == proto::Buffer::K ? m_kmem : m_vmem;
    const uint64_t rb = s.row_bytes, slots = rb ? mem.size() / rb : 0;
    uint64_t rows = 0;
    bool ok = (a == proto::kSramKBase || a == proto::kSramVBase) && s.runs && rb;
    for (uint32_t i = 0; ok && i < s.run_count; ++i) {
        ok = s.runs[i].rows > 0 && s.runs[i].slot < slots &&
             s.runs[i].rows <= slots - s.runs[i].slot;
        rows += s.runs[i].rows;
    }
    if (!ok || gp.get_data_length() != rows * rb) {
        gp.set_response_status(TLM_ADDRESS_ERROR_RESPONSE);
        return false;
    }
    if (gp.get_streaming_width() != gp.get_data_length() || gp.get_byte_enable_ptr()) {
        gp.set_response_status(gp.get_byte_enable_ptr() ? TLM_BYTE_ENABLE_ERROR_RESPONSE
                                                        : TLM_BURST_ERROR_RESPONSE);
        return false;
    }
    const uint8_t* src = gp.get_data_ptr();
    sc_time last = abs_time(delay);
    for (uint32_t i = 0; i < s.run_count; ++i) {
        proto::RowScatter::Run& run = s.runs[i];
        const std::size_t n = std::size_t(run.rows) * rb;
        std::memcpy(mem.data() + std::size_t(run.slot) * rb, src, n);
        src += n;
        sc_time d = offset_of(run.at);
        port_access(n, d, m_write_port, m_write_port_busy_ns);
        run.at = abs_time(d);
        last = std::max(last, run.at);
        m_write_bytes.add(head_at(proto::sram_address(b, run.slot, s.row_bytes)), s.query, n);
        ++m_writes;
    }
    delay = offset_of(last);
    gp.set_response_status(TLM_OK_RESPONSE);
    return true;
}

void SramBuffer::fetcher_transport(tlm_generic_payload& gp, sc_time& delay) {
    if (gp.get_command() == TLM_WRITE_COMMAND) {
        if (auto* s = gp.get_extension<proto::RowScatter>()) {
            scatter(gp, *s, delay);
            return;
        }
        if (data_access(gp, delay, m_write_port, m_write_port_busy_ns)) {
            const auto* tag = gp.get_extension<proto::HeadTag>();
            m_write_bytes.add(head_at(gp.get_address()), tag ? tag->query : core::kNoQuery,
                              gp.get_data_length());
            ++m_writes;
        }
        return;
    }
    auto* cmd = gp.get_extension<proto::ResidencyCommand>();
    if (gp.get_command() != TLM_IGNORE_COMMAND || !cmd) {
        gp.set_response_status(TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    bool ok = true;
    switch (cmd->op) {
        case proto::ResidencyOp::Flush:
            flush(table(cmd->buffer));
            ++m_flushes;
            break;
        case proto::ResidencyOp::Release:
            ok = release(*cmd);
            break;
        case proto::ResidencyOp::Abandon:
            ok = abandon(*cmd);
            break;
        case proto::ResidencyOp::Acquire:
            ok = acquire(*cmd);
            break;
        default:  // Reserve and Unreserve come from the controller, on its own socket
            gp.set_response_status(TLM_COMMAND_ERROR_RESPONSE);
            return;
    }
    if (!ok) {
        static const char* const names[] = {"Reserve", "Unreserve", "Acquire",
                                            "Release", "Abandon",   "Flush"};
        SC_REPORT_WARNING("sprint/sram",
                          (std::string(names[int(cmd->op)]) +
                           " refused: a new row size while rows are in use, more rows than slots, "
                           "or a slot not pinned")
                              .c_str());
        gp.set_response_status(TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    // The resident table is its own lookup logic (a CAM beside the data arrays): a table command
    // takes access_cycles and does not occupy a data port.
    delay += m_clock * double(m_cfg.sram.access_cycles);
    auto& t = table(cmd->buffer);
    m_tracer.write(cmd->buffer == proto::Buffer::K ? occupancy_k : occupancy_v, t.valid, delay);
    gp.set_response_status(TLM_OK_RESPONSE);
}

void SramBuffer::flush(Table& t) {
    std::fill(t.slot_token.begin(), t.slot_token.end(), ~0u);
    std::fill(t.stamp.begin(), t.stamp.end(), 0);
    std::fill(t.pins.begin(), t.pins.end(), 0);
    std::fill(t.where.begin(), t.where.end(), ~0u);
    t.valid = 0;
    t.reserved = 0;
    t.claims.clear();
    t.claimed = 0;
}

bool SramBuffer::use_row_size(Table& t, uint32_t bytes, uint32_t row_bytes) {
    if (row_bytes == 0 || row_bytes > bytes) return false;
    if (row_bytes == t.row_bytes) return true;
    if (t.reserved || t.claimed) return false;  // a new row size while rows are in use or promised
    for (uint32_t p : t.pins)
        if (p) return false;
    reshape(t, bytes, row_bytes);
    return true;
}

void SramBuffer::reshape(Table& t, uint32_t bytes, uint32_t row_bytes) {
    const uint32_t slots = IpConfig::rows_in(bytes, row_bytes);
    t.row_bytes = row_bytes;
    t.slot_token.assign(slots, ~0u);
    t.slot_head.assign(slots, 0);
    t.stamp.assign(slots, 0);
    t.pins.assign(slots, 0);
    std::fill(t.where.begin(), t.where.end(), ~0u);
    t.valid = 0;
    t.reserved = 0;
    t.claims.clear();
    t.claimed = 0;
}

bool SramBuffer::acquire(proto::ResidencyCommand& cmd) {
    constexpr uint32_t kMaxTokens = 1u << 24;
    Table& t = table(cmd.buffer);
    const uint32_t bytes = cmd.buffer == proto::Buffer::K ? m_cfg.sram.k_bytes : m_cfg.sram.v_bytes;
    if (!cmd.slots_out || !cmd.hit_out || !use_row_size(t, bytes, cmd.row_bytes)) return false;
    if (cmd.count > t.slot_token.size()) return false;
    for (uint32_t i = 0; i < cmd.count; ++i) {
        if (cmd.tokens[i] >= kMaxTokens) return false;  // no sequence is that long
        if (cmd.tokens[i] >= t.where.size()) t.where.resize(std::size_t(cmd.tokens[i]) + 1, ~0u);
    }
    ++m_acquires;
    // Pass 1: which rows are resident (a slot of the same head holding the token).
    uint32_t missing = 0;
    for (uint32_t i = 0; i < cmd.count; ++i) {
        const uint32_t s = t.where[cmd.tokens[i]];
        cmd.hit_out[i] = s != ~0u && t.slot_head[s] == cmd.head && t.slot_token[s] == cmd.tokens[i];
        missing += !cmd.hit_out[i];
    }
    // Candidates for the m_misses: free slots first (lowest index), then the unpinned resident rows
    // in the order the policy ranks them (smallest stamp first); never a row this command m_hits.
    m_victims.clear();
    for (uint32_t s = 0; s < t.slot_token.size(); ++s) {
        if (t.pins[s]) continue;
        m_victims.emplace_back(t.slot_token[s] == ~0u ? 0 : t.stamp[s] + 1, s);
    }
    uint32_t hit_unpinned = 0;
    for (uint32_t i = 0; i < cmd.count; ++i)
        if (cmd.hit_out[i] && t.pins[t.where[cmd.tokens[i]]] == 0) ++hit_unpinned;
    if (m_victims.size() - hit_unpinned < missing) {
        cmd.no_room_out = true;  // all or nothing: wait for a release
        ++m_no_room;
        return true;
    }
    // Only the first missing + hit_unpinned candidates can be taken (the ranks are distinct, so
    // they come out in the order a full sort gives).
    const auto take =
        std::ptrdiff_t(std::min<std::size_t>(m_victims.size(), missing + hit_unpinned));
    if (missing) {
        const auto mid = m_victims.begin() + take;
        if (mid != m_victims.end()) std::nth_element(m_victims.begin(), mid - 1, m_victims.end());
        std::sort(m_victims.begin(), mid);
    }
    for (uint32_t i = 0; i < cmd.count; ++i) {
        if (!cmd.hit_out[i]) continue;
        const uint32_t s = t.where[cmd.tokens[i]];
        cmd.slots_out[i] = s;
        ++t.pins[s];
        m_policy->on_hit(t.stamp[s], ++t.clock);
        ++m_hits;
    }
    uint32_t evicted = 0;
    std::size_t next = 0;
    for (uint32_t i = 0; i < cmd.count; ++i) {
        if (cmd.hit_out[i]) continue;
        while (t.pins[m_victims[next].second])
            ++next;  // skip the slots pinned by this command's m_hits
        const uint32_t best = m_victims[next++].second;
        if (t.slot_token[best] != ~0u) {
            if (t.where[t.slot_token[best]] == best) t.where[t.slot_token[best]] = ~0u;
            ++evicted;
        } else {
            ++t.valid;
        }
        t.slot_token[best] = cmd.tokens[i];
        t.slot_head[best] = cmd.head;
        t.where[cmd.tokens[i]] = best;
        ++t.pins[best];
        m_policy->on_insert(t.stamp[best], ++t.clock);
        cmd.slots_out[i] = best;
        ++m_misses;
    }
    m_evictions += evicted;
    cmd.evictions_out = evicted;
    core::Counter& peak = cmd.buffer == proto::Buffer::K ? m_peak_rows_k : m_peak_rows_v;
    peak.record_max(t.valid);
    return true;
}

bool SramBuffer::unpin(const proto::ResidencyCommand& cmd) {
    Table& t = table(cmd.buffer);
    if (cmd.count && !cmd.slots) return false;
    // All or nothing: a slot listed more often than it is pinned changes nothing.
    uint32_t i = 0;
    for (; i < cmd.count; ++i) {
        const uint32_t s = cmd.slots[i];
        if (s >= t.pins.size() || t.pins[s] == 0) break;
        --t.pins[s];
    }
    if (i < cmd.count) {
        while (i-- > 0) ++t.pins[cmd.slots[i]];
        return false;
    }
    return true;
}

bool SramBuffer::release(proto::ResidencyCommand& cmd) {
    if (!unpin(cmd)) return false;
    ++m_releases;
    return true;
}

bool SramBuffer::abandon(proto::ResidencyCommand& cmd) {
    if (cmd.count && !cmd.filled) return false;
    if (!unpin(cmd)) return false;  // all or nothing, like a release
    ++m_abandons;
    Table& t = table(cmd.buffer);
    for (uint32_t i = 0; i < cmd.count; ++i) {
        const uint32_t s = cmd.slots[i];
        // A later chunk may have taken the row as resident meanwhile; the job fails anyway, and
        // its release still finds its pin.
        if (cmd.filled[i] || t.slot_token[s] == ~0u) continue;
        if (t.where[t.slot_token[s]] == s) t.where[t.slot_token[s]] = ~0u;
        t.slot_token[s] = ~0u;
        t.stamp[s] = 0;
        --t.valid;
    }
    return true;
}

}  // namespace sprint
