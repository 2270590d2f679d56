import AMQP
import Fleet
import Foundation
import Jobs
import Salesforce
import Store
import SyncCore
import Synchronization
import Testing

@testable import Workers

/// The workers' pure parts: failure classification, internal message shapes, configuration, turns.
@Suite("Workers without a broker")
struct WorkersUnitTests {
    @Test("Salesforce errors are retried, parked, or parked as needing a new login, by their classification")
    func classifySalesforce() {
        func error(_ code: SalesforceError.Code, _ status: Int) -> SalesforceError {
            SalesforceError(
                code: code, message: "m", fields: [], httpStatus: status,
                classification: SalesforceError.classify(code: code, httpStatus: status))
        }
        let lock = WorkFailure.classify(error(.unableToLockRow, 400))
        #expect(lock.disposition == .retry && lock.code == "salesforce.UNABLE_TO_LOCK_ROW")
        #expect(WorkFailure.classify(error(.requestLimitExceeded, 403)).disposition == .retry)
        #expect(WorkFailure.classify(error(.serverUnavailable, 503)).disposition == .retry)
        let invalid = WorkFailure.classify(error(.invalidField, 400))
        #expect(invalid.disposition == .park && invalid.code == "salesforce.INVALID_FIELD")
        let grant = WorkFailure.classify(error(.invalidGrant, 400))
        #expect(grant.disposition == .park && grant.code == "salesforce_reauthentication_required")
    }

    @Test("contract violations are parked with their kind; store conflicts retried, undecryptable tokens parked")
    func classifyOthers() {
        do {
            _ = try Event.decode(from: Data("{\"id\":1}".utf8))
            Issue.record("decoded a bad event")
        } catch {
            let failure = WorkFailure.classify(error)
            #expect(failure.disposition == .park)
            #expect(failure.code.hasPrefix("contract_violation."))
        }
        #expect(WorkFailure.classify(StoreError(.versionConflict, "x")).disposition == .retry)
        #expect(WorkFailure.classify(StoreError(.versionConflict, "x")).code == "store.version_conflict")
        #expect(WorkFailure.classify(StoreError(.decryptionFailed, "x")).disposition == .park)
        #expect(WorkFailure.classify(CancellationError()).disposition == .retry)
    }

    @Test("internal messages are snake_case JSON and round-trip")
    func internalMessages() throws {
        let request = LeadRequest(
            teamID: "t", visitID: "v", visitorEmail: "a@b.example", visitorName: "A B", accountName: nil, ownerID: "005")
        let json = try #require(String(data: try JobCoding.encode(.leadRequest(request)), encoding: .utf8))
        #expect(json == #"{"owner_id":"005","team_id":"t","visit_id":"v","visitor_email":"a@b.example","visitor_name":"A B"}"#)
        #expect(try JobCoding.decode(name: JobName.leadRequest, body: Data(json.utf8)) == .leadRequest(request))
        let tick = VisitResyncTick(teamID: "t", visitID: "v", sequence: 3)
        #expect(try JobCoding.decode(name: JobName.visitResync, body: try JobCoding.encode(.visitResync(tick))) == .visitResync(tick))
        let error = #expect(throws: WorkFailure.self) { try JobCoding.decode(name: JobName.leadReady, body: Data("{}".utf8)) }
        #expect(error?.code == "invalid_internal_message")
    }

