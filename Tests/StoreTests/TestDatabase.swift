import Foundation
import Logging
import Testing

@testable import Store

/// The backends the conformance suite runs against. PostgreSQL joins when `DOCSEND_TEST_POSTGRES_URL` is set
/// (scripts/test starts a private server), and is required, not skipped, when `DOCSEND_TEST_REQUIRE_SERVICES=1`.
enum Backend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["DOCSEND_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var servicesRequired: Bool {
        ProcessInfo.processInfo.environment["DOCSEND_TEST_REQUIRE_SERVICES"] == "1"
    }

    static var available: [Backend] {
        postgresURL != nil || servicesRequired ? [.sqlite, .postgres] : [.sqlite]
    }

    var testDescription: String { self.rawValue }

    /// When the visit of ``insertVersion1VisitSQL`` was last saved.
    static let version1VisitUpdatedAt = Date(timeIntervalSince1970: 1_700_000_000)

    /// A row of the schema-1 `visits` table (gone since migration 2): team_1's visit v1 at version 3.
    var insertVersion1VisitSQL: String {
        switch self {
        case .sqlite:
            """
            INSERT INTO visits (team_id, visit_id, state, version, updated_at)
            VALUES ('team_1', 'v1', '{"syncs": 3}', 3, 1700000000000)
            """
        case .postgres:
            """
            INSERT INTO visits (team_id, visit_id, state, version, updated_at)
            VALUES ('team_1', 'v1', '{"syncs": 3}', 3, to_timestamp(1700000000))
            """
        }
    }

    /// A row of the `processed_events` table (schemas 1 to 3; dropped by migration 4).
    var insertProcessedEventSQL: String {
        switch self {
        case .sqlite: "INSERT INTO processed_events (event_id, processed_at) VALUES ('evt_1', 1700000000000)"
        case .postgres: "INSERT INTO processed_events (event_id) VALUES ('evt_1')"
        }
    }

    /// A `sync_state` row written straight to the table (no quotes in the arguments).
    func insertStateSQL(teamID: String, kind: String, objectID: String, state: String) -> String {
        switch self {
        case .sqlite:
            """
            INSERT INTO sync_state (team_id, object_kind, object_id, state, version, updated_at)
            VALUES ('\(teamID)', '\(kind)', '\(objectID)', '\(state)', 1, 0)
            """
        case .postgres:
            """
            INSERT INTO sync_state (team_id, object_kind, object_id, state, version)
            VALUES ('\(teamID)', '\(kind)', '\(objectID)', '\(state)', 1)
            """
        }
    }

    /// A connection row as schemas 1 and 2 hold it (no session columns), flagged for a new login: the store's
    /// current code cannot write one there, since it writes the session columns too.
    func insertOldConnectionSQL(teamID: String, sealed: [UInt8], digest: [UInt8], reason: String) -> String {
        let hex = { (bytes: [UInt8]) in bytes.map { String(format: "%02x", $0) }.joined() }
        switch self {
        case .sqlite:
            return """
                INSERT INTO salesforce_connections (team_id, instance_url, login_url, client_id, refresh_token_sealed,
                    refresh_token_digest, needs_reauthentication, reauthentication_reason, updated_at)
                VALUES ('\(teamID)', 'https://acme.my.salesforce.com', 'https://login.salesforce.com', '3MVG9-client',
                    x'\(hex(sealed))', x'\(hex(digest))', 1, '\(reason)', 1700000000000)
                """
        case .postgres:
            return """
                INSERT INTO salesforce_connections (team_id, instance_url, login_url, client_id, refresh_token_sealed,
                    refresh_token_digest, needs_reauthentication, reauthentication_reason)
                VALUES ('\(teamID)', 'https://acme.my.salesforce.com', 'https://login.salesforce.com', '3MVG9-client',
                    decode('\(hex(sealed))', 'hex'), decode('\(hex(digest))', 'hex'), true, '\(reason)')
                """
        }
    }

    /// A connection for team_3 with a token digest but no sealed token, which the schema refuses.
    var insertConnectionWithDigestOnlySQL: String {
        switch self {
        case .sqlite:
            """
            INSERT INTO salesforce_connections (team_id, instance_url, login_url, client_id, refresh_token_sealed,
                refresh_token_digest, updated_at)
            VALUES ('team_3', 'https://x.my.salesforce.com', 'https://login.salesforce.com', 'c', NULL, x'00', 0)
            """
        case .postgres:
            """
            INSERT INTO salesforce_connections (team_id, instance_url, login_url, client_id, refresh_token_sealed,
                refresh_token_digest)
            VALUES ('team_3', 'https://x.my.salesforce.com', 'https://login.salesforce.com', 'c', NULL,
                decode('00', 'hex'))
            """
        }
    }
}

