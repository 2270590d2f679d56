import AMQP
import Fleet
import Foundation
import Jobs
import Logging
import SalesforceSandbox
import ServiceLifecycle
import Store
import SyncCore
import TestSupport
import Testing

@testable import Workers

/// The defects a review of the fleet found, each provoked: a lost re-sync tick or visitor refresh, a lead lease
/// outlived by its Salesforce calls, a team waiting for a new login, two upserts racing on one Task, and a
/// parking lot past a thousand messages.
@Suite("Fleet defects, provoked", .enabled(if: TestBroker.isAvailable), .timeLimit(.minutes(10)))
struct FleetDefectTests {
    static let taskUpsertPath = "/services/data/*/composite/sobjects/Task/DocSend_Visit_Id__c"
    /// Later writes (re-syncs, visitor refreshes) update Tasks by id: sObject Collections `PATCH composite/sobjects`.
    static let taskUpdatePath = "/services/data/*/composite/sobjects"

    @Test("a re-sync tick parked after its retries: the next update of the visit schedules another, and the Task catches up")
    func parkedTick() async throws {
        try await FleetHarness.with(.sqlite) { harness in
            let started = Events.started(email: "alice@acme.example")
            guard case .visitStarted(let visit) = started.payload else { return }
            try await harness.runWorkers([.visits]) {
                try await harness.publish(started)
                try await eventually("the Task written") { await harness.visitWrites(visit.visitID) == 1 }
                // Every Task update fails: tick 1 goes through both retry tiers and is parked.
                await harness.sandbox.org.setFaults(FaultSettings(rules: [FaultRule(kind: .unableToLockRow, path: Self.taskUpdatePath)]))
                try await harness.publish(Events.updated(visit.visitID, duration: 30, percent: 40))
                try await eventually("tick 1 parked") {
                    try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 1
                }
                await harness.sandbox.org.setFaults(FaultSettings())
                let pending = try #require(try await harness.visitState(visit.visitID)?.sync.pendingTick)
                // Past the tick's grace (its interval and every retry tier), the visitor is still reading.
                try await Task.sleep(for: .seconds(3))
                try await harness.publish(Events.updated(visit.visitID, duration: 95, percent: 80))
                try await eventually("the Task updated with the newest progress") {
                    try await harness.visitState(visit.visitID)?.sync.lastSynced
                        == SyncedVisitValues(durationSeconds: 95, percentViewed: 80)
                }
                #expect(try await harness.visitState(visit.visitID)?.sync.ticksScheduled ?? 0 > pending)
            }
            #expect(await harness.tasks("DocSend_Visit_Id__c", visit.visitID).count == 1)
        }
    }

    @Test("a visitor refresh parked after its retries: the link's next visitor schedules another, and the Task lists them all")
    func parkedVisitorRefresh() async throws {
        try await FleetHarness.with(.sqlite) { harness in
            let account = AccountInfo(id: "acct_globex", name: "Globex", salesforceAccountID: SandboxSeed.Ids.globex)
            let link = Events.linkCreated("link_refresh", account: account)
            try await harness.runWorkers([.links]) {
                try await harness.publish(link)
                try await eventually("the link Task written") { try await harness.linkState("link_refresh")?.taskID != nil }
                await harness.sandbox.org.setFaults(FaultSettings(rules: [FaultRule(kind: .unableToLockRow, path: Self.taskUpdatePath)]))
                try await harness.publish(Events.started(email: "bob@acme.example", name: "Bob", link: "link_refresh"))
                try await eventually("the refresh parked") {
                    try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 1
                }
                await harness.sandbox.org.setFaults(FaultSettings())
                // Past the refresh's grace (its delay twice and every retry tier).
                try await Task.sleep(for: .seconds(2))
                try await harness.publish(Events.started(email: "carol@acme.example", name: "Carol", link: "link_refresh"))
                try await eventually("both visitors on the Task") {
                    try await harness.linkState("link_refresh")?.visitors.visitors.count == 2
                }
            }
            let task = try #require(await harness.tasks("DocSend_Link_Id__c", "link_refresh").first)
            let description = task["Description"]?.stringValue ?? ""
            #expect(description.contains("bob@acme.example") && description.contains("carol@acme.example"))
        }
    }

