// The controller's job pipeline (part of the Controller block, modules/controller.h): the stages
// that run one job and what they share. Not a module of its own: its threads are spawned by the
// controller, and every transaction goes out through the controller's initiator ports.
//
//   front   - per head: read the head-table entry, program the crossbar; per query: read the
//             Q row, evaluate it on the crossbar and comparators (the decisions latched in the
//             bank); a head with more keys than the crossbar holds in passes (front_passes,
//             which reads each pass's masks itself);
//   mask    - per query: read its keep mask out of the comparator bank (while the crossbar
//             evaluates the next queries), then deal it to the compute units;
//   fetch   - make the query's rows resident: LoadRows for every K chunk (fetch K) and, in a
//             second thread, every V chunk when the kept set is already known (fetch V), each
//             chunk's room reserved in the SRAM buffer in issue order, several loads under way
//             at once on loader threads;
//   compute - the datapath: QK per chunk, softmax, V per chunk, the output row read out of it;
//             every chunk's rows are released after use;
//   write-back - the output rows written to memory: posted, so the datapath goes on with the
//             next query while rows are on their way (posted_writes writes under way at once,
//             on as many threads; the first is the reported stage).
// With several compute units, in sprint mode (controller.unit_org keys) every query is split by
// key: unit u gets the kept keys j with j mod units == u, the units exchange their maxima (and
// prob8's sums) between QK and softmax, and unit 0 adds the others' partial accumulators and
// writes the row. Dense-stream queries and online dense blocks are split the same way when the
// head fits the units' buffers together (IpConfig::key_units); a dense block's units exchange
// maxima and partials tile by tile. Otherwise the front stage deals a head's queries (dense:
// blocks) out in turn, entry i to unit i mod units. Each unit has its own fetch, compute and
// write-back stages (a Lane) and contends with the others only in the fetcher and memory. In dense
// mode the front stage groups a head's queries into blocks (query_block); a block goes down the
// pipeline as one entry whose candidates are every key a member sees, so each K/V tile is fetched
// once per block and the datapath, one context per member, reads each row once for all of them. The
// stages are joined by bounded queues, so the crossbar works on later queries while the datapath
// works on an earlier one, and the next query's rows are fetched while the current one computes,
// within the SRAM capacity. The same code runs both timing modes: in LT every stage keeps its own
// local time and synchronises when it hands work over or waits; in AT the ports make time pass.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>

#include "core/stats.h"
#include "core/types.h"
#include "modules/common/channel.h"
#include "modules/common/ports.h"
#include "modules/common/stage.h"
#include "tlm_interfaces/ip_config.h"
#include "tlm_interfaces/payload_pool.h"
#include "tlm_interfaces/register_map.h"
#include "tlm_interfaces/sprint_protocol.h"
#include "waveforms/trace_scheduler.h"

namespace sprint {

// The controller's state signal: 0 idle, 1 setup, 2 head table, 3 program, 4 queries.
enum ControllerState : uint32_t { Idle = 0, Setup = 1, HeadTable = 2, Program = 3, Queries = 4 };

class Pipeline {
  public:
    struct Ports {
        InitiatorPort &xbar, &comparators, &fetcher;
        sc_core::sc_vector<InitiatorPort>&datapath, &sram;  // one per compute unit
    };
    struct Signals {
        sc_core::sc_signal<uint32_t>&state, &head, &query, &front_state;
        sc_core::sc_vector<sc_core::sc_signal<uint32_t>>&stage_state, &stage_query,
            &stage_in_flight;
    };
    // What the job's counter registers report.
    struct JobCounts {
        uint64_t rd_bytes = 0, wr_bytes = 0, kept_keys = 0, k_rows = 0, v_rows = 0;
    };
    struct HeadRecord {
        uint32_t head;
        uint64_t cycles, queries, visible, kept, k_fetched, v_fetched;
    };
    // One query as the pipeline saw it (the per-query export; recorded only when asked). Times
    // are simulated; in dense mode the block's shared work (its rows, its compute-stage time) is
    // on the record of its lead query (the block's first), the other members have none of it.
    struct QueryRecord {
        uint32_t head, query, unit, lead;
        uint64_t kept, visible;
        uint64_t k_fetched, v_fetched, k_reused, v_reused;  // rows loaded / found resident
        sc_core::sc_time front, compute_begin, compute_end, done;
        double compute_busy_ns, compute_wait_ns;  // the compute stage on it / waiting for it
    };
    using KeptObserver =
        std::function<void(uint32_t head, uint32_t query, const std::vector<uint32_t>& kept)>;

