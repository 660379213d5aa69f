// The results database of a sweep (SQLite, one file): the spec it belongs to, one row per design
// point (its options, the full effective configuration, tool version and commit, status and
// message) and the point's summary figures. Every finished point is committed on its own, so a
// sweep killed at any moment keeps what finished; docs/sweeps.md lists the tables.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "platforms/sweep/figures.h"
#include "platforms/sweep/spec.h"

struct sqlite3;

namespace sprint::sweep {

// Point statuses.
inline const char* const kPending = "pending";
inline const char* const kOk = "ok";
inline const char* const kFailed = "failed";
inline const char* const kDoesNotFit = "does-not-fit";

struct PointResult {
    std::string status, message, config, version, commit, host;
    double seconds = 0;  // wall time of the point's process
    std::vector<Figure> figures;
    std::string settings = "{}";  // every option and parameter by name (JSON object)
};

struct Row {
    long long id = 0;
    std::string key, workload, status, message, config, version, commit, host, finished;
    double seconds = 0;
    Options axis_values;
    std::map<std::string, std::string> settings;  // every option and parameter by name
    std::map<std::string, Figure> figures;
};

// How a command uses the database: the commands that only read (status, report, export, plot,
// config, a merge's task databases) open it read-only, so an archived sweep in a folder nobody
// may write can still be read; the others open it read-write and refuse a read-only one.
enum class Access { ReadWrite, ReadOnly };

class Database {
  public:
    // ReadWrite opens or creates the file; ReadOnly opens an existing sweep database and never
    // writes to it (where the folder is writable, SQLite may leave its empty -wal and -shm files
    // beside it). Throws std::runtime_error naming the file and why it cannot be used.
    explicit Database(const std::string& path, Access mode = Access::ReadWrite);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    const std::string& path() const { return m_path; }
    // Ties the database to a spec: stored if the database is new. A database of a sweep of
    // another name is refused with a message, so results of two sweeps never mix. An edited spec
    // of the same name (an axis extended, a workload added, a default written out) replaces the
    // stored text, the earlier one kept in `spec_history`; its points are matched by key (their
    // effective settings), so only new ones run. Returns true when the spec was edited.
    bool bind(const Spec& spec);
    // The keys of a database made before points were keyed by their effective settings are
    // their options: `rekey` computes the new key from a point's options; points that then have
    // equal keys are merged (the finished one, the ok one first, is kept). Does nothing to a
    // database already keyed by settings.
    void upgrade_keys(const std::function<std::string(const Options&)>& rekey);
    // Adds the points not yet present (by key) as pending: a new database numbers them by their
    // index in the expansion, a grown one after its last point. Points already present take the
    // spec's workload name and axis values (an axis added to the spec shows on them too).
    void add_points(const std::vector<Point>& points);
    // "version (git commit)" of the sprint-sim that ran each finished point, by key.
    std::map<std::string, std::string> made_by() const;
    // Makes these points pending again, their figures cleared (rerun after a simulator change).
    void make_pending(const std::vector<std::string>& keys);
    // Status by key.
    std::map<std::string, std::string> statuses() const;
    // One point's result, in its own transaction.
    void record(const std::string& key, const PointResult& r);
    // Every point, in order of id, with its figures.
    std::vector<Row> rows() const;
    std::vector<std::string> axis_names() const;
    // The columns of the axes: each option an axis sets (an axis "a, b" gives a and b), in the
    // spec's order, with the axis that sets it.
    struct AxisColumn {
        std::string param, axis;
    };
    std::vector<AxisColumn> axis_columns() const;
    std::optional<std::string> meta(const std::string& key) const;
    // Copies every finished point of another database of the same spec into this one (a point
    // already finished here is replaced only by an ok one); returns the number copied.
    std::size_t merge_from(const std::string& other);

  private:
    void open(int flags, const std::string& params);
    void open_read_write();
    void open_read_only();
    void exec(const std::string& sql);
    void insert_new_points();
    void refresh_view();
    void set_meta(const std::string& key, const std::string& value);
    std::string m_path;
    sqlite3* m_db = nullptr;
};

}  // namespace sprint::sweep
