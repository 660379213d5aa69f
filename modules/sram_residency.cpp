// SramBuffer's resident tables: replacement policies, claim counts, reservations, Acquire /
// Release / Abandon / Flush and the slot layout (the data ports are in sram_buffer.cpp).
#include "modules/sram_buffer.h"

#include <algorithm>
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

bool SramBuffer::reserve(proto::ResidencyCommand& cmd) {
    Table& t = table(cmd.buffer);
    const uint32_t bytes = cmd.buffer == proto::Buffer::K ? m_cfg.sram.k_bytes : m_cfg.sram.v_bytes;
    if (!use_row_size(t, bytes, cmd.row_bytes)) return false;
    const uint32_t slots = uint32_t(t.slot_token.size());
    cmd.capacity_out = slots;
    // With tokens, only rows no chunk in flight claims yet need room: the chunks in flight never
    // hold more distinct rows than there are slots, so every Acquire (made in the same order)
    // finds room. Without tokens, every row counts.
    const uint32_t free = slots - std::min(slots, t.reserved + t.claimed);
    uint32_t fresh = cmd.count;
    if (cmd.tokens) {  // counted until they are more than the free room (a refusal is then sure)
        fresh = 0;
        for (uint32_t i = 0; i < cmd.count && fresh <= free; ++i)
            fresh += t.claims.count(claim_key(cmd, i)) == 0;
    }
    cmd.no_room_out = fresh > free;
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