    @Test("a lead lease outlived by a slow Lead creation is renewed: two workers, one visitor, one Lead")
    func leadLeaseRenewed() async throws {
        try await FleetHarness.with(.sqlite, settings: TeamSettings(createLeadsForUnmatchedEmails: true)) { harness in
            // Creating the Lead takes 5 s (Salesforce creates it at the end) under a 2 s lease: without renewal, the
            // other worker takes the lease over at 2 s, finds no Lead yet, and creates a second one.
            await harness.sandbox.org.setFaults(
                FaultSettings(latency: LatencySpec(fixedMs: 5000, path: "/services/data/*/sobjects/Lead")))
            let http = try HTTPClientBox()
            var services: [any Service] = []
            var connections: [AMQPConnection] = []
            for _ in 0..<2 {
                let connection = try await TestBroker.connect(name: "lease")
                connections.append(connection)
                let orgs = TeamOrgs(store: harness.store, app: harness.app, http: http.client, logger: FleetHarness.logger)
                services.append(
                    JobProcessor(
                        role: .leads, queue: AMQPJobQueue(connection: connection, topology: harness.topology),
                        handler: LeadHandler(orgs: orgs, leaseDuration: .seconds(2)),
                        configuration: .init(concurrency: 1, prefetch: 1, retry: harness.topology.retryStrategy),
                        classify: { error, _ in WorkFailure.classify(error) }, logger: FleetHarness.logger))
            }
            try await FleetHarness.running(services) {
                for visit in ["visit_a", "visit_b"] {
                    let request = LeadRequest(
                        teamID: FleetHarness.teamID, visitID: visit, visitorEmail: "newcomer@initech.example",
                        visitorName: "New Comer", accountName: "Initech", ownerID: nil)
                    try await AMQPJobQueue(connection: harness.broker, topology: harness.topology).push(.leadRequest(request))
                }
                try await eventually(timeout: .seconds(60), "both requests answered") {
                    try await harness.broker.queueStatus(harness.topology.queue(.visits)).messages == 2
                }
            }
            for connection in connections { await connection.close() }
            #expect(await harness.leads(email: "newcomer@initech.example").count == 1)
            #expect(try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 0)
        }
    }

    @Test("a team whose connection needs a new login keeps at most its limit parked; reconnected, a replay syncs them")
    func loginHolds() async throws {
        try await FleetHarness.with(.sqlite) { harness in
            try await harness.store.markNeedsReauthentication(teamID: FleetHarness.teamID, reason: "refresh token revoked")
            let connection = try await TestBroker.connect(name: "holds")
            let http = try HTTPClientBox()
            let orgs = TeamOrgs(store: harness.store, app: harness.app, http: http.client, logger: FleetHarness.logger)
            let services = WorkerProcess.processors(
                roles: [.visits], queue: AMQPJobQueue(connection: connection, topology: harness.topology),
                topology: harness.topology, orgs: orgs, concurrency: 2,
                prefetch: 4, holds: LoginHolds(store: harness.store, limit: 3), logger: FleetHarness.logger)
            let visits = (0..<5).map { _ in Events.started(email: "alice@acme.example") }
            try await FleetHarness.running(services) {
                for event in visits { try await harness.publish(event) }
                try await eventually("all handled") {
                    let ready = try await harness.broker.queueStatus(harness.topology.queue(.visits)).messages
                    let parked = try await harness.broker.queueStatus(harness.topology.parkingQueue).messages
                    return ready == 0 && parked == 3
                }
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 3)

                try await harness.connectTeam(settings: TeamSettings())
                let replay = try await ParkingLot(connection: harness.broker, topology: harness.topology)
                    .replay(codePrefix: WorkFailure.reauthenticationCode)
                #expect(replay.replayed == 3 && replay.kept == 0)
                try await eventually("the kept visits synced") { await harness.tasks().count == 3 }
            }
            await connection.close()
        }
    }

    @Test("two upserts racing on one Task: the loser's DUPLICATE_VALUE upserts again, one Task, nothing parked",
          arguments: StoreBackend.available)
    func duplicateValue(backend: StoreBackend) async throws {
        try await FleetHarness.with(backend) { harness in
            await harness.sandbox.org.setFaults(
                FaultSettings(rules: [FaultRule(kind: .duplicateValue, count: 1, path: Self.taskUpsertPath)]))
            let event = Events.started(email: "alice@acme.example")
            guard case .visitStarted(let visit) = event.payload else { return }
            try await harness.runWorkers([.visits]) {
                try await harness.publish(event)
                try await eventually("synced") { try await harness.visitState(visit.visitID)?.sync.syncCount == 1 }
            }
            #expect(await harness.tasks("DocSend_Visit_Id__c", visit.visitID).count == 1)
            #expect(try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 0)
            let faults = await harness.sandbox.org.requests().filter { $0.fault == "duplicate_value" }
            #expect(faults.count == 1, "the fault fired")
        }
    }

    @Test("parking replay goes through 1,200 parked messages and keeps the ones that do not match; list never hangs")
    func replayPastAThousand() async throws {
        try await FleetHarness.with(.sqlite) { harness in
            let visits = harness.topology.queue(.visits)
            for n in 0..<1200 {
                var properties = AMQPProperties(messageID: "parked_\(n)", type: "visit.updated")
                properties.headers[WorkHeaders.failureCode] = .string(n % 4 == 0 ? "keep_me" : "team_not_connected")
                properties.headers[WorkHeaders.originQueue] = .string(visits)
                try await harness.broker.publish(
                    AMQPMessage(
                        exchange: harness.topology.workExchange, routingKey: harness.topology.parkingQueue,
                        body: Data("{}".utf8), properties: properties))
            }
            let lot = ParkingLot(connection: harness.broker, topology: harness.topology, idleTimeout: .seconds(3))
            #expect(try await lot.list(limit: 5000).count == ParkingLot.listLimit)
            try await eventually("the listed ones back") {
                try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 1200
            }
            let result = try await lot.replay(codePrefix: "team_not_connected")
            #expect(result.replayed == 900 && result.kept == 300)
            try await eventually("the replayed ones in their queue, the rest still parked") {
                let replayed = try await harness.broker.queueStatus(visits).messages
                let parked = try await harness.broker.queueStatus(harness.topology.parkingQueue).messages
                return replayed == 900 && parked == 300
            }
            let kept = try await lot.list(limit: 500)
            #expect(kept.count == 300 && kept.allSatisfy { $0.failureCode == "keep_me" })
        }
    }
}