    // Registers its statistics (queries, pairs, heads, per-stage times) in `stats`, the
    // controller's group.
    Pipeline(const IpConfig& cfg, TraceScheduler& tracer, Ports ports, Signals signals,
             core::StatGroup& stats);
    // The stage and loader threads, spawned by the controller's constructor after its own job
    // thread (the order in which SystemC runs processes of one time step).
    void spawn_threads();

    // Runs one job that passed check_job: empty buffers, then the stages until all have ended.
    // Returns the first error (None when the job completed).
    regs::ErrorCode run(const regs::JobRegs& job);
    // The start of every job, also one refused at START: its counts and head records from zero.
    void clear();
    const JobCounts& counts() const { return m_counts; }
    const std::vector<HeadRecord>& head_log() const { return m_heads; }
    // Per-query records of the last job, in the order the queries completed (off by default).
    void record_queries(bool on) { m_record_queries = on; }
    const std::vector<QueryRecord>& query_log() const { return m_query_log; }
    sc_core::sc_time job_start() const { return m_job_start; }
    void set_kept_observer(KeptObserver f) { m_observer = std::move(f); }
    void trace_state(uint32_t s, const sc_core::sc_time& at);

  private:
    struct Group;
    // A query travelling down the pipeline.
    struct Query {
        uint32_t head = 0, index = 0;
        core::HeadParams hp;
        std::vector<int8_t> q;
        std::vector<uint32_t> candidates;  // keys to score (kept in sprint, visible otherwise)
        std::vector<uint32_t> kept;        // after softmax
        bool last_of_head = false;
        // Dense mode: the block's queries, one datapath context each; this entry is their union
        // (candidates = every key a member sees) and travels down the pipeline for all of them.
        std::vector<std::shared_ptr<Query>> members;
        uint32_t unit = 0;  // the compute unit (lane) it goes to
        // What the per-query records report (dense: the block entry's, moved to its lead).
        uint64_t k_fetched = 0, v_fetched = 0, k_reused = 0, v_reused = 0;
        sc_core::sc_time front = sc_core::SC_ZERO_TIME, compute_begin = sc_core::SC_ZERO_TIME,
                         compute_end = sc_core::SC_ZERO_TIME;
        bool front_seen = false;
        bool masked = false;  // its candidates are known (no mask to read out)
        double compute_busy_ns = 0.0, compute_wait_ns = 0.0;
        // Key-interleaved units: this entry is unit `unit`'s share of the query (its keys j with
        // j mod units == unit); the group joins the shares.
        std::shared_ptr<Group> group;
    };
    using QueryPtr = std::shared_ptr<Query>;
    // Key-interleaved units: one query's shares, and what the units exchange: the maximum of
    // their scores, the sum of their exponentials (prob8, float) and their partial accumulators,
    // which unit 0 adds up and divides. Each exchange waits for every share (m_shares_ev).
    struct Group {
        // The query as the front stage made it (every kept key). The shares point to the group,
        // the group not to them (no cycle of owners).
        QueryPtr whole;
        uint32_t at_max = 0, at_sum = 0, at_partial = 0;
        bool any = false;
        int32_t max = 0;
        std::vector<uint64_t> sums;  // by unit (added in unit order: float's rounding)
        std::vector<double> sumfs;
        std::vector<core::RowEngine::Partial> partials;  // by unit, 1 .. units - 1 used
        // An online dense block: each tile's running maxima of the members (tile t, member k at
        // [t * members + k]), and each unit's tile partials (by unit, then member).
        std::vector<int32_t> tile_max;
        std::vector<uint8_t> tile_any;
        std::vector<std::vector<core::RowEngine::Partial>> tile_partials;
    };
    // A unit of work for the compute stage.
    struct Item {
        enum Kind { Begin, KChunk, Softmax, VChunk, End } kind = Begin;
        QueryPtr q;
        uint32_t first = 0, count = 0;  // into candidates (K, V in sprint/dense)
        std::vector<uint32_t> slots;
        Item() = default;
        Item(Kind k, QueryPtr qq, uint32_t f = 0, uint32_t c = 0)
            : kind(k), q(std::move(qq)), first(f), count(c) {}
    };
    // A LoadRows command a fetch stage hands to a loader thread.
    struct Load {
        Item item;
        proto::Buffer buffer = proto::Buffer::K;
        sc_core::sc_time start;
        regs::ErrorCode e = regs::ErrorCode::None;
        bool done = true;
        sc_core::sc_event ev;
    };
    using LoadPtr = std::shared_ptr<Load>;
    // An output row on its way to memory.
    struct Output {
        QueryPtr q;
        std::vector<uint8_t> bytes;
    };
    class FetchFlight;
    // One compute unit's part of the pipeline: its stages, their queues and its buffers' state.
    struct Lane {
        Lane(const IpConfig& cfg, uint32_t unit, core::StatGroup& stats, InitiatorPort& dp,
             InitiatorPort& sram);
        uint32_t unit;
        InitiatorPort &datapath, &sram;
        Channel<QueryPtr> queries_k, queries_v;
        Channel<Item> k_items, v_items;
        Channel<Output> outputs;
        std::deque<LoadPtr> load_tasks;
        sc_core::sc_event load_task_ev, load_ev;
        uint64_t releases = 0;
        sc_core::sc_event release_ev;
        uint32_t own_v_capacity = 0;  // onchip-prune: V rows the buffer holds
        // The compute stage's busy and waiting (starved + blocked) time when its last query
        // ended: a query's share is what was added since.
        double compute_busy_seen = 0.0, compute_wait_seen = 0.0;
        StageTimes fetch_k_times, fetch_v_times, compute_times, writeback_times;
        core::StatGroup loader_group;  // not reported: a load's time is its issuer's busy time
        StageTimes loader_times;
        core::StatGroup writer_group;  // not reported: the write-back threads after the first
        StageTimes writer_times;
        std::vector<std::unique_ptr<Stage>> writers;
        Stage fetch_k, fetch_v, compute, writeback;
        QueryMarker markers[4];  // fetch_k, fetch_v, compute, write-back (all its threads)
        void reset();
        void abort();
    };

