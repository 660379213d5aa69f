#include "platforms/sweep/db.h"

#include <sqlite3.h>
#include <unistd.h>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "platforms/sim/version.h"

namespace sprint::sweep {

namespace {

// meta 'identity': how points are keyed (their effective settings; before, their options).
const char* const kIdentity = "settings";

const char* const kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS points (
    id INTEGER PRIMARY KEY,  -- its index in the expansion that added it (new databases)
    key TEXT NOT NULL UNIQUE,  -- its effective settings, sorted: the point's identity
    workload TEXT NOT NULL,
    axis_values TEXT NOT NULL,
    options TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'ok', 'failed', 'does-not-fit')),
    message TEXT NOT NULL DEFAULT '',
    config TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL DEFAULT '{}',
    version TEXT NOT NULL DEFAULT '',
    git_commit TEXT NOT NULL DEFAULT '',
    host TEXT NOT NULL DEFAULT '',
    finished TEXT NOT NULL DEFAULT '',
    seconds REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS figures (
    point INTEGER NOT NULL REFERENCES points(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value REAL,
    text TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (point, name));
CREATE TABLE IF NOT EXISTS figure_info (name TEXT PRIMARY KEY, unit TEXT, description TEXT);
)sql";

class Stmt {
  public:
    Stmt(sqlite3* db, const std::string& sql) : m_db(db) {
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &m_s, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string("SQL error: ") + sqlite3_errmsg(db));
    }
    ~Stmt() { sqlite3_finalize(m_s); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    Stmt& bind(int i, const std::string& v) {
        sqlite3_bind_text(m_s, i, v.c_str(), int(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt& bind(int i, double v) {
        sqlite3_bind_double(m_s, i, v);
        return *this;
    }
    Stmt& bind(int i, long long v) {
        sqlite3_bind_int64(m_s, i, v);
        return *this;
    }
    Stmt& bind_null(int i) {
        sqlite3_bind_null(m_s, i);
        return *this;
    }
    // True while a row is available.
    bool step() {
        const int rc = sqlite3_step(m_s);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw std::runtime_error(std::string("SQL error: ") + sqlite3_errmsg(m_db));
    }
    void run() {
        step();
        sqlite3_reset(m_s);
        sqlite3_clear_bindings(m_s);
    }
    std::string text(int c) const {
        const auto* p = sqlite3_column_text(m_s, c);
        return p ? reinterpret_cast<const char*>(p) : "";
    }
    double real(int c) const { return sqlite3_column_double(m_s, c); }
    long long integer(int c) const { return sqlite3_column_int64(m_s, c); }
    bool null(int c) const { return sqlite3_column_type(m_s, c) == SQLITE_NULL; }
    // Ready to step again from the first row (bindings kept).
    void reset() { sqlite3_reset(m_s); }

  private:
    sqlite3* m_db;
    sqlite3_stmt* m_s = nullptr;
};

bool exists(const std::string& path) {
    return access(path.c_str(), F_OK) == 0;
}

std::string folder_of(const std::string& path) {
    const std::string parent = std::filesystem::path(path).parent_path().string();
    return parent.empty() ? "." : parent;
}

// A file: URI naming `path`, for a connection opened with SQLITE_OPEN_URI (which ATTACH needs to
// take a URI too). Every byte but the unreserved ones and '/' is percent-encoded, so '?', '#' and
// '%' in a file name stay part of it; the path is made absolute, so a name that starts with "//"
// is not read as an authority.
std::string file_uri(const std::string& path, const std::string& query) {
    std::error_code ec;
    std::filesystem::path abs = std::filesystem::absolute(path, ec);
    if (ec) abs = path;
    const std::string p = abs.string();
    std::string out = abs.is_absolute() ? "file://" : "file:";
    const char* const hex = "0123456789ABCDEF";
    for (const char ch : p) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || std::strchr("-._~/", c))
            out += ch;
        else
            out += {'%', hex[c >> 4], hex[c & 15]};
    }
    return query.empty() ? out : out + "?" + query;
}

// The URI parameters that open `path` read-only. The sweep keeps its database in WAL mode, and
// SQLite reads a WAL database read-only only when its -wal and -shm files exist, or can be
// created beside it, or when it is opened with immutable=1 (sqlite.org/wal.html, "Read-Only
// Databases"). While a sweep writes, both files exist; the last connection to close folds the
// log into the database and removes them, so a finished sweep in a read-only folder has neither,
// and mode=ro alone fails there ("attempt to write a readonly database" with SQLite 3.40; the
// old read-write open said "unable to open database file"). immutable=1 tells SQLite the file
// cannot change, so it takes no locks and needs no -shm. That is true here only when the folder
// is not writable (nobody can create the -wal a writer needs; the one exception, a user who may
// write the folder starting a sweep on the file while we read it, is not guarded) and no -wal or
// -journal exists (no writer has it open and no commit is left outside the database file). A
// -wal without its -shm in such a folder cannot be read without losing what it holds: that is
// refused with what to do.
std::string read_only_params(const std::string& path) {
    const std::string dir = folder_of(path);
    if (access(dir.c_str(), W_OK) == 0) return "mode=ro";
    const bool wal = exists(path + "-wal");
    if (!wal && !exists(path + "-journal")) return "mode=ro&immutable=1";
    if (wal && exists(path + "-shm")) return "mode=ro";
    throw std::runtime_error(
        "results database '" + path + "' cannot be read: its write-ahead log '" + path +
        (wal ? "-wal" : "-journal") +
        "' may hold results not yet in the database (a sweep stopped before it closed the file), "
        "and SQLite cannot read it in the read-only folder '" +
        dir +
        "': make the folder writable, or copy the database with that file to a writable folder "
        "and read the copy");
}

}  // namespace

Database::Database(const std::string& path, Access mode) : m_path(path) {
    if (mode == Access::ReadOnly)
        open_read_only();
    else
        open_read_write();
}

void Database::open(int flags, const std::string& params) {
    if (sqlite3_open_v2(file_uri(m_path, params).c_str(), &m_db, flags | SQLITE_OPEN_URI,
                        nullptr) != SQLITE_OK) {
        const std::string why = m_db ? sqlite3_errmsg(m_db) : "out of memory";
        sqlite3_close(m_db);
        m_db = nullptr;
        throw std::runtime_error("results database '" + m_path + "' cannot be opened: " + why);
    }
    sqlite3_busy_timeout(m_db, 10000);
}

void Database::open_read_only() {
    if (::access(m_path.c_str(), R_OK) != 0)
        throw std::runtime_error("results database '" + m_path +
                                 "' cannot be read: " + std::strerror(errno));
    open(SQLITE_OPEN_READONLY, read_only_params(m_path));
    try {
        // The first read opens the file for real: a file that is no SQLite database, or not a
        // sweep's, fails here rather than in the middle of a report.
        Stmt q(m_db,
               "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('meta', "
               "'points', 'figures')");
        q.step();
        if (q.integer(0) != 3) throw std::runtime_error("it holds no sweep results");
    } catch (const std::exception& e) {
        sqlite3_close(m_db);
        m_db = nullptr;
        throw std::runtime_error("results database '" + m_path + "' cannot be read: " + e.what());
    }
}

void Database::open_read_write() {
    // Said before SQLite would fail on the first write ("attempt to write a readonly database",
    // "unable to open database file"): the file, and the folder where SQLite keeps its -wal and
    // -shm files, must be writable.
    if (exists(m_path) && ::access(m_path.c_str(), W_OK) != 0)
        throw std::runtime_error("results database '" + m_path + "' is read-only (" +
                                 std::strerror(errno) +
                                 "); this command writes to it (status, report, export, plot and "
                                 "config only read it)");
    const std::string dir = folder_of(m_path);
    if (::access(dir.c_str(), W_OK) != 0)
        throw std::runtime_error("results database '" + m_path + "' cannot be written: folder '" +
                                 dir + "': " + std::strerror(errno) +
                                 " (SQLite keeps the database's -wal and -shm files beside it)");
    open(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "");
    if (sqlite3_db_readonly(m_db, "main") == 1) {
        sqlite3_close(m_db);
        m_db = nullptr;
        throw std::runtime_error("results database '" + m_path +
                                 "' can only be opened read-only; this command writes to it");
    }
    try {
        // WAL: a reader (report, export) never blocks the sweep writing results.
        exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
        exec(kSchema);
        Stmt q(m_db, "INSERT OR REPLACE INTO figure_info VALUES (?, ?, ?)");
        exec("BEGIN");
        for (const auto& f : figure_infos())
            q.bind(1, f.name).bind(2, f.unit).bind(3, f.description).run();
        exec("COMMIT");
    } catch (const std::exception& e) {
        sqlite3_close(m_db);
        m_db = nullptr;
        throw std::runtime_error("results database '" + m_path + "': " + e.what());
    }
}

Database::~Database() {
    sqlite3_close(m_db);
}

void Database::exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        const std::string why = err ? err : "unknown error";
        sqlite3_free(err);
        throw std::runtime_error("SQL error: " + why);
    }
}

