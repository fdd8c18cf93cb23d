import Foundation
import GRDB
import WardenCore

/// Why the store cannot be used, in words an operator can act on.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var problem: String
    /// What the file is: `database`, `audit key`, `audit head`.
    public var file = "database"
    public var description: String { "\(file) \(path): \(problem)" }

    init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public init(path: String, problem: String, file: String) {
        self.path = path
        self.problem = problem
        self.file = file
    }
}

/// Warden's persistent state: one SQLite file in WAL mode (readers never block the writer),
/// opened through GRDB. All methods are safe to call from any thread; writes are serialised by GRDB
/// and each call is one transaction, so an event batch or a grant decision lands whole or not at all.
public final class Store: Sendable {
    let pool: DatabasePool
    public let path: String

    /// Opens (creating if needed, owner-only) and migrates the database at `path`.
    public init(path: String) throws(StoreError) {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        // SQLite creates a database 0644, and its -wal and -shm with the database's own mode: create
        // the file owner-only first (and tighten one an older Warden left readable), so all three
        // hold the audit chain and the traffic for the owner alone.
        PrivateFile.prepare(path)
        for sidecar in ["-wal", "-shm", "-journal"] { PrivateFile.tighten(path + sidecar) }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Self.migrator.migrate(pool)
            // A cheap read of every table's root page catches a file that is not (or no longer) a database.
            _ = try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
        } catch let error as DatabaseError {
            throw StoreError(path: path, problem: Self.explain(error))
        } catch {
            throw StoreError(path: path, problem: "\(error)")
        }
    }

    static func explain(_ error: DatabaseError) -> String {
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return "is corrupt or not a SQLite database (\(error.message ?? "")). Move it aside (the hub creates a new one) or restore it from a backup."
        case .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM:
            return "cannot be opened for writing (\(error.message ?? "")). Check the file's and its directory's permissions."
        case .SQLITE_FULL:
            return "the disk is full."
        default:
            return error.description
        }
    }

    /// Named, append-only migrations: never edit a shipped one; add the next.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-core") { db in
            try db.execute(sql: """
                CREATE TABLE sessions (
                  id TEXT PRIMARY KEY, server TEXT NOT NULL, client_name TEXT, client_version TEXT,
                  server_name TEXT, server_version TEXT, protocol_version TEXT, instructions TEXT,
                  warden_pid INTEGER, server_pid INTEGER, started_at REAL NOT NULL, last_activity REAL NOT NULL,
                  ended_at REAL, end_status TEXT, calls INTEGER NOT NULL DEFAULT 0, denials INTEGER NOT NULL DEFAULT 0,
                  risk INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE events (
                  id TEXT PRIMARY KEY, session TEXT NOT NULL, server TEXT NOT NULL, kind TEXT NOT NULL,
                  time REAL NOT NULL, fields TEXT NOT NULL, received_at REAL NOT NULL);
                CREATE INDEX events_time ON events(time);
                CREATE INDEX events_session ON events(session, time);
                CREATE TABLE tools (
                  server TEXT NOT NULL, name TEXT NOT NULL, pin TEXT NOT NULL, definition TEXT NOT NULL,
                  verdict TEXT NOT NULL, score INTEGER NOT NULL, findings TEXT NOT NULL,
                  review_state TEXT NOT NULL, trusted_pin TEXT, trusted_definition TEXT, quarantine_reason TEXT,
                  first_seen REAL NOT NULL, last_seen REAL NOT NULL, PRIMARY KEY (server, name));
                CREATE TABLE grants (
                  id TEXT PRIMARY KEY, session TEXT NOT NULL, client TEXT NOT NULL, server TEXT NOT NULL, tool TEXT NOT NULL,
                  arguments TEXT NOT NULL, argument_digest TEXT NOT NULL, rule TEXT NOT NULL, rule_reason TEXT,
                  requested_at REAL NOT NULL, deadline REAL NOT NULL, max_ttl REAL NOT NULL,
                  state TEXT NOT NULL, scope TEXT, ttl REAL, decided_at REAL, decided_by TEXT, decision_reason TEXT,
                  expires_at REAL, ended_at REAL, uses INTEGER NOT NULL DEFAULT 0);
                CREATE INDEX grants_state ON grants(state);
                CREATE TABLE grant_transitions (
                  grant_id TEXT NOT NULL, time REAL NOT NULL, from_state TEXT, to_state TEXT NOT NULL,
                  actor TEXT NOT NULL, reason TEXT);
                CREATE TABLE alerts (id TEXT PRIMARY KEY, created_at REAL NOT NULL, updated_at REAL NOT NULL, data TEXT NOT NULL);
                CREATE TABLE incidents (id TEXT PRIMARY KEY, created_at REAL NOT NULL, updated_at REAL NOT NULL, data TEXT NOT NULL);
                CREATE TABLE playbook_runs (id TEXT PRIMARY KEY, created_at REAL NOT NULL, updated_at REAL NOT NULL, data TEXT NOT NULL);
                CREATE TABLE audit (
                  seq INTEGER PRIMARY KEY, time REAL NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
                  subject TEXT NOT NULL, details TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
                CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                """)
        }
        m.registerMigration("v2-baselines") { db in
            // Behaviour baselines the hub learned, so a restart does not start a new warm-up.
            try db.execute(sql: "CREATE TABLE baselines (id TEXT PRIMARY KEY, updated_at REAL NOT NULL, data TEXT NOT NULL)")
        }
        m.registerMigration("v3-isolation") { db in
            // What isolation each session's server ran under (JSON of `Isolation`), shown on its row.
            try db.execute(sql: "ALTER TABLE sessions ADD COLUMN isolation TEXT")
        }
        m.registerMigration("v4-grant-calls") { db in
            // The calls a grant let through (`grants.show`), found without reading every event.
            try db.execute(sql: "CREATE INDEX events_by_grant ON events(json_extract(fields, '$.grantId')) WHERE kind = 'call.decided'")
        }
        m.registerMigration("v5-alert-keys") { db in
            // Every raised alert looks up the alerts of its key: without an index that is a scan of
            // them all, and a flood of distinct keys slowed the hub quadratically.
            try db.execute(sql: "CREATE INDEX alerts_by_key ON alerts(json_extract(data, '$.key'))")
        }
        return m
    }

    /// Runs `body` in one write transaction.
    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.write(body)
        } catch let error as DatabaseError {
            throw StoreError(path: path, problem: Self.explain(error))
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(path: path, problem: "\(error)")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try pool.read(body)
        } catch let error as DatabaseError {
            throw StoreError(path: path, problem: Self.explain(error))
        } catch {
            throw StoreError(path: path, problem: "\(error)")
        }
    }
}

/// JSON text ⇄ `JSONObject` for columns that hold JSON.
enum JSONColumn {
    static func text(_ object: JSONObject) -> String { JSONWriter.compact(.object(object)) }
    static func text(_ value: JSONValue) -> String { JSONWriter.compact(value) }
    static func object(_ text: String?) -> JSONObject { text.flatMap { try? JSONParser.parse($0).objectValue } ?? JSONObject() }
    static func value(_ text: String?) -> JSONValue { text.flatMap { try? JSONParser.parse($0) } ?? .null }
}
