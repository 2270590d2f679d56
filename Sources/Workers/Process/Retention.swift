import Configuration
import Fleet
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Store

/// How long the store keeps what the workers no longer need, and how the workers prune it.
///
/// ## Configuration keys
/// - `retention.visitStateAge` (age, optional, default `30d`): a visit's state not saved for this long is removed.
///   Its state is saved at every re-sync while the visit is active, so such a visit has ended; at least `1h`.
/// - `retention.linkStateAge` (age, optional, default `180d`): a document or space link's state (its Task id and
///   visitors list) not saved for this long is removed; a visitor who opens the link later is no longer added to
///   its Task; at least `1h`.
/// - `retention.ledgerAge` (age, optional, default `90d`): ledger entries (which Salesforce record was written for
///   which visit, link or visitor email) recorded this long ago are removed; at least `1h`.
/// - `retention.batch` (integer, optional, default 500): rows one pass removes at most, per table.
/// - `retention.interval` (interval, optional, default `5m`): between two passes of a process (with jitter); a pass
///   that removed a full batch is followed by the next one after a second, until the backlog is gone.
///
/// An age is a whole number with `ms`, `s`, `m`, `h` or `d`; `0` or `off` disables that pruning. Leases left by a
/// process that died holding them are removed an hour after they expired whenever any pruning is on.
public struct RetentionConfiguration: Sendable, Equatable {
    /// Visit states unchanged for this long are removed; `nil`: kept forever.
    public var visitStateAge: Duration?
    /// Link and space-link states unchanged for this long are removed; `nil`: kept forever.
    public var linkStateAge: Duration?
    /// Ledger entries this old are removed; `nil`: kept forever.
    public var ledgerAge: Duration?
    /// Rows removed at most per table and pass.
    public var batch: Int
    /// Between two passes.
    public var interval: Duration

    /// How long after its expiry a lease is removed.
    public static let leaseGrace: Duration = .seconds(3_600)
    /// The shortest age accepted: a visit's state is saved at every re-sync (10 minutes) while it is active.
    public static let minimumAge: Duration = .seconds(3_600)

    /// Creates a value.
    public init(
        visitStateAge: Duration? = .seconds(30 * 86_400), linkStateAge: Duration? = .seconds(180 * 86_400),
        ledgerAge: Duration? = .seconds(90 * 86_400), batch: Int = 500, interval: Duration = .seconds(300)
    ) {
        self.visitStateAge = visitStateAge
        self.linkStateAge = linkStateAge
        self.ledgerAge = ledgerAge
        self.batch = batch
        self.interval = interval
    }

    /// Reads the keys above.
    public init(config: ConfigReader) throws {
        let defaults = RetentionConfiguration()
        self.init(
            visitStateAge: try Self.age(config, "retention.visitStateAge", default: defaults.visitStateAge),
            linkStateAge: try Self.age(config, "retention.linkStateAge", default: defaults.linkStateAge),
            ledgerAge: try Self.age(config, "retention.ledgerAge", default: defaults.ledgerAge),
            batch: try WorkerConfiguration.positive(config, "retention.batch", default: defaults.batch),
            interval: try WorkerConfiguration.interval(config, "retention.interval", default: defaults.interval))
    }

    /// Whether a pass has anything to do.
    public var isEnabled: Bool { visitStateAge != nil || linkStateAge != nil || ledgerAge != nil }

    /// `0` / `off`: `nil`; otherwise an interval (with `d` for days) of at least ``minimumAge``.
    static func age(_ config: ConfigReader, _ key: String, default value: Duration?) throws -> Duration? {
        guard let text = config.string(forKey: ConfigKey(key)) else { return value }
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed == "0" || trimmed == "off" { return nil }
        var parsed: Duration?
        if trimmed.hasSuffix("d"), let days = Int64(trimmed.dropLast()), days > 0, days < 1_000_000 {
            parsed = .seconds(days * 86_400)
        } else {
            parsed = IntervalFormat.parse(trimmed)
        }
        guard let parsed else {
            throw ConfigurationError(key: key, problem: "expected an age such as 30d or 12h (0 or off disables), got \(text)")
        }
        guard parsed >= minimumAge else {
            throw ConfigurationError(
                key: key, problem: "\(text) is shorter than 1h: a state that young may belong to an object still in sync")
        }
        return parsed
    }
}