void Database::set_meta(const std::string& key, const std::string& value) {
    Stmt(m_db, "INSERT OR REPLACE INTO meta VALUES (?, ?)").bind(1, key).bind(2, value).run();
}

std::optional<std::string> Database::meta(const std::string& key) const {
    Stmt q(m_db, "SELECT value FROM meta WHERE key = ?");
    q.bind(1, key);
    if (!q.step()) return std::nullopt;
    return q.text(0);
}

bool Database::bind(const Spec& spec) {
    const auto name = meta("spec_name"), text = meta("spec_text");
    nlohmann::json axes = nlohmann::json::array();
    nlohmann::json params = nlohmann::json::object();
    if (const auto p = meta("axis_params")) params = nlohmann::json::parse(*p);
    for (const auto& a : spec.axes) {
        axes.push_back(a.name);
        params[a.name] = a.params;
    }
    if (name) {
        if (*name != spec.name)
            throw std::runtime_error("results database '" + m_path + "' holds sweep '" + *name +
                                     "', not '" + spec.name +
                                     "'; use another --db for this spec (or delete the file to "
                                     "start over)");
        if (text && *text == spec.text) return false;
        // Axes the spec no longer has stay listed after its own: earlier points still have them.
        for (const auto& a : axis_names())
            if (std::find(axes.begin(), axes.end(), a) == axes.end()) axes.push_back(a);
        nlohmann::json history = nlohmann::json::array();
        if (const auto h = meta("spec_history")) history = nlohmann::json::parse(*h);
        history.push_back({{"text", text.value_or("")}, {"replaced", platform::utc_timestamp()}});
        exec("BEGIN");
        set_meta("spec_text", spec.text);
        set_meta("axes", axes.dump());
        set_meta("axis_params", params.dump());
        set_meta("spec_history", history.dump());
        exec("COMMIT");
        return true;
    }
    exec("BEGIN");
    set_meta("spec_name", spec.name);
    set_meta("spec_text", spec.text);
    set_meta("axes", axes.dump());
    set_meta("axis_params", params.dump());
    set_meta("created", platform::utc_timestamp());
    set_meta("identity", kIdentity);
    exec("COMMIT");
    return false;
}

