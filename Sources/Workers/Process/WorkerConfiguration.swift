import Configuration
import Fleet
import Foundation
import Store

/// Everything a worker process reads from configuration besides the broker and the topology.
///
/// ## Configuration keys
/// - `store.url` (string, optional): `sqlite:///ABSOLUTE/PATH` or `postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=…`;
///   default: the SQLite file `sync.db` in `data.directory`.
/// - `store.timeout` (interval, optional, default `5s`): the limit of one store call (then `store.timed_out`, retried).
/// - `data.directory` (string, optional, default `./data`): where the embedded SQLite store lives.
/// - `store.encryptionKey` (string, secret, required): 32 bytes, base64 (`openssl rand -base64 32`); encrypts
///   Salesforce refresh tokens at rest.
/// - `salesforce.loginURL` (string, optional, default `https://login.salesforce.com`): the OAuth host used by
///   `team connect` (each connection keeps the one it was made with).
/// - `salesforce.clientID` / `salesforce.clientSecret` (strings; the secret is secret): the connected app.
/// - `salesforce.apiVersion` (string, optional, default `v62.0`).
/// - `salesforce.requestTimeout` (interval, optional, default `30s`).
/// - `salesforce.maxRequestsInFlight` (integer, optional, default 10): per org and process.
/// - `salesforce.batchWindow` (interval, optional, default `5ms`): an org's lookups and Task writes gather into one
///   call (`Email IN (…)` queries, sObject Collections upserts of up to 200 Tasks) until none joined for this long.
/// - `salesforce.batchMaxWait` (interval, optional, default `50ms`): the longest one waits while others keep joining.
/// - `salesforce.lookupLifetime` (interval, optional, default `5s`): how long the Contacts and Leads found for
///   an email are kept per org and process (a Lead the process creates drops its email at once).
/// - `salesforce.apiReserve` (fraction, optional, default 0.2): the share of each org's daily API allocation left to
///   the customer's other integrations; an org whose usage reaches the rest is paused (``OrgGate``).
/// - `salesforce.breakerThreshold` (integer, optional, default 5): failing answers in a row (5xx, timeouts) that pause
///   an org.
/// - `salesforce.pauseInterval` (interval, optional, default `1m`): how long a paused org waits before one job probes
///   it (doubling while it stays unwell, up to ten times).
/// - `salesforce.caFile` (string, optional): a PEM bundle of extra CAs to trust for Salesforce (a TLS front of the
///   sandbox, a proxy).
/// - `worker.concurrency` (integer, optional, default 400): messages in work at once, per role and process; many
///   in work let one org's lookups and Task writes share calls (``OrgBatches``). One team takes at most half by
///   default (`worker.teamConcurrency`): 200, one full sObject Collections call.
/// - `worker.teamConcurrency` (integer, optional, default half the concurrency): messages of one team in work at
///   once, per role and process; a team's messages beyond it go to the role's overflow queue and come back as its
///   places free, so that one team's burst never holds the others' (``TeamShares``).
/// - `worker.prefetch` (integer, optional, default twice the concurrency): unacknowledged deliveries per role.
/// - `worker.drainTimeout` (interval, optional, default `30s`): how long SIGTERM waits for messages in work.
/// - `worker.loginHoldLimit` (integer, optional, default 10,000): how many messages a team whose Salesforce
///   connection needs a new login keeps parked for a replay (``LoginHolds``); the rest are dropped and counted.
/// - `metrics.host` (string, optional, default `0.0.0.0`) and `metrics.port` (integer, optional, default 9400; 0
///   picks a free port, logged): where the process serves `/metrics`, `/healthz` and `/readyz`
///   (``MonitoringServer``).
/// - `retention.*`: how long the store keeps visit and link states and ledger entries, and how the process prunes
///   them (``RetentionConfiguration``).
public struct WorkerConfiguration: Sendable {
    /// The store URL.
    public var storeURL: String
    /// The key sealing refresh tokens.
    public var encryptionKey: StoreEncryptionKey
    /// The limit of one store call.
    public var storeTimeout: Duration
    /// The connected app.
    public var salesforce: SalesforceAppSettings
    /// Extra CAs to trust for Salesforce.
    public var salesforceCAFile: String?
    /// Messages in work at once, per role.
    public var concurrency: Int
    /// Messages of one team in work at once, per role.
    public var teamConcurrency: Int
    /// Unacknowledged deliveries, per role.
    public var prefetch: Int
    /// How long a graceful stop waits.
    public var drainTimeout: Duration
    /// Messages kept parked per team while its connection needs a new login.
    public var loginHoldLimit: Int
    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    public var monitoring: MonitoringServer.Configuration
    /// What the process prunes from the store, and how often.
    public var retention: RetentionConfiguration

