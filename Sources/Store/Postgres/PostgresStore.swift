import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The fleet store: a PostgreSQL database shared by workers on many hosts, through a connection pool.
///
/// Every operation is one statement (or one transaction), so that concurrent workers never see half an update.
/// Lease times come from the server's clock, the one clock all hosts share.
///
/// The pool (`PostgresClient`) runs once, in one of two ways: in ``run()``, when the store runs in a
/// `ServiceGroup`, until graceful shutdown; or, for a caller that never runs the store (a CLI command, a test), in
/// a task the store starts at its first call and ends in ``close()``. A ``run()`` that starts after a first call
/// takes over that task's lifetime: graceful shutdown still closes the store.
public final class PostgresStore: SyncStore {
    /// Who runs the pool.
    private enum Runner {
        /// Nobody yet.
        case idle
        /// A task the store started at its first call (no ``run()`` before it).
        case background(Task<Void, Never>)
        /// ``run()``.
        case service
        /// Closed, or closing: calls throw ``StoreError/Code/closed``.
        case closed
    }

    let client: PostgresClient
    private let runner = Mutex(Runner.idle)
    /// Fired by ``close()``, graceful shutdown or cancellation of ``run()``: ends ``run()``.
    private let closing = Latch()
    /// Fired once the pool has stopped (at once when it never ran).
    private let poolStopped = Latch()
    /// Fired when ``run()`` starts running the pool (tests wait for it).
    let runningAsService = Latch()
    let cipher: TokenCipher
    let logger: Logger
    private let schema: String?

    /// Connects, creating `schema` when one is given, and applies pending migrations under an advisory lock.
    ///
    /// - Parameters:
    ///   - configuration: Where and how to connect.
    ///   - schema: The schema that holds the tables (`search_path`); `nil` keeps the server's default (`public`).
    ///   - encryptionKey: Encrypts refresh tokens at rest.
    ///   - openTimeout: How long to wait for the server before failing (the pool itself retries forever).
    ///   - logger: Receives migration and connection-pool messages.
    public static func open(
        configuration: PostgresClient.Configuration,
        schema: String? = nil,
        encryptionKey: StoreEncryptionKey,
        openTimeout: Duration = .seconds(30),
        logger: Logger
    ) async throws -> PostgresStore {
        try await Self.open(
            configuration: configuration, schema: schema, encryptionKey: encryptionKey, openTimeout: openTimeout,
            logger: logger, migratingThrough: Int.max
        )
    }