void Database::upgrade_keys(const std::function<std::string(const Options&)>& rekey) {
    if (meta("identity") == std::optional<std::string>(kIdentity)) return;
    struct Old {
        long long id;
        std::string key;
    };
    std::vector<Old> rows;
    {
        // The ok points first, then the other finished ones: of points that become one, the
        // first keeps its key.
        Stmt q(m_db,
               "SELECT id, options FROM points ORDER BY status = 'ok' DESC, "
               "status != 'pending' DESC, id");
        while (q.step()) {
            Options opts;
            for (const auto& o : nlohmann::json::parse(q.text(1)))
                opts.emplace_back(o.at(0).get<std::string>(), o.at(1).get<std::string>());
            rows.push_back({q.integer(0), rekey(opts)});
        }
    }
    exec("BEGIN IMMEDIATE");
    try {
        // Every key out of the way first, so no new key meets an old one still in place.
        exec("UPDATE points SET key = '~' || id");
        Stmt up(m_db, "UPDATE points SET key = ? WHERE id = ?");
        Stmt del(m_db, "DELETE FROM points WHERE id = ?");
        std::set<std::string> seen;
        for (const Old& r : rows) {
            if (seen.insert(r.key).second)
                up.bind(1, r.key).bind(2, r.id).run();
            else
                del.bind(1, r.id).run();
        }
        set_meta("identity", kIdentity);
        exec("COMMIT");
    } catch (...) {
        exec("ROLLBACK");
        throw;
    }
}