    // A stage thread: for every job, run(stage), then after() (closes its output queues).
    void stage_thread(Stage& s, const std::function<regs::ErrorCode(Stage&)>& run,
                      const std::function<void()>& after);
    void loader_thread(Lane& l);
    void fail(regs::ErrorCode e);

    // front stage (front_stage.cpp)
    regs::ErrorCode run_front(Stage& s);
    regs::ErrorCode front_heads(Stage& s);
    regs::ErrorCode front_head(Stage& s, uint32_t h, core::HeadParams& hp);
    regs::ErrorCode program_crossbar(Stage& s, uint32_t h, const core::HeadParams& hp,
                                     uint32_t first, uint32_t last);
    regs::ErrorCode front_query(Stage& s, uint32_t h, uint32_t i, Query& q);
    regs::ErrorCode front_passes(Stage& s, uint32_t h, const core::HeadParams& hp,
                                 std::vector<QueryPtr>& qs);
    regs::ErrorCode read_q_row(Stage& s, uint32_t h, uint32_t i, Query& q);
    // Read ahead the groups after the current one, up to q_groups_ahead, within rows [.., end).
    void read_q_ahead(Stage& s, uint32_t h, uint32_t end);
    // Every read-ahead finished and dropped (the end of a head, a pass or the job).
    regs::ErrorCode drop_q_ahead(Stage& s);
    void q_reader_thread();
    regs::ErrorCode evaluate(Stage& s, uint32_t h, uint32_t i, Query& q, uint32_t first,
                             uint32_t last, bool defer_empty, proto::XbarCommand& xc);
    // The keep mask of query i's oldest evaluation read out of the comparator bank: its kept keys
    // in [first, last) appended to the candidates.
    regs::ErrorCode read_mask(Stage& s, uint32_t h, uint32_t i, Query& q, uint32_t first,
                              uint32_t last);
    // mask stage: every query's mask read out, then the query dealt to the units.
    regs::ErrorCode run_mask(Stage& s);
    // Dense mode: how many queries of a head share each streamed K/V tile.
    uint32_t query_block(const core::HeadParams& hp) const;
    // K-MSB read-back: the job's K rows take their top bits from the crossbar, so the crossbar
    // keeps a head until every K row of it is loaded (the front stage waits before the next).
    bool readback() const { return m_job.opt.k_readback && m_job.opt.mode == core::Mode::Sprint; }
    // Only a head the crossbar holds whole (one pass) reads its K top bits back; the keys of a
    // head scored in passes have left the array, and its K rows are fetched whole.
    bool readback_head(uint32_t h) const { return readback() && m_passes[h] == 1; }
    void k_fetched(const Query& q);
    // fetch stages (fetch_stage.cpp)
    regs::ErrorCode run_fetch(Stage& s, Lane& l, proto::Buffer b);
    regs::ErrorCode reserve_in_order(Stage& s, Lane& l, proto::Buffer b, const Query& q,
                                     const uint32_t* tokens, uint32_t need, FetchFlight& flight);
    // compute stage (compute_stage.cpp)
    regs::ErrorCode run_compute(Stage& s, Lane& l);
    regs::ErrorCode compute_query(Stage& s, Lane& l, const QueryPtr& qp, Item& it);
    regs::ErrorCode fetch_kept_v(Stage& s, Lane& l, Query& q, proto::DatapathCommand& c);
    // Key-interleaved units (compute_shares.cpp): a share's softmax against the row's maximum,
    // and after its V rows the partial handed to unit 0, which joins them and writes the row.
    bool key_units() const;
    void deal_by_key(const QueryPtr& q, std::vector<QueryPtr>& parts);
    regs::ErrorCode shared_softmax(Stage& s, Lane& l, Query& q, proto::DatapathCommand& c);
    regs::ErrorCode join_shares(Stage& s, Lane& l, const QueryPtr& qp);
    // A share arrived at an exchange (`count` one up): wait until `count` reaches `target`.
    void wait_shares(Stage& s, uint32_t& count, uint32_t target);
    // Dense query blocks (compute_blocks.cpp): plain, online, and split by key over the units.
    regs::ErrorCode compute_block(Stage& s, Lane& l, Query& blk, Item& it);
    regs::ErrorCode begin_block(Stage& s, Lane& l, Query& blk, proto::DatapathCommand& c);
    regs::ErrorCode finish_block(Stage& s, Lane& l, Query& blk);
    static void prefix_counts(const Query& blk, const uint32_t* tokens, uint32_t n,
                              std::vector<uint32_t>& counts);
    class TileFeed;
    regs::ErrorCode compute_block_online(Stage& s, Lane& l, Query& blk, Item& it);
    // An online dense block on key-interleaved units: this unit's share, in step with the others.
    regs::ErrorCode compute_block_split(Stage& s, Lane& l, Query& blk, Item& it);
    regs::ErrorCode exchange_maxima(Stage& s, Lane& l, Query& blk, uint32_t t,
                                    proto::DatapathCommand& c, std::vector<uint32_t>& active);
    regs::ErrorCode exchange_partials(Stage& s, Lane& l, Query& blk, uint32_t t,
                                      proto::DatapathCommand& c, std::vector<uint32_t>& active);
    regs::ErrorCode close_block_split(Stage& s, Lane& l, Item& it);
    void hand_partial(Stage& s, Group& g);
    // A share's rows and compute time added to its whole query's (or block's) record.
    static void add_share(Query& whole, const Query& share);
    regs::ErrorCode finish_query(Stage& s, Lane& l, const QueryPtr& q, uint32_t context = 0);
    // write-back stage (compute_stage.cpp): the output rows to memory, then each query counted
    regs::ErrorCode run_writeback(Stage& s, Lane& l);
    // The compute stage's time since the lane's previous query ended goes to `q`: busy, waiting.
    void compute_time(Lane& l, Query& q);
    // The per-query record of (head, query), made when first needed (the compute and write-back
    // stages fill in their parts in whichever order they get there).
    QueryRecord& record_of(uint32_t head, uint32_t query);
    // The compute stage's part of `member`'s record; `work` is the entry that did the work (the
    // member itself, or its block: then only the lead gets the block's rows and time).
    void record_compute(const Query& member, const Query& work, bool lead);
    void account(Stage& s, const Query& q);