    @Test("configuration: the encryption key is required and checked; numbers must be positive; defaults")
    func configuration() throws {
        #expect(throws: ConfigurationError.self) { try WorkerConfiguration(config: FleetConfiguration.reader(environment: [:])) }
        #expect(throws: ConfigurationError.self) {
            try WorkerConfiguration(config: FleetConfiguration.reader(environment: ["DOCSEND_SYNC_STORE_ENCRYPTION_KEY": "short"]))
        }
        let key = StoreEncryptionKey.random().base64
        #expect(throws: ConfigurationError.self) {
            try WorkerConfiguration(
                config: FleetConfiguration.reader(environment: [
                    "DOCSEND_SYNC_STORE_ENCRYPTION_KEY": key, "DOCSEND_SYNC_WORKER_CONCURRENCY": "0",
                ]))
        }
        #expect(throws: ConfigurationError.self) {
            try WorkerConfiguration(
                config: FleetConfiguration.reader(environment: [
                    "DOCSEND_SYNC_STORE_ENCRYPTION_KEY": key, "DOCSEND_SYNC_STORE_URL": "mysql://x",
                ]))
        }
        let defaults = try WorkerConfiguration(
            config: FleetConfiguration.reader(environment: [
                "DOCSEND_SYNC_STORE_ENCRYPTION_KEY": key, "DOCSEND_SYNC_DATA_DIRECTORY": "/var/lib/docsend-sync",
                "DOCSEND_SYNC_WORKER_CONCURRENCY": "3",
            ]))
        #expect(defaults.storeURL == "sqlite:///var/lib/docsend-sync/sync.db")
        #expect(defaults.concurrency == 3 && defaults.prefetch == 6)
        #expect(defaults.teamConcurrency == 1, "half the concurrency, at least one")
        #expect(defaults.drainTimeout == .seconds(30))
        #expect(defaults.salesforce.loginURL == "https://login.salesforce.com")
        let flags = try WorkerConfiguration(
            config: FleetConfiguration.reader(
                overrides: ["worker.prefetch": "50", "salesforce.requestTimeout": "5s"],
                environment: ["DOCSEND_SYNC_STORE_ENCRYPTION_KEY": key, "DOCSEND_SYNC_WORKER_PREFETCH": "7"]))
        #expect(flags.prefetch == 50, "a flag wins over the environment")
        #expect(flags.concurrency == 400 && flags.teamConcurrency == 200, "the defaults: one team, one full Collections call")
        let capped = try WorkerConfiguration(
            config: FleetConfiguration.reader(environment: [
                "DOCSEND_SYNC_STORE_ENCRYPTION_KEY": key, "DOCSEND_SYNC_WORKER_CONCURRENCY": "10",
                "DOCSEND_SYNC_WORKER_TEAM_CONCURRENCY": "50",
            ]))
        #expect(capped.teamConcurrency == 10, "a team's share is at most the concurrency")
        #expect(flags.salesforce.requestTimeout == .seconds(5))
    }

    @Test("turns: one body per key at a time, in arrival order; other keys run alongside")
    func keyedTurns() async throws {
        actor Tracker {
            var inside: [String: Int] = [:]
            var most: [String: Int] = [:]
            func enter(_ key: String) {
                inside[key, default: 0] += 1
                most[key] = max(most[key, default: 0], inside[key, default: 0])
            }
            func leave(_ key: String) { inside[key, default: 0] -= 1 }
        }
        let turns = KeyedTurns()
        let tracker = Tracker()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                let key = index % 2 == 0 ? "a" : "b"
                group.addTask {
                    try await turns.withTurn(key) {
                        await tracker.enter(key)
                        try await Task.sleep(for: .milliseconds(2))
                        await tracker.leave(key)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(await tracker.most == ["a": 1, "b": 1])
    }
}

@Suite("Work headers under hostile values")
struct WorkHeadersTests {
    @Test("docsend-attempts is read within 0...1,000 whatever a producer sends")
    func boundedAttempts() {
        let cases: [(AMQPValue?, Int)] = [
            (nil, 0), (.int(3), 3), (.int(0), 0), (.int(-7), 0), (.int(Int64.min), 0), (.int(Int64.max), 1_000),
            (.int(1_001), 1_000), (.string("3"), 0), (.bool(true), 0), (.double(2), 0), (.table(["n": .int(1)]), 0),
        ]
        for (value, expected) in cases {
            var headers: [String: AMQPValue] = [:]
            headers[WorkHeaders.attempts] = value
            #expect(WorkHeaders.attempts(in: headers) == expected, "\(String(describing: value))")
        }
    }

    @Test("a republished copy keeps the contract's properties and the fleet's headers, nothing else")
    func republishedProperties() {
        let original = AMQPProperties(
            contentType: "application/json", contentEncoding: "gzip",
            headers: ["docsend-attempts": 2, "x-death": "forged", "traceparent": "00-abc", "docsend-origin-queue": "q"],
            persistent: false, priority: 9, correlationID: "c", replyTo: "r", expiration: "3000", messageID: "evt_1",
            timestamp: Date(timeIntervalSince1970: 1_795_000_000), type: "visit.started", userID: "guest", appID: "app")
        let copy = WorkHeaders.republished(original)
        #expect(copy == AMQPProperties(
            contentType: "application/json", headers: ["docsend-attempts": 2, "docsend-origin-queue": "q"], persistent: true,
            messageID: "evt_1", timestamp: Date(timeIntervalSince1970: 1_795_000_000), type: "visit.started", appID: "app"))
    }
}