    /// Reads the keys above.
    public init(config: ConfigReader) throws {
        storeURL = try Self.storeURL(config: config)
        encryptionKey = try Self.encryptionKey(config: config)
        storeTimeout = try Self.storeTimeout(config: config)
        salesforce = try Self.salesforce(config: config)
        salesforceCAFile = config.string(forKey: "salesforce.caFile")
        concurrency = try Self.positive(config, "worker.concurrency", default: 400)
        teamConcurrency = min(concurrency, try Self.positive(config, "worker.teamConcurrency", default: max(1, concurrency / 2)))
        prefetch = try Self.positive(config, "worker.prefetch", default: concurrency * 2)
        drainTimeout = try Self.interval(config, "worker.drainTimeout", default: .seconds(30))
        loginHoldLimit = try Self.positive(config, "worker.loginHoldLimit", default: 10_000)
        monitoring = MonitoringServer.Configuration(
            host: config.string(forKey: "metrics.host") ?? "0.0.0.0", port: try Self.port(config, "metrics.port", default: 9400))
        retention = try RetentionConfiguration(config: config)
    }

    package static func port(_ config: ConfigReader, _ key: String, default value: Int) throws -> Int {
        guard let text = config.string(forKey: ConfigKey(key)) else { return value }
        guard let number = Int(text), (0...65_535).contains(number) else {
            throw ConfigurationError(key: key, problem: "expected a port number from 0 to 65535, got \(text)")
        }
        return number
    }

    /// The store's encryption key alone (`team` commands need no worker settings).
    public static func encryptionKey(config: ConfigReader) throws -> StoreEncryptionKey {
        guard let key = config.string(forKey: "store.encryptionKey", isSecret: true), !key.isEmpty else {
            throw ConfigurationError(
                key: "store.encryptionKey", problem: "required: 32 random bytes in base64 (openssl rand -base64 32)")
        }
        do {
            return try StoreEncryptionKey(base64: key)
        } catch {
            throw ConfigurationError(key: "store.encryptionKey", problem: "expected 32 bytes in base64")
        }
    }

    /// The limit of one store call alone (`team` commands need no worker settings).
    public static func storeTimeout(config: ConfigReader) throws -> Duration {
        try interval(config, "store.timeout", default: defaultStoreTimeout)
    }

    /// The store URL alone (`team` commands need no worker settings).
    public static func storeURL(config: ConfigReader) throws -> String {
        if let url = config.string(forKey: "store.url", isSecret: true), !url.isEmpty {
            do {
                _ = try StoreLocation(url: url)
            } catch let error as StoreError {
                throw ConfigurationError(key: "store.url", problem: error.message)
            }
            return url
        }
        let directory = config.string(forKey: "data.directory") ?? "./data"
        let absolute = URL(fileURLWithPath: directory, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        return "sqlite://" + absolute.standardizedFileURL.appendingPathComponent(StoreLocation.defaultSQLiteFileName).path
    }

    /// The connected app's settings.
    public static func salesforce(config: ConfigReader) throws -> SalesforceAppSettings {
        SalesforceAppSettings(
            loginURL: config.string(forKey: "salesforce.loginURL") ?? "https://login.salesforce.com",
            clientID: config.string(forKey: "salesforce.clientID"),
            clientSecret: config.string(forKey: "salesforce.clientSecret", isSecret: true),
            apiVersion: config.string(forKey: "salesforce.apiVersion") ?? "v62.0",
            requestTimeout: try interval(config, "salesforce.requestTimeout", default: .seconds(30)),
            maxRequestsInFlight: try positive(config, "salesforce.maxRequestsInFlight", default: 10),
            batchWindow: try interval(config, "salesforce.batchWindow", default: .milliseconds(5)),
            batchMaxWait: try interval(config, "salesforce.batchMaxWait", default: .milliseconds(50)),
            lookupLifetime: try interval(config, "salesforce.lookupLifetime", default: .seconds(5)),
            apiReserve: try fraction(config, "salesforce.apiReserve", default: 0.2),
            breakerThreshold: try positive(config, "salesforce.breakerThreshold", default: 5),
            pauseInterval: try interval(config, "salesforce.pauseInterval", default: .seconds(60)))
    }

    static func fraction(_ config: ConfigReader, _ key: String, default value: Double) throws -> Double {
        guard let text = config.string(forKey: ConfigKey(key)) else { return value }
        guard let number = Double(text), number >= 0, number < 1 else {
            throw ConfigurationError(key: key, problem: "expected a fraction from 0 to below 1 (0.2 is 20%), got \(text)")
        }
        return number
    }

    static func positive(_ config: ConfigReader, _ key: String, default value: Int) throws -> Int {
        guard let text = config.string(forKey: ConfigKey(key)) else { return value }
        guard let number = Int(text), number > 0 else {
            throw ConfigurationError(key: key, problem: "expected a positive whole number, got \(text)")
        }
        return number
    }

    package static func interval(_ config: ConfigReader, _ key: String, default value: Duration) throws -> Duration {
        guard let text = config.string(forKey: ConfigKey(key)) else { return value }
        guard let interval = IntervalFormat.parse(text) else {
            throw ConfigurationError(key: key, problem: "expected an interval such as 30s or 2m, got \(text)")
        }
        return interval
    }
}