void Database::add_points(const std::vector<Point>& points) {
    long long next = 0;
    bool fresh = true;
    {
        Stmt q(m_db, "SELECT count(*), coalesce(max(id), -1) + 1 FROM points");
        q.step();
        fresh = q.integer(0) == 0;
        next = q.integer(1);
    }
    // A new database numbers its points by their index in the expansion: the same in every Slurm
    // task's database. A grown one numbers its new points after the last one.
    Stmt ins(m_db,
             "INSERT OR IGNORE INTO points (id, key, workload, axis_values, options) "
             "VALUES (?, ?, ?, ?, ?)");
    Stmt up(m_db,
            "UPDATE points SET workload = ?, axis_values = json_patch(axis_values, ?), "
            "options = ? WHERE key = ?");
    exec("BEGIN");
    for (const Point& p : points) {
        nlohmann::json av = nlohmann::json::object(), opts = nlohmann::json::array();
        for (const auto& [n, v] : p.axis_values) av[n] = v;
        for (const auto& [n, v] : p.options) opts.push_back({n, v});
        const long long id = fresh ? static_cast<long long>(p.index) : next;
        ins.bind(1, id).bind(2, p.key).bind(3, p.workload);
        ins.bind(4, av.dump()).bind(5, opts.dump()).run();
        if (sqlite3_changes(m_db) == 1) {
            next += fresh ? 0 : 1;
            continue;
        }
        up.bind(1, p.workload).bind(2, av.dump()).bind(3, opts.dump()).bind(4, p.key).run();
    }
    exec("COMMIT");
    refresh_view();
}

std::map<std::string, std::string> Database::made_by() const {
    std::map<std::string, std::string> out;
    Stmt q(m_db, "SELECT key, version, git_commit FROM points WHERE status != 'pending'");
    while (q.step()) out[q.text(0)] = q.text(1) + " (git " + q.text(2) + ")";
    return out;
}

void Database::make_pending(const std::vector<std::string>& keys) {
    Stmt up(m_db,
            "UPDATE points SET status = 'pending', message = '', finished = '', seconds = 0 "
            "WHERE key = ?");
    Stmt del(m_db, "DELETE FROM figures WHERE point = (SELECT id FROM points WHERE key = ?)");
    exec("BEGIN IMMEDIATE");
    for (const auto& k : keys) {
        up.bind(1, k).run();
        del.bind(1, k).run();
    }
    exec("COMMIT");
}

std::map<std::string, std::string> Database::statuses() const {
    std::map<std::string, std::string> out;
    Stmt q(m_db, "SELECT key, status FROM points");
    while (q.step()) out[q.text(0)] = q.text(1);
    return out;
}

void Database::record(const std::string& key, const PointResult& r) {
    exec("BEGIN IMMEDIATE");
    try {
        Stmt up(m_db,
                "UPDATE points SET status = ?, message = ?, config = ?, version = ?, "
                "git_commit = ?, host = ?, finished = ?, seconds = ?, settings = ? WHERE key = ?");
        up.bind(1, r.status).bind(2, r.message).bind(3, r.config).bind(4, r.version);
        up.bind(5, r.commit)
            .bind(6, r.host)
            .bind(7, platform::utc_timestamp())
            .bind(8, r.seconds)
            .bind(9, r.settings)
            .bind(10, key);
        up.run();
        if (sqlite3_changes(m_db) != 1) throw std::runtime_error("no point has this key");
        Stmt id(m_db, "SELECT id FROM points WHERE key = ?");
        id.bind(1, key);
        id.step();
        const long long pid = id.integer(0);
        Stmt del(m_db, "DELETE FROM figures WHERE point = ?");
        del.bind(1, pid).run();
        Stmt ins(m_db, "INSERT INTO figures (point, name, value, text) VALUES (?, ?, ?, ?)");
        for (const Figure& f : r.figures) {
            ins.bind(1, pid).bind(2, f.name);
            if (f.value)
                ins.bind(3, *f.value);
            else
                ins.bind_null(3);
            ins.bind(4, f.text).run();
        }
        exec("COMMIT");
    } catch (...) {
        exec("ROLLBACK");
        throw;
    }
}

std::vector<std::string> Database::axis_names() const {
    std::vector<std::string> out;
    if (const auto a = meta("axes")) {
        const nlohmann::json names = nlohmann::json::parse(*a);
        for (const auto& n : names) out.push_back(n.get<std::string>());
    }
    return out;
}

std::vector<Database::AxisColumn> Database::axis_columns() const {
    nlohmann::json params = nlohmann::json::object();
    if (const auto p = meta("axis_params")) params = nlohmann::json::parse(*p);
    std::vector<AxisColumn> out;
    std::set<std::string> seen;
    for (const auto& a : axis_names()) {
        std::vector<std::string> ps = {a};  // a database from before axis_params: the name
        if (params.contains(a)) ps = params[a].get<std::vector<std::string>>();
        for (const auto& p : ps)
            if (seen.insert(p).second) out.push_back({p, a});
    }
    return out;
}