@Suite("Single-flight cache")
struct SingleFlightCacheTests {
    @Test("expired values are swept out as new keys come: many keys do not grow the cache for ever")
    func sweep() async throws {
        // A lifetime of zero: every value is expired once loaded.
        let cache = SingleFlightCache<Int, Bool, Int>(lifetime: .zero)
        for key in 0..<(SingleFlightCache<Int, Bool, Int>.sweepEvery * 5) {
            _ = try await cache.value(key, version: true) { key }
        }
        #expect(cache.count <= SingleFlightCache<Int, Bool, Int>.sweepEvery)
        let kept = SingleFlightCache<Int, Bool, Int>(lifetime: .seconds(600))
        for key in 0..<(SingleFlightCache<Int, Bool, Int>.sweepEvery * 2) {
            _ = try await kept.value(key, version: true) { key }
        }
        #expect(kept.count == SingleFlightCache<Int, Bool, Int>.sweepEvery * 2, "values still alive are kept")
    }

    final class Counter: Sendable {
        let loads = Mutex(0)
        func load(_ value: Int, after delay: Duration = .milliseconds(50), failing: Bool = false) async throws -> Int {
            loads.withLock { $0 += 1 }
            try await Task.sleep(for: delay)
            if failing { throw CancellationError() }
            return value
        }
        var count: Int { loads.withLock { $0 } }
    }

    @Test("callers of one key at once share one load; another version loads again; a failure is not kept")
    func sharing() async throws {
        let cache = SingleFlightCache<String, Int, Int>(lifetime: .seconds(60))
        let counter = Counter()
        let values = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<20 { group.addTask { try await cache.value("team", version: 1) { try await counter.load(7) } } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(values == Array(repeating: 7, count: 20))
        #expect(counter.count == 1)
        #expect(try await cache.value("team", version: 1) { try await counter.load(8) } == 7, "kept")
        #expect(try await cache.value("team", version: 2) { try await counter.load(9) } == 9, "another version")
        #expect(counter.count == 2)

        await #expect(throws: CancellationError.self) {
            try await cache.value("other", version: 1) { try await counter.load(1, failing: true) }
        }
        #expect(try await cache.value("other", version: 1) { try await counter.load(3) } == 3, "the failure was not kept")
        cache.forget { $0 == "other" }
        #expect(try await cache.value("other", version: 1) { try await counter.load(4) } == 4, "forgotten")
    }

    @Test("a value older than the lifetime is loaded again")
    func lifetime() async throws {
        let cache = SingleFlightCache<String, Int, Int>(lifetime: .milliseconds(1))
        #expect(try await cache.value("k", version: 0) { 1 } == 1)
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await cache.value("k", version: 0) { 2 } == 2)
    }
}