/// Prunes the store in the background of every worker process (``WorkerProcess``): every
/// ``RetentionConfiguration/interval`` (with jitter, so that processes started together spread out) one pass removes
/// at most ``RetentionConfiguration/batch`` rows of each kind:
///
/// - `visit_states`: visit states not saved for `visitStateAge` (the visit ended: it is saved at every re-sync
///   while active);
/// - `link_states`: document and space link states not saved for `linkStateAge`;
/// - `ledger`: ledger entries older than `ledgerAge`;
/// - `leases`: leases expired for an hour (left by a process that died holding them).
///
/// Every process prunes: the store's bounded deletes let passes of several processes run at once without waiting
/// for one another or removing a row twice, so a fleet needs no leader. A failing pass is logged and counted
/// (`docsend_sync_retention_failures_total`), and the next pass tries again; removed rows are counted by table in
/// `docsend_sync_retention_pruned_total{table}`. Graceful shutdown stops it at once (a statement in flight ends).
public struct RetentionService: Service {
    public static let prunedLabel = "docsend_sync_retention_pruned_total"
    public static let failuresLabel = "docsend_sync_retention_failures_total"
    /// The tables a pass prunes, as the metric names them.
    public static let tables = ["visit_states", "link_states", "ledger", "leases"]

    let store: any SyncStore
    let configuration: RetentionConfiguration
    let logger: Logger

    /// Prunes `store` as `configuration` says.
    public init(store: any SyncStore, configuration: RetentionConfiguration, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
    }

    /// What one pass removed, by table (``tables``), and whether one of its deletes failed.
    public struct Pass: Sendable, Equatable {
        public var removed: [String: Int] = [:]
        public var failed = false
        /// Whether a table gave a full batch (more may wait).
        public var full = false
    }

    /// Makes the series exist from the start, at zero.
    public static func prepareMetrics() {
        for table in tables { Counter(label: prunedLabel, dimensions: [("table", table)]).increment(by: 0) }
        Counter(label: failuresLabel).increment(by: 0)
    }

    public func run() async throws {
        guard configuration.isEnabled else {
            logger.info("retention is off: the store keeps every state and ledger entry")
            // A service that returns would stop the group: wait for the shutdown like the others.
            await cancelWhenGracefulShutdown { await Self.sleepUntilCancelled() }
            return
        }
        Self.prepareMetrics()
        await cancelWhenGracefulShutdown {
            // The first pass waits a random part of the interval, so that processes started together spread out.
            var delay = configuration.interval * Double.random(in: 0.1...1)
            while !Task.isCancelled {
                do { try await Task.sleep(for: delay) } catch { return }
                let pass = await pass()
                delay = pass.full ? min(.seconds(1), configuration.interval) : configuration.interval * Double.random(in: 0.75...1.25)
            }
        }
    }

    /// One pass: one bounded delete per table. Never throws: a failing delete is logged and counted, and the others
    /// still run.
    @discardableResult
    public func pass() async -> Pass {
        var result = Pass()
        let batch = configuration.batch
        let store = self.store
        var steps: [(String, @Sendable () async throws -> Int)] = []
        if let age = configuration.visitStateAge {
            steps.append(("visit_states", { try await store.pruneStates(kinds: [.visit], unchangedFor: age, limit: batch) }))
        }
        if let age = configuration.linkStateAge {
            steps.append(
                ("link_states", { try await store.pruneStates(kinds: [.link, .spaceLink], unchangedFor: age, limit: batch) }))
        }
        if let age = configuration.ledgerAge {
            steps.append(("ledger", { try await store.pruneLedger(olderThan: age, limit: batch) }))
        }
        if configuration.isEnabled {
            steps.append(("leases", { try await store.pruneClaims(expiredFor: RetentionConfiguration.leaseGrace, limit: batch) }))
        }
        for (table, step) in steps {
            if Task.isCancelled { break }
            do {
                let removed = try await step()
                result.removed[table] = removed
                if removed >= batch { result.full = true }
                if removed > 0 { Counter(label: Self.prunedLabel, dimensions: [("table", table)]).increment(by: removed) }
            } catch {
                if Task.isCancelled { break }
                result.failed = true
                Counter(label: Self.failuresLabel).increment()
                logger.warning(
                    "a retention pass failed; the next pass tries again",
                    metadata: ["docsend-table": "\(table)", "docsend-error": "\(error)"])
            }
        }
        let total = result.removed.values.reduce(0, +)
        if total > 0 {
            logger.debug(
                "retention pass",
                metadata: result.removed.reduce(into: Logger.Metadata()) { $0["docsend-pruned-\($1.key)"] = "\($1.value)" })
        }
        return result
    }

    private static func sleepUntilCancelled() async {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3_600)) }
    }
}
