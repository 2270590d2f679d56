import Foundation
import Logging
import PostgresNIO

/// Where the store lives, parsed from its URL.
///
/// - `sqlite:///var/lib/docsend-sync/sync.db`: a SQLite file (absolute path after `sqlite://`).
/// - `postgres://user:pass@host:5432/db?sslmode=require&schema=docsend`: a PostgreSQL database. `sslmode` is
///   `disable`, `prefer` (the default), `require`, `verify-ca` or `verify-full` (the last three verify the
///   server's certificate against the system's trust roots); `schema` (optional) puts the tables in that schema.
public enum StoreLocation: Sendable, Equatable {
    /// A SQLite database file.
    case sqlite(path: String)
    /// A PostgreSQL database.
    case postgres(PostgresLocation)

    /// The file name of the default SQLite database inside the data directory.
    public static let defaultSQLiteFileName = "sync.db"

    /// The default location: a SQLite file in `dataDirectory`.
    public static func defaultLocation(dataDirectory: String) -> StoreLocation {
        .sqlite(path: URL(fileURLWithPath: dataDirectory).appendingPathComponent(defaultSQLiteFileName).path)
    }

    /// Parses a store URL; throws ``StoreError/Code/invalidConfiguration`` with what is wrong.
    public init(url: String) throws {
        if url.hasPrefix("sqlite://") {
            let rest = String(url.dropFirst("sqlite://".count))
            let path = rest.removingPercentEncoding ?? rest
            guard path.hasPrefix("/"), path.count > 1 else {
                throw StoreError(
                    .invalidConfiguration,
                    "a SQLite store URL needs an absolute file path, as in sqlite:///var/lib/docsend-sync/sync.db"
                )
            }
            self = .sqlite(path: path)
            return
        }
        guard let components = URLComponents(string: url),
            let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql"
        else {
            throw StoreError(
                .invalidConfiguration,
                "unsupported store URL (expected sqlite:///PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE)"
            )
        }
        self = .postgres(try PostgresLocation(components))
    }
}

/// A PostgreSQL server, database and schema. Its description hides the password.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// TLS requirement, as libpq's `sslmode`.
    public enum TLSMode: String, Sendable {
        /// No TLS.
        case disable
        /// TLS when the server offers it, unverified.
        case prefer
        /// TLS always, unverified (libpq's meaning).
        case require
        /// TLS, certificate verified against the system's trust roots, host name not checked.
        case verifyCA = "verify-ca"
        /// TLS, certificate and host name verified.
        case verifyFull = "verify-full"
    }

    /// The server's host name or address.
    public var host: String
    /// The server's port (default 5432).
    public var port: Int
    /// The user name (default `postgres`).
    public var username: String
    /// The password, if any.
    public var password: String?
    /// The database; `nil`: the user's default.
    public var database: String?
    /// TLS requirement (default `prefer`).
    public var tlsMode: TLSMode
    /// Holds the tables; `nil`: the server's default search path.
    public var schema: String?

    init(_ components: URLComponents) throws {
        guard let host = components.host, !host.isEmpty else {
            throw StoreError(.invalidConfiguration, "a PostgreSQL store URL needs a host")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = components.user.flatMap { $0.removingPercentEncoding ?? $0 } ?? "postgres"
        self.password = components.password.flatMap { $0.removingPercentEncoding ?? $0 }
        let database = String(components.path.drop(while: { $0 == "/" }))
        self.database = database.isEmpty ? nil : (database.removingPercentEncoding ?? database)
        self.tlsMode = .prefer
        self.schema = nil
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw StoreError(
                        .invalidConfiguration,
                        "sslmode must be disable, prefer, require, verify-ca or verify-full, not \(item.value ?? "")"
                    )
                }
                self.tlsMode = mode
            case "schema":
                guard let schema = item.value, PostgresStore.isPlainIdentifier(schema) else {
                    throw StoreError(
                        .invalidConfiguration,
                        "schema must be lowercase letters, digits and underscores, not \(item.value ?? "")"
                    )
                }
                self.schema = schema
            default:
                throw StoreError(.invalidConfiguration, "unknown PostgreSQL store URL option \(item.name)")
            }
        }
    }

    /// The driver configuration.
    public var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch self.tlsMode {
        case .disable:
            tls = .disable
        case .prefer:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            tls = .prefer(configuration)
        case .require:
            // libpq's `require` encrypts without verifying the certificate.
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            tls = .require(configuration)
        case .verifyCA:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .noHostnameVerification
            tls = .require(configuration)
        case .verifyFull:
            tls = .require(.makeClientConfiguration())
        }
        return PostgresClient.Configuration(
            host: self.host, port: self.port, username: self.username, password: self.password,
            database: self.database, tls: tls
        )
    }

    public var description: String {
        let credentials = self.password == nil ? self.username : "\(self.username):<redacted>"
        return "postgres://\(credentials)@\(self.host):\(self.port)/\(self.database ?? "")"
            + "?sslmode=\(self.tlsMode.rawValue)" + (self.schema.map { "&schema=\($0)" } ?? "")
    }
}

/// The default limit of one store call (`store.timeout`): long enough for a busy database, short enough that a
/// stuck one fails the message (to be retried) instead of stalling a worker.
public let defaultStoreTimeout: Duration = .seconds(5)

/// Opens the store at `url` (see ``StoreLocation``) and applies pending migrations.
///
/// - Parameters:
///   - url: `sqlite:///PATH` or `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=...`.
///   - encryptionKey: Encrypts Salesforce tokens at rest.
///   - timeout: The limit of every call on the returned store (``TimeLimitedStore``); a call that takes longer
///     throws ``StoreError/Code/timedOut``.
///   - logger: Receives migration and connection messages; never tokens or keys.
public func openStore(
    url: String, encryptionKey: StoreEncryptionKey, timeout: Duration = defaultStoreTimeout, logger: Logger
) async throws -> any SyncStore {
    try await openStore(location: StoreLocation(url: url), encryptionKey: encryptionKey, timeout: timeout, logger: logger)
}

/// Opens the store at `location` and applies pending migrations; every call on the returned store is limited to
/// `timeout`.
public func openStore(
    location: StoreLocation, encryptionKey: StoreEncryptionKey, timeout: Duration = defaultStoreTimeout, logger: Logger
) async throws -> any SyncStore {
    let store: any SyncStore
    switch location {
    case .sqlite(let path):
        store = try await SQLiteStore.open(path: path, encryptionKey: encryptionKey, logger: logger)
    case .postgres(let postgres):
        store = try await PostgresStore.open(
            configuration: postgres.clientConfiguration, schema: postgres.schema, encryptionKey: encryptionKey,
            logger: logger
        )
    }
    return TimeLimitedStore(store, timeout: timeout)
}
