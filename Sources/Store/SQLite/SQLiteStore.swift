import Foundation
import Logging

/// The embedded store: one SQLite file, shared safely by several processes on one host (WAL mode, busy timeout,
/// writes that read first take the write lock up front).
///
/// Each instance owns one connection on its own serial queue; open one per process.
public final class SQLiteStore: SyncStore {
    let connection: SQLiteConnection
    let cipher: TokenCipher
    private let logger: Logger
    /// Fired by ``close()``: ends ``run()``.
    private let closing = Latch()

    /// Opens (creating) the database at `path`, creating its folder, and applies pending migrations.
    ///
    /// - Parameters:
    ///   - path: The database file.
    ///   - encryptionKey: Encrypts refresh tokens at rest.
    ///   - busyTimeout: How long a call waits for another process's write lock before failing.
    ///   - logger: Receives migration messages.
    public static func open(
        path: String,
        encryptionKey: StoreEncryptionKey,
        busyTimeout: Duration = .seconds(10),
        logger: Logger
    ) async throws -> SQLiteStore {
        try await Self.open(
            path: path, encryptionKey: encryptionKey, busyTimeout: busyTimeout, logger: logger,
            migratingThrough: Int.max
        )
    }

    /// Opens the database, applying pending migrations up to version `lastMigration` only (tests build a database
    /// at an older schema version with it).
    static func open(
        path: String,
        encryptionKey: StoreEncryptionKey,
        busyTimeout: Duration = .seconds(10),
        logger: Logger,
        migratingThrough lastMigration: Int
    ) async throws -> SQLiteStore {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.backend, "cannot create the data directory \(folder)", underlying: error)
        }
        let connection = try await SQLiteConnection.open(path: path, busyTimeout: busyTimeout)
        let store = SQLiteStore(connection: connection, cipher: TokenCipher(key: encryptionKey), logger: logger)
        do {
            try await store.migrate(through: lastMigration)
        } catch {
            await connection.close()
            throw error
        }
        return store
    }

    private init(connection: SQLiteConnection, cipher: TokenCipher, logger: Logger) {
        self.connection = connection
        self.cipher = cipher
        self.logger = logger
    }

    /// Applies pending migrations (up to version `lastMigration`) inside one `BEGIN IMMEDIATE` transaction: a
    /// second process opening the same file waits, then finds them applied.
    private func migrate(through lastMigration: Int) async throws {
        let path = self.connection.path
        let applied: [Migration] = try await self.connection.run { db in
            do {
                return try db.transaction { db in
                    try db.execute(
                        """
                        CREATE TABLE IF NOT EXISTS schema_migrations (
                            version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)
                        """
                    )
                    let done = Set(try db.query("SELECT version FROM schema_migrations").compactMap { $0.first?.integer })
                    var applied: [Migration] = []
                    for migration in migrations
                    where migration.version <= lastMigration && !done.contains(Int64(migration.version)) {
                        for statement in migration.sqlite { try db.execute(statement) }
                        try db.query(
                            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                            [.integer(Int64(migration.version)), .text(migration.name), .integer(Self.now())]
                        )
                        applied.append(migration)
                    }
                    return applied
                }
            } catch let error as StoreError {
                throw StoreError(.migrationFailed, "migrating \(path) failed: \(error.message)", underlying: error)
            }
        }
        for migration in applied {
            self.logger.info(
                "applied store migration",
                metadata: ["store-backend": "sqlite", "migration-version": "\(migration.version)",
                           "migration-name": "\(migration.name)"]
            )
        }
    }

    /// The schema versions recorded in `schema_migrations` (tests and diagnostics).
    public func appliedMigrations() async throws -> [Int] {
        try await self.connection.run { db in
            try db.query("SELECT version FROM schema_migrations ORDER BY version").compactMap { $0.first?.integer }
                .map { Int($0) }
        }
    }

    // MARK: Lifecycle

    /// Waits for graceful shutdown, cancellation or ``close()``, then closes the connection (SQLite has nothing to
    /// run in the background: each call runs on the connection's own queue).
    public func run() async throws {
        await self.closing.waitForGracefulShutdown()
        try await self.close()
    }

    /// Closes the connection once the calls queued on it have run; later calls throw ``StoreError/Code/closed``.
    public func close() async throws {
        self.closing.fire()
        await self.connection.close()
    }

    /// Milliseconds since 1970, the SQLite schema's time unit.
    static func now() -> Int64 { Self.milliseconds(Date()) }
    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ value: SQLiteValue?) -> Date {
        Date(timeIntervalSince1970: Double(value?.integer ?? 0) / 1000)
    }
}