/// Transient Salesforce failures inside one attempt: retried in place, without a trip through the retry tiers and
/// without repeating the attempt's lookups.
@Suite("Transient Salesforce failures in place", .enabled(if: TestBroker.isAvailable), .timeLimit(.minutes(10)))
struct TransientFailureTests {
    @Test("an HTML 503 maintenance page on a lookup and UNABLE_TO_LOCK_ROW on the upsert: synced in the first attempt, each lookup sent once more at most",
          arguments: StoreBackend.available)
    func retriedInPlace(backend: StoreBackend) async throws {
        try await FleetHarness.with(backend) { harness in
            await harness.sandbox.org.setFaults(
                FaultSettings(rules: [
                    FaultRule(kind: .maintenancePage, count: 1, path: "/services/data/*/query*"),
                    FaultRule(kind: .unableToLockRow, count: 1, path: FleetDefectTests.taskUpsertPath),
                ]))
            let event = Events.started(email: "alice@acme.example")
            guard case .visitStarted(let visit) = event.payload else { return }
            try await harness.runWorkers([.visits]) {
                try await harness.publish(event)
                try await eventually("synced") { try await harness.visitState(visit.visitID)?.sync.syncCount == 1 }
            }
            let requests = await harness.sandbox.org.requests()
            #expect(requests.filter { $0.fault == "maintenance_page" }.count == 1)
            #expect(requests.filter { $0.fault == "unable_to_lock_row" }.count == 1)
            let queries = requests.filter { $0.path.hasSuffix("/query") }
            let contactQueries = queries.filter { ($0.query["q"] ?? "").contains("FROM Contact") }
            #expect(contactQueries.count <= 2, "the Contact lookup is not repeated by a new attempt")
            var upsertStatuses: [Int?] = []
            for request in requests where request.method == "PATCH" { upsertStatuses.append(request.status) }
            // A collection upsert answers 200 with each record's result.
            #expect(upsertStatuses == [400, 200], "the upsert sent once more, in place")
            #expect(try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 0)
            #expect(await harness.tasks("DocSend_Visit_Id__c", visit.visitID).count == 1)
        }
    }
}
