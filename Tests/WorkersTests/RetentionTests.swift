import Fleet
import Foundation
import Logging
import Store
import SyncCore
import TestSupport
import Testing

@testable import Store
@testable import Workers

/// Rows of the workers' own state shapes, written straight to a store, and moved back in time.
enum RetentionSeed {
    /// A visit of `email`'s, its `visit.started` seen (what the visit worker saves first).
    static func visit(_ store: any SyncStore, team: String = FleetHarness.teamID, _ visitID: String, email: String?) async throws {
        var stored = StoredVisit(visitID: visitID)
        _ = stored.sync.apply(Events.started(visitID, email: email, team: team).payload)
        _ = try await store.saveState(
            teamID: team, kind: .visit, objectID: visitID, state: try StateCoding.encode(stored), expectedVersion: nil)
    }

    /// A document link whose Task lists `visitors`, with `pending` visitors waiting.
    static func link(
        _ store: any SyncStore, team: String = FleetHarness.teamID, _ linkID: String, kind: SyncObjectKind = .link,
        visitors: [String], pending: [String] = []
    ) async throws {
        var stored = StoredLink()
        stored.taskID = "00T\(linkID)"
        stored.visitors = LinkVisitorList(visitors: visitors.map { LinkVisitor(email: $0, name: "Someone") })
        stored.pending = pending.enumerated().map {
            PendingVisitor(visitID: "visit_p\($0.offset)", email: $0.element, name: nil, startedAt: Date())
        }
        _ = try await store.saveState(
            teamID: team, kind: kind, objectID: linkID, state: try StateCoding.encode(stored), expectedVersion: nil)
    }

    static func ledger(_ store: any SyncStore, team: String = FleetHarness.teamID, _ kind: SyncObjectKind, _ objectID: String) async throws {
        _ = try await store.recordLedgerEntry(
            teamID: team, kind: kind, objectID: objectID, salesforceType: kind == .lead ? "Lead" : "Task", salesforceID: "00X\(objectID)")
    }

    /// Moves the last save of these states (or the recording of these ledger entries) `days` back.
    static func backdate(_ store: any SyncStore, table: String, objectIDs: [String], days: Int) async throws {
        guard !objectIDs.isEmpty else { return }
        let base = (store as? TimeLimitedStore)?.base ?? store
        let column = table == "ledger" ? "created_at" : "updated_at"
        let list = objectIDs.map { "'\($0)'" }.joined(separator: ", ")
        switch base {
        case let sqlite as SQLiteStore:
            try await sqlite.execute(sql: "UPDATE \(table) SET \(column) = \(column) - \(days) * 86400000 WHERE object_id IN (\(list))")
        case let postgres as PostgresStore:
            try await postgres.execute(sql: "UPDATE \(table) SET \(column) = \(column) - interval '\(days) days' WHERE object_id IN (\(list))")
        default:
            throw TestFailure("backdating needs a SQLite or PostgreSQL store")
        }
    }

    static let quiet = Logger(label: "retention-tests", factory: { _ in SwiftLogNoOpLogHandler() })
}

@Suite("Retention: the workers prune the store", .timeLimit(.minutes(5)))
struct RetentionTests {
    static let day: Duration = .seconds(86_400)