    // The links (links.cpp): one transaction each, on behalf of stage `s`.
    regs::ErrorCode mem_transfer(tlm::tlm_command c, uint64_t addr, uint8_t* data, uint32_t len,
                                 uint32_t head, Stage& s, uint32_t query = core::kNoQuery);
    // An untimed, uncounted memory read (the keys of a crossbar with xbar.k_resident).
    regs::ErrorCode peek(uint64_t addr, uint8_t* data, uint32_t len, Stage& s);
    regs::ErrorCode xbar(proto::XbarCommand& c, uint8_t* data, uint32_t len, Stage& s);
    regs::ErrorCode comparators(proto::MaskCommand& c, uint8_t* data, uint32_t len, Stage& s);
    regs::ErrorCode load_rows(Lane& l, proto::Buffer b, Query& q, const uint32_t* tokens,
                              uint32_t n, uint32_t* slots, Stage& s);
    regs::ErrorCode release_rows(Lane& l, proto::Buffer b, const Query& q, const uint32_t* tokens,
                                 const uint32_t* slots, uint32_t n, Stage& s);
    regs::ErrorCode dp(Lane& l, proto::DatapathCommand& c, tlm::tlm_command cmd, uint8_t* data,
                       uint32_t len, Stage& s);
    // The SRAM buffer's room: reserve the slots a chunk of `count` rows (`tokens` of `head`) may
    // need (false: no room now), or with count 0 only learn how many rows the buffer holds
    // (`capacity`).
    regs::ErrorCode reserve(Lane& l, proto::Buffer b, uint32_t head, const uint32_t* tokens,
                            uint32_t count, Stage& s, bool& granted, uint32_t* capacity = nullptr);
    regs::ErrorCode room(Lane& l, proto::ResidencyOp op, proto::Buffer b, uint32_t head,
                         const uint32_t* tokens, uint32_t count, Stage& s, bool* granted,
                         uint32_t* capacity);
    // A job's start: every SRAM buffer's resident table and every datapath context emptied.
    regs::ErrorCode flush_buffers();