namespace {

// A name in SQL: double-quoted, quotes doubled.
std::string sql_name(const std::string& n) {
    std::string out = "\"";
    for (const char c : n) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}
// A JSON path of one key: $."key" (quotes in the key escaped for JSON).
std::string json_key(const std::string& k) {
    std::string path = "$." + nlohmann::json(k).dump(), out = "'";
    for (const char c : path) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

}  // namespace

// The `results` view: one row per point, one column per axis option (its value in the spec, or
// for a point from before the axis existed its effective setting) and per figure, numbers as
// numbers. Axis columns whose values are all numbers are cast (INTEGER when all are whole), so
// pandas and SQL read them as numbers. Rebuilt when points arrive (a value may change the type).
void Database::refresh_view() {
    std::string cols =
        "p.id AS id, p.workload AS workload, p.status AS status, p.message AS message";
    for (const auto& c : axis_columns()) {
        const std::string expr = "coalesce(json_extract(p.axis_values, " + json_key(c.axis) +
                                 "), json_extract(p.settings, " + json_key(c.param) + "))";
        bool number = true, whole = true;
        Stmt q(m_db, "SELECT DISTINCT " + expr + " FROM points p");
        while (q.step()) {
            if (q.null(0)) continue;
            const Value v = Value::of(q.text(0));
            if (!v.number || v.text == "true" || v.text == "false")
                number = whole = false;
            else if (*v.number != std::floor(*v.number))
                whole = false;
        }
        const std::string typed =
            number ? "CAST(" + expr + " AS " + (whole ? "INTEGER" : "REAL") + ")" : expr;
        cols += ", " + typed + " AS " + sql_name(c.param);
    }
    for (const auto& f : figure_infos())
        cols += ", (SELECT " + std::string(f.text ? "text" : "value") +
                " FROM figures f WHERE f.point = p.id AND f.name = '" + f.name + "') AS " +
                sql_name(f.name);
    cols +=
        ", p.seconds AS seconds, p.version AS version, p.git_commit AS git_commit, "
        "p.host AS host, p.finished AS finished";
    exec("BEGIN IMMEDIATE; DROP VIEW IF EXISTS results; CREATE VIEW results AS SELECT " + cols +
         " FROM points p ORDER BY p.id; COMMIT");
}

std::vector<Row> Database::rows() const {
    std::vector<Row> out;
    std::map<long long, std::size_t> at;
    Stmt q(m_db,
           "SELECT id, key, workload, axis_values, status, message, config, version, git_commit, "
           "host, finished, seconds, settings FROM points ORDER BY id");
    while (q.step()) {
        Row r;
        r.id = q.integer(0);
        r.key = q.text(1);
        r.workload = q.text(2);
        const nlohmann::json av = nlohmann::json::parse(q.text(3));
        for (const auto& [n, v] : av.items()) r.axis_values.emplace_back(n, v.get<std::string>());
        r.status = q.text(4);
        r.message = q.text(5);
        r.config = q.text(6);
        r.version = q.text(7);
        r.commit = q.text(8);
        r.host = q.text(9);
        r.finished = q.text(10);
        r.seconds = q.real(11);
        const nlohmann::json settings = nlohmann::json::parse(q.text(12));
        for (const auto& [n, v] : settings.items()) r.settings[n] = v.get<std::string>();
        at[r.id] = out.size();
        out.push_back(std::move(r));
    }
    // nlohmann's object sorts its keys: the axes are put back in the spec's order.
    const std::vector<std::string> axes = axis_names();
    for (Row& r : out) {
        Options ordered;
        for (const auto& a : axes)
            for (const auto& [n, v] : r.axis_values)
                if (n == a) ordered.emplace_back(n, v);
        r.axis_values = ordered;
    }
    Stmt f(m_db, "SELECT point, name, value, text FROM figures");
    while (f.step()) {
        auto it = at.find(f.integer(0));
        if (it == at.end()) continue;
        Figure fig{f.text(1), f.null(2) ? std::nullopt : std::optional<double>(f.real(2)),
                   f.text(3)};
        out[it->second].figures[fig.name] = fig;
    }
    return out;
}

// The finished points of the attached database `src` that this one lacks (by key), each with
// its id there if that is free here (a merge into a new database keeps the expansion's
// numbering), else after the last point.
void Database::insert_new_points() {
    Stmt q(
        m_db,
        "SELECT id, key, workload, axis_values, options FROM src.points s WHERE status != "
        "'pending' AND NOT EXISTS (SELECT 1 FROM main.points m WHERE m.key = s.key) ORDER BY id");
    Stmt taken(m_db, "SELECT count(*) FROM main.points WHERE id = ?");
    Stmt ins(m_db,
             "INSERT INTO main.points (id, key, workload, axis_values, options) "
             "VALUES (?, ?, ?, ?, ?)");
    while (q.step()) {
        long long id = q.integer(0);
        taken.bind(1, id);
        taken.step();
        const bool used = taken.integer(0) > 0;
        taken.reset();
        if (used) {
            Stmt last(m_db, "SELECT coalesce(max(id), -1) + 1 FROM main.points");
            last.step();
            id = last.integer(0);
        }
        ins.bind(1, id).bind(2, q.text(1)).bind(3, q.text(2)).bind(4, q.text(3));
        ins.bind(5, q.text(4)).run();
    }
}

std::size_t Database::merge_from(const std::string& other) {
    {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(other, ec))
            throw std::runtime_error("results database '" + other + "' does not exist");
        Database src(other, Access::ReadOnly);
        const auto name = src.meta("spec_name"), text = src.meta("spec_text");
        if (!name) throw std::runtime_error("'" + other + "' holds no sweep");
        const auto mine = meta("spec_name");
        if (src.meta("identity") != std::optional<std::string>(kIdentity))
            throw std::runtime_error("'" + other +
                                     "' was made by an earlier sprint-sweep that keyed points by "
                                     "their options; `sprint-sweep run SPEC --db " +
                                     other + "` updates it (and runs what it lacks)");
        if (!mine) {
            exec("BEGIN");
            for (const char* k : {"spec_name", "spec_text", "axes", "axis_params", "created",
                                  "identity", "spec_history"})
                if (const auto v = src.meta(k)) set_meta(k, *v);
            exec("COMMIT");
        } else if (*mine != *name) {
            throw std::runtime_error("'" + other + "' holds sweep '" + *name +
                                     "', not the spec of '" + m_path + "' ('" + *mine + "')");
        }
        // Points are matched by their settings, so a task database of an edited spec of the same
        // sweep merges too; this database keeps its own spec text.
        (void)text;
    }
    // Read-only as above (the connection takes URIs): a task database in a folder this user may
    // not write is collected as it is.
    Stmt(m_db, "ATTACH DATABASE ? AS src").bind(1, file_uri(other, read_only_params(other))).run();
    long long copied = 0;
    try {
        exec("BEGIN IMMEDIATE");
        // A finished point there fills a pending one here; an ok one also replaces a failure.
        insert_new_points();
        exec(R"sql(
CREATE TEMP TABLE merge_todo AS
    SELECT s.id AS sid, m.id AS mid FROM src.points s JOIN main.points m ON m.key = s.key
    WHERE s.status != 'pending' AND (m.status = 'pending' OR (s.status = 'ok' AND m.status != 'ok'));
UPDATE main.points SET (status, message, config, version, git_commit, host, finished, seconds,
                        settings) =
    (SELECT s.status, s.message, s.config, s.version, s.git_commit, s.host, s.finished, s.seconds,
            s.settings
     FROM src.points s JOIN merge_todo t ON t.sid = s.id WHERE t.mid = main.points.id)
    WHERE id IN (SELECT mid FROM merge_todo);
DELETE FROM main.figures WHERE point IN (SELECT mid FROM merge_todo);
INSERT INTO main.figures (point, name, value, text)
    SELECT t.mid, f.name, f.value, f.text FROM src.figures f JOIN merge_todo t ON f.point = t.sid;
)sql");
        {
            Stmt n(m_db, "SELECT count(*) FROM merge_todo");
            n.step();
            copied = n.integer(0);
        }
        exec("DROP TABLE merge_todo; COMMIT");
    } catch (...) {
        sqlite3_exec(m_db, "ROLLBACK; DROP TABLE IF EXISTS merge_todo", nullptr, nullptr, nullptr);
        exec("DETACH DATABASE src");
        throw;
    }
    exec("DETACH DATABASE src");
    refresh_view();
    return std::size_t(copied);
}

}  // namespace sprint::sweep