/// One empty database for one test: a temporary SQLite file, or a fresh schema on the test PostgreSQL server, so
/// that tests run in parallel. ``open(key:)`` opens another store instance (its own connections) on it.
final class TestDatabase: Sendable {
    let backend: Backend
    let key: StoreEncryptionKey
    private let location: StoreLocation
    private let directory: URL?

    init(_ backend: Backend) throws {
        self.backend = backend
        self.key = .random()
        switch backend {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("docsend-store-tests-\(UUID().uuidString)")
            self.directory = directory
            self.location = .sqlite(path: directory.appendingPathComponent("sync.db").path)
        case .postgres:
            guard let url = Backend.postgresURL else {
                throw TestSetupError(
                    "DOCSEND_TEST_POSTGRES_URL is not set but DOCSEND_TEST_REQUIRE_SERVICES=1: run scripts/test"
                )
            }
            guard case .postgres(var location) = try StoreLocation(url: url) else {
                throw TestSetupError("DOCSEND_TEST_POSTGRES_URL is not a postgres:// URL")
            }
            location.schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            self.directory = nil
            self.location = .postgres(location)
        }
    }

    static let logger = Logger(label: "store-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Opens a new store instance on this test's database, migrating it up to `lastMigration` (default: all).
    func open(
        key: StoreEncryptionKey? = nil,
        migratingThrough lastMigration: Int = .max
    ) async throws -> any SyncStore {
        let key = key ?? self.key
        switch self.location {
        case .sqlite(let path):
            return try await SQLiteStore.open(
                path: path, encryptionKey: key, logger: Self.logger, migratingThrough: lastMigration
            )
        case .postgres(let postgres):
            var configuration = postgres.clientConfiguration
            // Many stores per test, many tests at once: keep each pool small.
            configuration.options.maximumConnections = 4
            return try await PostgresStore.open(
                configuration: configuration, schema: postgres.schema, encryptionKey: key, logger: Self.logger,
                migratingThrough: lastMigration
            )
        }
    }

    /// Opens a store on this database (migrated up to `lastMigration`), runs `body`, and closes the store whether
    /// `body` throws or not.
    func withStore(
        migratingThrough lastMigration: Int = .max, _ body: (any SyncStore) async throws -> Void
    ) async throws {
        let store = try await self.open(migratingThrough: lastMigration)
        do {
            try await body(store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }

    func remove() {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` with an empty database and one store open on it; closes and removes everything afterwards.
func withStore(
    _ backend: Backend,
    _ body: (any SyncStore, TestDatabase) async throws -> Void
) async throws {
    let database = try TestDatabase(backend)
    defer { database.remove() }
    try await database.withStore { store in try await body(store, database) }
}

/// Opens `count` separate store instances (separate connections) on `database`, runs `body`, closes them.
func withStores(
    _ count: Int,
    on database: TestDatabase,
    _ body: ([any SyncStore]) async throws -> Void
) async throws {
    var stores: [any SyncStore] = []
    for _ in 0..<count { stores.append(try await database.open()) }
    do {
        try await body(stores)
    } catch {
        for store in stores { try? await store.close() }
        throw error
    }
    for store in stores { try await store.close() }
}

extension SyncStore {
    func storedAccessTokenBytes(teamID: String) async throws -> [UInt8]? {
        switch self {
        case let store as SQLiteStore: try await store.storedAccessToken(teamID: teamID)
        case let store as PostgresStore: try await store.storedAccessToken(teamID: teamID)
        default: nil
        }
    }

    func storedRefreshTokenBytes(teamID: String) async throws -> [UInt8]? {
        switch self {
        case let store as SQLiteStore: try await store.storedRefreshToken(teamID: teamID)
        case let store as PostgresStore: try await store.storedRefreshToken(teamID: teamID)
        default: nil
        }
    }

    /// Runs SQL that returns no rows straight on the database.
    func execute(sql: String) async throws {
        switch self {
        case let store as SQLiteStore: try await store.execute(sql: sql)
        case let store as PostgresStore: try await store.execute(sql: sql)
        default: throw TestSetupError("execute(sql:) needs a SQLiteStore or a PostgresStore")
        }
    }

    func migrationVersions() async throws -> [Int] {
        switch self {
        case let store as SQLiteStore: try await store.appliedMigrations()
        case let store as PostgresStore: try await store.appliedMigrations()
        default: []
        }
    }
}

func json(_ text: String) -> Data { Data(text.utf8) }

/// The JSON text in a canonical form (sorted keys, no spaces): PostgreSQL's `jsonb` does not keep the bytes.
func canonical(_ data: Data) throws -> String {
    let object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
}

func canonical(_ text: String) throws -> String { try canonical(Data(text.utf8)) }