    /// Connects, applying pending migrations up to version `lastMigration` only (tests build a database at an
    /// older schema version with it).
    static func open(
        configuration: PostgresClient.Configuration,
        schema: String? = nil,
        encryptionKey: StoreEncryptionKey,
        openTimeout: Duration = .seconds(30),
        logger: Logger,
        migratingThrough lastMigration: Int
    ) async throws -> PostgresStore {
        var configuration = configuration
        if let schema {
            guard Self.isPlainIdentifier(schema) else {
                throw StoreError(
                    .invalidConfiguration,
                    "the PostgreSQL schema name must be lowercase letters, digits and underscores: \(schema)"
                )
            }
            configuration.options.additionalStartupParameters.append(("search_path", schema))
        }
        let store = PostgresStore(
            client: PostgresClient(configuration: configuration, backgroundLogger: logger),
            cipher: TokenCipher(key: encryptionKey), logger: logger, schema: schema
        )
        // Migrations run on a client of their own, inside this call, so that the store's pool is left for whoever
        // runs the store (a PostgresClient runs once).
        let migrating = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let server = "\(configuration.host ?? "?"):\(configuration.port ?? 0)"
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                await migrating.run()
                return false
            }
            group.addTask {
                try await Task.sleep(for: openTimeout)
                throw StoreError(
                    .backend, "PostgreSQL at \(server) did not answer within \(openTimeout) (is it running?)"
                )
            }
            group.addTask {
                try await store.migrate(on: migrating, through: lastMigration)
                return true
            }
            defer { group.cancelAll() }
            while let migrated = try await group.next(), !migrated {}
        }
        return store
    }

    private init(client: PostgresClient, cipher: TokenCipher, logger: Logger, schema: String?) {
        self.client = client
        self.cipher = cipher
        self.logger = logger
        self.schema = schema
    }

    static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 63,
            first == "_" || ("a"..."z").contains(first)
        else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }

    /// Applies pending migrations (up to version `lastMigration`) in one transaction holding a transaction-level
    /// advisory lock: a second process opening the same database waits for the first, then finds them applied. DDL
    /// is transactional in PostgreSQL, so a failing migration leaves the previous version intact.
    private func migrate(on client: PostgresClient, through lastMigration: Int) async throws {
        let lockName = "docsend-sync schema migrations \(self.schema ?? "public")"
        let schema = self.schema
        let logger = self.logger
        let applied: [Int] = try await self.convertingErrors("migrating the schema", code: .migrationFailed) {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(lockName)))", logger: logger)
                if let schema {
                    try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"), logger: logger)
                }
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                    """,
                    logger: logger
                )
                var done = Set<Int>()
                for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger)
                    .decode(Int.self)
                {
                    done.insert(version)
                }
                var applied: [Int] = []
                for migration in migrations
                where migration.version <= lastMigration && !done.contains(migration.version) {
                    for statement in migration.postgres {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query(
                        "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                        logger: logger
                    )
                    applied.append(migration.version)
                }
                return applied
            }
        }
        for version in applied {
            self.logger.info(
                "applied store migration",
                metadata: ["store-backend": "postgres", "migration-version": "\(version)",
                           "store-schema": "\(self.schema ?? "public")"]
            )
        }
    }

    /// The schema versions recorded in `schema_migrations` (tests and diagnostics).
    public func appliedMigrations() async throws -> [Int] {
        try await self.rows("SELECT version FROM schema_migrations ORDER BY version", "reading migrations") { row in
            try row.decode(Int.self)
        }
    }

    // MARK: Lifecycle

    /// Runs the connection pool until graceful shutdown, cancellation or ``close()``, then closes the store
    /// (`Service`). When a call has already started the pool (the store was used before it was run), waits the
    /// same way and closes it.
    public func run() async throws {
        let runsThePool = self.runner.withLock { runner -> Bool? in
            switch runner {
            case .idle:
                runner = .service
                return true
            case .background, .service: return false
            case .closed: return nil
            }
        }
        guard let runsThePool else { return }
        guard runsThePool else {
            await self.closing.waitForGracefulShutdown()
            try await self.close()
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.client.run() }
            self.runningAsService.fire()
            await self.closing.waitForGracefulShutdown()
            // New calls fail as closed rather than wait for a pool that is going away.
            self.runner.withLock { $0 = .closed }
            self.closing.fire()
            group.cancelAll()
        }
        self.poolStopped.fire()
        self.logger.debug("closed the store", metadata: ["store-backend": "postgres"])
    }

    /// Closes the store: stops the pool (waiting for it), and later calls throw ``StoreError/Code/closed``.
    public func close() async throws {
        let background = self.runner.withLock { runner -> Task<Void, Never>? in
            defer { runner = .closed }
            switch runner {
            case .idle:
                self.poolStopped.fire()
                return nil
            case .background(let task): return task
            case .service, .closed: return nil
            }
        }
        self.closing.fire()
        background?.cancel()
        await self.poolStopped.waitIgnoringCancellation()
    }

    /// Starts the pool for a caller that did not run the store; throws ``StoreError/Code/closed`` after ``close()``.
    private func ensureRunning() throws {
        try self.runner.withLock { runner in
            switch runner {
            case .idle:
                let client = self.client
                let stopped = self.poolStopped
                runner = .background(
                    Task {
                        await client.run()
                        stopped.fire()
                    })
            case .background, .service: break
            case .closed: throw StoreError(.closed, "the PostgreSQL store is closed")
            }
        }
    }

    // MARK: Plumbing

    /// The one conversion from driver errors to ``StoreError``.
    func convertingErrors<T>(
        _ what: String,
        code: StoreError.Code = .backend,
        _ body: () async throws -> T
    ) async throws -> T {
        do {
            return try await body()
        } catch let error as StoreError {
            throw error
        } catch let error as PSQLError {
            let server = error.serverInfo.map { info in
                "\(info[.sqlState] ?? "?") \(info[.message] ?? "")"
            }
            throw StoreError(code, "PostgreSQL: \(what) failed: \(server ?? "\(error.code)")", underlying: error)
        } catch {
            throw StoreError(code, "PostgreSQL: \(what) failed", underlying: error)
        }
    }

    func rows<T>(_ query: PostgresQuery, _ what: String, _ decode: (PostgresRow) throws -> T) async throws -> [T] {
        try self.ensureRunning()
        return try await self.convertingErrors(what) {
            try await self.client.query(query, logger: self.logger).collect().map(decode)
        }
    }

    func count(_ query: PostgresQuery, _ what: String) async throws -> Int {
        try await self.rows(query, what) { _ in () }.count
    }
}