    const IpConfig& m_cfg;
    sc_core::sc_time m_clock;
    TraceScheduler& m_tracer;
    Ports m_ports;
    Signals m_sig;
    regs::JobRegs m_job;
    proto::PayloadPool m_pool;

    // Job control.
    regs::ErrorCode m_error = regs::ErrorCode::None;
    bool m_abort = false;
    unsigned m_stages_running = 0;
    sc_core::sc_event m_go_ev, m_stage_done_ev;
    std::vector<std::unique_ptr<Lane>> m_lanes;  // one per compute unit

    // The front stage's group of Q rows read at once: rows [m_q_first, m_q_first + m_q_count).
    std::vector<int8_t> m_q_rows;
    uint32_t m_q_first = 0, m_q_count = 0;
    // Groups of Q rows read ahead (controller.q_groups_ahead), oldest first, each on a reader
    // thread; the front stage takes the one that holds its next query, or waits for it.
    struct QGroup {
        uint32_t head = 0, first = 0, count = 0;
        std::vector<int8_t> rows;
        sc_core::sc_time start;
        regs::ErrorCode e = regs::ErrorCode::None;
        bool done = false;
        sc_core::sc_event ev;
    };
    using QGroupPtr = std::shared_ptr<QGroup>;
    std::deque<QGroupPtr> m_q_ahead, m_q_tasks;  // issued; not yet taken by a reader
    sc_core::sc_event m_q_task_ev;
    core::StatGroup m_q_reader_group;  // not reported: a read-ahead's time is the front's wait
    StageTimes m_q_reader_times;

    // Accounting.
    JobCounts m_counts;
    std::vector<HeadRecord> m_heads;
    bool m_record_queries = false;
    std::vector<QueryRecord> m_query_log;
    std::vector<std::vector<uint32_t>> m_record_index;  // [head][query] -> m_query_log index + 1
    sc_core::sc_time m_job_start;
    std::vector<sc_core::sc_time> m_head_start;
    std::vector<uint32_t> m_head_left;  // queries of the head not yet accounted
    std::vector<uint32_t> m_k_left;     // read-back: entries of the head whose K is not loaded
    std::vector<uint32_t> m_passes;     // sprint: crossbar passes of each head
    sc_core::sc_event m_k_fetched_ev;
    sc_core::sc_event m_shares_ev;        // a share of a key-interleaved query reached an exchange
    std::vector<uint32_t> m_head_record;  // head -> index in m_heads (~0u: none yet)
    std::vector<std::pair<uint64_t, uint64_t>> m_head_rows;  // K, V rows fetched per head
    KeptObserver m_observer;
    core::Counter m_heads_done;
    core::HeadCounter m_queries_done;
    core::Counter m_visible_pairs, m_kept_pairs;
    StageTimes m_front_times;
    Stage m_front;
    // Front -> mask stage: queries evaluated, their masks latched in the comparator bank (two
    // fewer than the bank's latches: one being read out, one just evaluated).
    Channel<QueryPtr> m_evaluated;
    std::vector<uint8_t> m_mask;  // the read-out buffer (mask stage, or front_passes alone)
    // Queries evaluated whose masks the mask stage has not read yet: a head scored in passes
    // reads its own masks, so it starts only when the bank holds no other.
    uint32_t m_masks_unread = 0;
    sc_core::sc_event m_mask_read_ev;
    StageTimes m_mask_times;
    Stage m_mask_stage;
};

}  // namespace sprint
