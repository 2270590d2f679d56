import CSQLite
import Dispatch
import Foundation

/// A value bound to or read from a SQLite statement.
enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])

    var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    var blob: [UInt8]? {
        switch self {
        case .blob(let value): value
        case .text(let value): Array(value.utf8)
        default: nil
        }
    }
}

/// One sqlite3 connection. All calls run on its own serial dispatch queue, never on Swift's cooperative pool,
/// because sqlite3 blocks (disk I/O, waiting for another process's lock up to the busy timeout).
final class SQLiteConnection: @unchecked Sendable {  // the handle is only touched on `queue`, which serialises
    private let queue: DispatchQueue
    private var handle: OpaquePointer?
    let path: String

    private init(path: String, handle: OpaquePointer, queue: DispatchQueue) {
        self.path = path
        self.handle = handle
        self.queue = queue
    }

    deinit {
        if let handle { sqlite3_close_v2(handle) }
    }

    /// Opens (creating) the database file in WAL mode with a busy timeout, so that several processes can share it.
    static func open(path: String, busyTimeout: Duration) async throws -> SQLiteConnection {
        let queue = DispatchQueue(label: "docsend-sync.sqlite")
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try Self.openBlocking(path: path, busyTimeout: busyTimeout, queue: queue) })
            }
        }
    }

    private static func openBlocking(path: String, busyTimeout: Duration, queue: DispatchQueue) throws -> SQLiteConnection {
        var raw: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &raw, flags, nil)
        guard rc == SQLITE_OK, let handle = raw else {
            let message = raw.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let raw { sqlite3_close_v2(raw) }
            throw StoreError(.backend, "cannot open SQLite database \(path): \(message) (code \(rc))")
        }
        let connection = SQLiteConnection(path: path, handle: handle, queue: queue)
        let milliseconds = busyTimeout.components.seconds * 1000 + busyTimeout.components.attoseconds / 1_000_000_000_000_000
        sqlite3_busy_timeout(handle, Int32(clamping: milliseconds))
        var db = SQLiteDatabase(handle: handle, path: path)
        // Switching to WAL needs an exclusive lock, which the busy handler does not wait for: retry while another
        // process opening the same new file holds it. Once set, the mode is persistent and this is a no-op.
        let deadline = ContinuousClock.now.advanced(by: busyTimeout)
        while true {
            do {
                let mode = try db.query("PRAGMA journal_mode = WAL").first?.first?.text
                guard mode?.lowercased() == "wal" else {
                    throw StoreError(.backend, "SQLite database \(path) refused WAL mode (journal mode \(mode ?? "?"))")
                }
                break
            } catch let error as StoreError where db.lastCodeWasBusy && ContinuousClock.now < deadline {
                _ = error
                usleep(20_000)
            }
        }
        try db.execute("PRAGMA synchronous = NORMAL")
        try db.execute("PRAGMA foreign_keys = ON")
        return connection
    }

    /// Runs `body` on the connection's queue.
    @discardableResult
    func run<T: Sendable>(_ body: @escaping @Sendable (inout SQLiteDatabase) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.queue.async {
                guard let handle = self.handle else {
                    continuation.resume(throwing: StoreError(.closed, "the SQLite store \(self.path) is closed"))
                    return
                }
                var db = SQLiteDatabase(handle: handle, path: self.path)
                continuation.resume(with: Result { try body(&db) })
            }
        }
    }

    /// Closes the handle once queued work has finished.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            self.queue.async {
                if let handle = self.handle {
                    sqlite3_close_v2(handle)
                    self.handle = nil
                }
                continuation.resume()
            }
        }
    }
}

/// The connection as seen inside ``SQLiteConnection/run(_:)``: only valid on the connection's queue.
struct SQLiteDatabase {
    fileprivate let handle: OpaquePointer
    fileprivate let path: String
    fileprivate(set) var lastCodeWasBusy = false

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(self.handle)) }

    /// Runs statements that take no parameters and return no rows.
    mutating func execute(_ sql: String) throws {
        let rc = sqlite3_exec(self.handle, sql, nil, nil, nil)
        try self.check(rc, sql)
    }

    /// Runs one statement with positional parameters (`?1`, `?2`, ...) and returns its rows.
    @discardableResult
    mutating func query(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> [[SQLiteValue]] {
        var statement: OpaquePointer?
        try self.check(sqlite3_prepare_v2(self.handle, sql, -1, &statement, nil), sql)
        guard let statement else { return [] }
        defer { sqlite3_finalize(statement) }

        for (offset, value) in bindings.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .integer(let integer): rc = sqlite3_bind_int64(statement, index, integer)
            case .text(let text): rc = sqlite3_bind_text(statement, index, text, -1, CSQLite_transient())
            case .blob(let bytes):
                rc = bytes.withUnsafeBytes { buffer in
                    sqlite3_bind_blob(statement, index, buffer.baseAddress, Int32(buffer.count), CSQLite_transient())
                }
            }
            try self.check(rc, sql)
        }

        var rows: [[SQLiteValue]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                try self.check(rc, sql)
                break
            }
            let count = sqlite3_column_count(statement)
            var row: [SQLiteValue] = []
            row.reserveCapacity(Int(count))
            for column in 0..<count {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(statement, column)))
                case SQLITE_TEXT:
                    row.append(.text(sqlite3_column_text(statement, column).map { String(cString: $0) } ?? ""))
                case SQLITE_BLOB:
                    let length = Int(sqlite3_column_bytes(statement, column))
                    if let bytes = sqlite3_column_blob(statement, column), length > 0 {
                        row.append(.blob(Array(UnsafeRawBufferPointer(start: bytes, count: length))))
                    } else {
                        row.append(.blob([]))
                    }
                case SQLITE_NULL: row.append(.null)
                default: row.append(.integer(sqlite3_column_int64(statement, column)))
                }
            }
            rows.append(row)
        }
        return rows
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front (waiting up to the busy
    /// timeout), so that a read-then-write never fails half-way on another process's lock.
    mutating func transaction<T>(_ body: (inout SQLiteDatabase) throws -> T) throws -> T {
        try self.execute("BEGIN IMMEDIATE")
        do {
            let result = try body(&self)
            try self.execute("COMMIT")
            return result
        } catch {
            try? self.execute("ROLLBACK")
            throw error
        }
    }

    /// The one conversion from sqlite3 result codes to ``StoreError``.
    private mutating func check(_ rc: Int32, _ sql: String) throws {
        let primary = rc & 0xff
        self.lastCodeWasBusy = primary == SQLITE_BUSY || primary == SQLITE_LOCKED
        guard rc != SQLITE_OK, rc != SQLITE_ROW, rc != SQLITE_DONE else { return }
        let message = String(cString: sqlite3_errmsg(self.handle))
        let statement = sql.split(separator: "\n").first.map(String.init) ?? sql
        throw StoreError(.backend, "SQLite \(self.path): \(message) (code \(rc)) in `\(statement)`")
    }
}