    static func withSQLiteStore(_ body: (any SyncStore) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("retention-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await openStore(
            url: "sqlite://" + directory.appendingPathComponent("sync.db").path, encryptionKey: .random(),
            logger: RetentionSeed.quiet)
        do {
            try await body(store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }

    @Test("a pass removes at most a batch per table: ended visits, idle links, old ledger entries; fresh rows stay")
    func boundedPasses() async throws {
        try await Self.withSQLiteStore { store in
            let oldVisits = (0..<5).map { "visit_old\($0)" }
            for id in oldVisits + ["visit_fresh"] { try await RetentionSeed.visit(store, id, email: "\(id)@example.com") }
            for id in ["link_old", "link_fresh"] { try await RetentionSeed.link(store, id, visitors: ["a@example.com"]) }
            for id in oldVisits { try await RetentionSeed.ledger(store, .visit, id) }
            try await RetentionSeed.ledger(store, .visit, "visit_fresh")
            try await RetentionSeed.backdate(store, table: "sync_state", objectIDs: oldVisits, days: 31)
            try await RetentionSeed.backdate(store, table: "sync_state", objectIDs: ["link_old"], days: 181)
            try await RetentionSeed.backdate(store, table: "ledger", objectIDs: oldVisits, days: 91)

            let service = RetentionService(
                store: store, configuration: RetentionConfiguration(batch: 2, interval: .seconds(60)), logger: RetentionSeed.quiet)
            var passes: [RetentionService.Pass] = []
            for _ in 0..<4 { passes.append(await service.pass()) }
            #expect(passes.map { $0.removed["visit_states"] } == [2, 2, 1, 0])
            #expect(passes.map { $0.removed["ledger"] } == [2, 2, 1, 0])
            #expect(passes.map { $0.removed["link_states"] } == [1, 0, 0, 0])
            #expect(passes.map(\.full) == [true, true, false, false], "a full batch asks for the next pass soon")
            #expect(passes.allSatisfy { !$0.failed })

            for id in oldVisits { #expect(try await store.loadState(teamID: FleetHarness.teamID, kind: .visit, objectID: id) == nil) }
            #expect(try await store.loadState(teamID: FleetHarness.teamID, kind: .visit, objectID: "visit_fresh") != nil)
            #expect(try await store.loadState(teamID: FleetHarness.teamID, kind: .link, objectID: "link_old") == nil)
            #expect(try await store.loadState(teamID: FleetHarness.teamID, kind: .link, objectID: "link_fresh") != nil)
            #expect(try await store.recentLedgerEntries(teamID: FleetHarness.teamID, limit: 10).map(\.objectID) == ["visit_fresh"])
        }
    }

    @Test("an age turned off keeps that table; a failing store is counted and the pass goes on, never throws")
    func offAndFailures() async throws {
        try await Self.withSQLiteStore { store in
            try await RetentionSeed.visit(store, "visit_old", email: "a@example.com")
            try await RetentionSeed.ledger(store, .visit, "visit_old")
            try await RetentionSeed.backdate(store, table: "sync_state", objectIDs: ["visit_old"], days: 400)
            try await RetentionSeed.backdate(store, table: "ledger", objectIDs: ["visit_old"], days: 400)
            let ledgerOnly = RetentionService(
                store: store, configuration: RetentionConfiguration(visitStateAge: nil, linkStateAge: nil), logger: RetentionSeed.quiet)
            let pass = await ledgerOnly.pass()
            #expect(pass.removed == ["ledger": 1, "leases": 0])
            #expect(try await store.loadState(teamID: FleetHarness.teamID, kind: .visit, objectID: "visit_old") != nil)

            try await store.close()
            let failing = await RetentionService(store: store, configuration: RetentionConfiguration(), logger: RetentionSeed.quiet).pass()
            #expect(failing.failed)
            #expect(failing.removed.isEmpty)
        }
    }

    @Test("retention keys: defaults, days, 0 and off, and ages too short to be safe are refused")
    func configuration() throws {
        let defaults = try RetentionConfiguration(config: FleetConfiguration.reader(environment: [:]))
        #expect(defaults == RetentionConfiguration())
        #expect(defaults.visitStateAge == Self.day * 30 && defaults.linkStateAge == Self.day * 180 && defaults.ledgerAge == Self.day * 90)
        let set = try RetentionConfiguration(
            config: FleetConfiguration.reader(environment: [
                "DOCSEND_SYNC_RETENTION_VISIT_STATE_AGE": "7d", "DOCSEND_SYNC_RETENTION_LINK_STATE_AGE": "off",
                "DOCSEND_SYNC_RETENTION_LEDGER_AGE": "0", "DOCSEND_SYNC_RETENTION_BATCH": "50",
                "DOCSEND_SYNC_RETENTION_INTERVAL": "30s",
            ]))
        #expect(set == RetentionConfiguration(visitStateAge: Self.day * 7, linkStateAge: nil, ledgerAge: nil, batch: 50, interval: .seconds(30)))
        for bad in ["10m", "soon", "-1d", "1.5d"] {
            #expect(throws: ConfigurationError.self, "\(bad)") {
                _ = try RetentionConfiguration(config: FleetConfiguration.reader(environment: ["DOCSEND_SYNC_RETENTION_VISIT_STATE_AGE": bad]))
            }
        }
        let off = RetentionConfiguration(visitStateAge: nil, linkStateAge: nil, ledgerAge: nil)
        #expect(!off.isEnabled)
    }
}

/// Two real `docsend-sync worker` processes prune one store together (retention runs in every worker process).
@Suite(
    "Retention: worker processes",
    .enabled(if: FileManager.default.isExecutableFile(atPath: FleetHarness.binary) && TestBroker.isAvailable),
    .timeLimit(.minutes(5)))
struct RetentionProcessTests {
    @Test(arguments: StoreBackend.available)
    func twoProcessesPruneOneStore(backend: StoreBackend) async throws {
        try await FleetHarness.with(backend) { harness in
            let store = harness.store
            let oldVisits = (0..<120).map { "visit_old\($0)" }
            let freshVisits = (0..<5).map { "visit_fresh\($0)" }
            let oldLinks = (0..<6).map { "link_old\($0)" }
            for id in oldVisits + freshVisits { try await RetentionSeed.visit(store, id, email: "\(id)@example.com") }
            for id in oldLinks + ["link_fresh"] { try await RetentionSeed.link(store, id, visitors: ["v@example.com"]) }
            for id in oldVisits + freshVisits { try await RetentionSeed.ledger(store, .visit, id) }

            // Small batches and quick passes, so that both processes take part; the ages are the defaults.
            let environment = ["DOCSEND_SYNC_RETENTION_BATCH": "4", "DOCSEND_SYNC_RETENTION_INTERVAL": "300ms"]
            let workers = try (0..<2).map { _ in try harness.spawnWorker("links", environment: environment) }
            do {
                try await eventually(timeout: .seconds(60), "both workers started") {
                    workers.allSatisfy { $0.output.contains("workers started") }
                }
                // The rows turn old once both processes run, so that both find work.
                try await RetentionSeed.backdate(store, table: "sync_state", objectIDs: oldVisits + oldLinks, days: 200)
                try await RetentionSeed.backdate(store, table: "ledger", objectIDs: oldVisits, days: 100)
                try await eventually(timeout: .seconds(120), "every old row pruned") {
                    let visits = try await store.statesContaining(teamID: FleetHarness.teamID, text: "visit_old", after: nil, limit: 200)
                    let links = try await store.statesContaining(teamID: FleetHarness.teamID, text: "00Tlink_old", after: nil, limit: 200)
                    let ledger = try await store.recentLedgerEntries(teamID: FleetHarness.teamID, limit: 200)
                    return visits.isEmpty && links.isEmpty && ledger.count == freshVisits.count
                }
                for worker in workers {
                    #expect(await worker.terminate() == 0, "\(worker.output.suffix(2000))")
                }
            } catch {
                for worker in workers { worker.kill() }
                throw error
            }
            for worker in workers {
                #expect(!worker.output.contains("a retention pass failed"), "\(worker.output.suffix(2000))")
            }
            let pruning = workers.filter { $0.output.contains("docsend-pruned-") }
            #expect(pruning.count == 2, "both processes pruned")
            for id in freshVisits {
                #expect(try await store.loadState(teamID: FleetHarness.teamID, kind: .visit, objectID: id) != nil)
                #expect(try await store.ledgerEntry(teamID: FleetHarness.teamID, kind: .visit, objectID: id) != nil)
            }
            #expect(try await store.loadState(teamID: FleetHarness.teamID, kind: .link, objectID: "link_fresh") != nil)
        }
    }
}
