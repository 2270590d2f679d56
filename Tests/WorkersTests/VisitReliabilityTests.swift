import AMQP
import Foundation
import SalesforceSandbox
import Store
import SyncCore
import TestSupport
import Testing

@testable import Workers

/// What goes wrong, provoked: duplicates, a killed worker, concurrent lead requests, Salesforce failures and
/// poison messages. Retries and parking run on the in-memory queue and end to end (real broker, sandbox over
/// HTTP, each store backend); the rest end to end.
@Suite("Visit worker failure modes", .timeLimit(.minutes(10)))
struct VisitReliabilityTests {
    static let taskUpsertPath = "/services/data/*/composite/sobjects/Task/DocSend_Visit_Id__c"

    @Test("the same visit.started delivered 3 times leaves one Task, written once", .enabled(if: TestBroker.isAvailable), arguments: StoreBackend.available)
    func tripleDelivery(backend: StoreBackend) async throws {
        try await FleetHarness.with(backend) { harness in
            let event = Events.started(email: "alice@acme.example")
            guard case .visitStarted(let visit) = event.payload else { return }
            try await harness.runWorkers([.visits], instances: 2) {
                for _ in 0..<3 { try await harness.publish(event) }
                try await eventually("the three deliveries handled") {
                    let ready = try await harness.broker.queueStatus(harness.topology.queue(.visits)).messages
                    let syncs = try await harness.visitState(visit.visitID)?.sync.syncCount
                    return ready == 0 && syncs == 1
                }
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(await harness.tasks("DocSend_Visit_Id__c", visit.visitID).count == 1)
            #expect(try await harness.visitState(visit.visitID)?.sync.syncCount == 1)
        }
    }

    @Test("a worker killed with SIGKILL mid-sync: the next one finishes it on the same Task",
          .enabled(if: FileManager.default.isExecutableFile(atPath: FleetHarness.binary)),
          .enabled(if: TestBroker.isAvailable), arguments: StoreBackend.available)
    func killedMidSync(backend: StoreBackend) async throws {
        try await FleetHarness.with(backend) { harness in
            // The Task upsert takes 3 s: the first worker is killed while Salesforce is writing it.
            await harness.sandbox.org.setFaults(FaultSettings(latency: LatencySpec(fixedMs: 3000, path: Self.taskUpsertPath)))
            let event = Events.started(email: "alice@acme.example")
            guard case .visitStarted(let visit) = event.payload else { return }
            let first = try harness.spawnWorker("visits")
            try await harness.publish(event)
            try await eventually("the upsert under way") {
                await harness.sandbox.org.requests().contains { $0.path.hasSuffix("/query") || $0.query["q"] != nil }
            }
            try await Task.sleep(for: .milliseconds(1500))
            first.kill()
            #expect(try await harness.visitState(visit.visitID) == nil, "the killed worker saved nothing")
            try await eventually("Salesforce finished the killed worker's write") {
                await harness.tasks("DocSend_Visit_Id__c", visit.visitID).count == 1
            }
            let second = try harness.spawnWorker("visits")
            try await eventually(timeout: .seconds(30), "the redelivered message handled") {
                try await harness.visitState(visit.visitID)?.sync.syncCount == 1
            }
            #expect(await second.terminate() == 0, "\(second.output)")
            #expect(await harness.tasks("DocSend_Visit_Id__c", visit.visitID).count == 1)
            #expect(await harness.visitWrites(visit.visitID) == 2, "the write was repeated, on the same Task")
        }
    }

    @Test("20 visits by one unknown email at once, across 3 lead workers, make one Lead", .enabled(if: TestBroker.isAvailable), arguments: StoreBackend.available)
    func oneLeadForManyVisits(backend: StoreBackend) async throws {
        try await FleetHarness.with(backend, settings: TeamSettings(createLeadsForUnmatchedEmails: true)) { harness in
            let visits = (0..<20).map { index in
                Events.started(email: index % 2 == 0 ? "New.Person@bigco.example" : "new.person@BIGCO.example", name: "New Person")
            }
            let ids = visits.compactMap { event -> String? in
                if case .visitStarted(let visit) = event.payload { return visit.visitID }
                return nil
            }
            try await harness.runWorkers([.visits, .leads], instances: 3) {
                for event in visits { try await harness.publish(event) }
                // Bounded generously: alone it takes about 2 s; the whole suite in parallel on 2 cores once took over 60.
                try await eventually(timeout: .seconds(180), "every visit's Task") {
                    var written = 0
                    for id in ids where await harness.visitWrites(id) > 0 { written += 1 }
                    return written == ids.count
                }
            }
            let leads = await harness.leads(email: "new.person@bigco.example")
            #expect(leads.count == 1)
            let lead = try #require(leads.first)
            for id in ids {
                #expect(await harness.tasks("DocSend_Visit_Id__c", id).map { $0["WhoId"]?.stringValue } == [lead.id])
            }
        }
    }

    @Test("a duplicate rule refusing the Lead points at an existing one: no second Lead", arguments: WorldSetup.available)
    func duplicateRule(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: TeamSettings(createLeadsForUnmatchedEmails: true)) { harness in
            try await harness.sandbox.org.setDuplicateRules([DuplicateRuleSeed(object: "Lead", fields: ["LastName", "Company"], action: .alert)])
            _ = try await harness.sandbox.org.create(
                "Lead", JSONObject([("LastName", .string("Person")), ("Company", .string("Bigco")), ("Email", .string("other@bigco.example"))]))
            let event = Events.started(email: "new.person@bigco.example", name: "New Person", account: AccountInfo(id: "a", name: "Bigco"))
            guard case .visitStarted(let visit) = event.payload else { return }
            try await harness.runWorkers([.visits, .leads]) {
                try await harness.publish(event)
                try await eventually("the Task") { await harness.visitWrites(visit.visitID) > 0 }
            }
            let leads = await harness.leads(email: "new.person@bigco.example")
            #expect(leads.count == 1, "an alert rule on name and company is saved through with allowSave")
        }
    }

    @Test("Salesforce 500, 503, UNABLE_TO_LOCK_ROW, 403 REQUEST_LIMIT_EXCEEDED, 401 and a timeout: retried to one Task",
          arguments: WorldSetup.available)
    func transientSalesforceFailures(setup: WorldSetup) async throws {
        let tiers: [Duration] = [.milliseconds(200), .milliseconds(400), .milliseconds(600), .milliseconds(800), .seconds(1)]
        try await FleetHarness.with(setup, retryIntervals: tiers) { harness in
            await harness.sandbox.org.setFaults(
                FaultSettings(
                    rules: [
                        .next(1, .serverError, path: Self.taskUpsertPath),
                        .next(1, .serviceUnavailable, path: Self.taskUpsertPath),
                        .next(1, .unableToLockRow, path: Self.taskUpsertPath),
                        .next(1, .requestLimitExceeded, path: Self.taskUpsertPath),
                        .next(1, .invalidSession, path: Self.taskUpsertPath),
                        .next(1, .hang, path: Self.taskUpsertPath),
                    ], hangSeconds: 30))
            let event = Events.started(email: "alice@acme.example")
            guard case .visitStarted(let visit) = event.payload else { return }
            try await harness.runWorkers([.visits]) {
                try await harness.publish(event)
                try await eventually(timeout: .seconds(60), "the Task after the failures") {
                    try await harness.visitState(visit.visitID)?.sync.syncCount == 1
                }
            }
            #expect(await harness.tasks("DocSend_Visit_Id__c", visit.visitID).count == 1)
            #expect(try await harness.parkedCount() == 0)
        }
    }

    // A failure of the record, not of the org: a 5xx everywhere would pause the org instead (OrgBudgetTests), and its
    // messages would wait rather than use up their attempts.
    @Test("Salesforce failing a record every time: retried through each tier, then parked with the reason, time and attempts",
          arguments: WorldSetup.available)
    func retriesExhausted(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup) { harness in
            await harness.sandbox.org.setFaults(FaultSettings(rules: [FaultRule(kind: .unableToLockRow, path: Self.taskUpsertPath)]))
            let event = Events.started(email: "alice@acme.example")
            guard case .visitStarted(let visit) = event.payload else { return }
            try await harness.runWorkers([.visits]) {
                try await harness.publish(event)
                try await eventually("parked") { try await harness.parkedCount() == 1 }
            }
            let summary = try #require(try await harness.parkedSummaries().first)
            #expect(summary.attempts == 3)
            #expect(summary.code == "salesforce.UNABLE_TO_LOCK_ROW")
            #expect(summary.reason?.hasPrefix("retries exhausted after 3 attempts") == true)
            #expect(try Event.decode(from: summary.body).id == event.id, "the body is the original event")
            if setup.transport == .broker {
                let parked = try #require(try await harness.parked().first)
                #expect(parked.properties.headers[WorkHeaders.failedAt]?.stringValue != nil)
                #expect(parked.properties.headers[WorkHeaders.originQueue]?.stringValue == harness.topology.queue(.visits))
                #expect(parked.properties.headers["x-death"] == nil)
            }
            #expect(await harness.visitWrites(visit.visitID) == 0)
        }
    }

    @Test("the space-link external-id field missing from the org: visits and document links sync, a space link is parked with the field named",
          arguments: WorldSetup.available)
    func spaceLinkFieldMissing(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: TeamSettings(createLeadsForUnmatchedEmails: false)) { harness in
            var seed = SandboxSeed.workerTests
            seed.customTaskFields?.removeAll { $0.name == "DocSend_Space_Link_Id__c" }
            try await harness.sandbox.org.reset(to: seed)
            let visit = Events.started(email: "alice@acme.example")
            let link = Events.linkCreated(account: Events.acme)
            guard case .visitStarted(let started) = visit.payload, case .linkCreated(let created) = link.payload else { return }
            try await harness.runWorkers([.visits, .links]) {
                try await harness.publish(visit)
                try await harness.publish(link)
                try await harness.publish(Events.spaceLinkCreated(account: Events.acme))
                try await eventually("the visit and link Tasks, the space link parked") {
                    let visitTask = await harness.tasks("DocSend_Visit_Id__c", started.visitID).count == 1
                    let linkTask = await harness.tasks("DocSend_Link_Id__c", created.linkID).count == 1
                    let parked = try await harness.parkedCount()
                    return visitTask && linkTask && parked == 1
                }
            }
            let parked = try #require(try await harness.parkedSummaries().first)
            #expect(parked.code == "field_mapping_invalid")
            #expect(parked.reason?.contains("DocSend_Space_Link_Id__c") == true, "\(parked.reason ?? "")")
            #expect(parked.reason?.contains("space link Tasks") == true, "\(parked.reason ?? "")")
        }
    }

    @Test("the visit external-id field unique but case-insensitive: visits are parked saying so, links sync",
          arguments: WorldSetup.available)
    func visitFieldNotCaseSensitive(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup, settings: TeamSettings(createLeadsForUnmatchedEmails: false)) { harness in
            var seed = SandboxSeed.workerTests
            seed.customTaskFields = seed.customTaskFields?.map { field in
                var field = field
                if field.name == "DocSend_Visit_Id__c" { field.caseSensitive = false }
                return field
            }
            try await harness.sandbox.org.reset(to: seed)
            let visit = Events.started(email: "alice@acme.example")
            let link = Events.linkCreated(account: Events.acme)
            guard case .visitStarted(let started) = visit.payload, case .linkCreated(let created) = link.payload else { return }
            try await harness.runWorkers([.visits, .links]) {
                try await harness.publish(visit)
                try await harness.publish(link)
                try await eventually("the link Task, the visit parked") {
                    let linkTask = await harness.tasks("DocSend_Link_Id__c", created.linkID).count == 1
                    let parked = try await harness.parkedCount()
                    return linkTask && parked == 1
                }
            }
            #expect(await harness.tasks("DocSend_Visit_Id__c", started.visitID).isEmpty)
            let parked = try #require(try await harness.parkedSummaries().first)
            #expect(parked.code == "field_mapping_invalid")
            #expect(parked.reason?.contains("DocSend_Visit_Id__c") == true, "\(parked.reason ?? "")")
            #expect(parked.reason?.contains("case sensitive") == true, "\(parked.reason ?? "")")
        }
    }

    @Test("a mapped field deleted in Salesforce: parked at once with Salesforce's error", arguments: WorldSetup.available)
    func mappedFieldDeleted(setup: WorldSetup) async throws {
        let settings = TeamSettings(fieldMapping: [.visitDuration: "DocSend_Duration__c"])
        try await FleetHarness.with(setup, settings: settings) { harness in
            let first = Events.started(email: "alice@acme.example")
            let second = Events.started(email: "alice@acme.example")
            guard case .visitStarted(let visit) = first.payload else { return }
            try await harness.runWorkers([.visits]) {
                try await harness.publish(first)
                try await eventually("the first Task") { await harness.visitWrites(visit.visitID) == 1 }
                var seed = SandboxSeed.workerTests
                seed.customTaskFields?.removeAll { $0.name == "DocSend_Duration__c" }
                try await harness.sandbox.org.reset(to: seed)
                try await harness.publish(second)
                try await eventually("parked") { try await harness.parkedCount() == 1 }
            }
            let parked = try #require(try await harness.parkedSummaries().first)
            #expect(parked.code == "salesforce.INVALID_FIELD")
            #expect(parked.attempts == 1)
            #expect(parked.reason?.contains("DocSend_Duration__c") == true)
        }
    }

    @Test("a refused refresh token: parked, and the connection flagged for a new login", arguments: WorldSetup.available)
    func revokedConnection(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup) { harness in
            let revoke = SandboxHTTPRequest(
                method: "POST", path: "/services/oauth2/revoke", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                body: Data("token=\(SandboxSeed.Demo.refreshToken)".utf8))
            _ = await harness.sandbox.org.handle(revoke)
            await harness.sandbox.org.expireAllAccessTokens()
            try await harness.runWorkers([.visits]) {
                try await harness.publish(Events.started(email: "alice@acme.example"))
                try await eventually("parked") { try await harness.parkedCount() == 1 }
            }
            let parked = try #require(try await harness.parkedSummaries().first)
            #expect(parked.code == "salesforce_reauthentication_required")
            let connection = try #require(try await harness.store.connection(teamID: FleetHarness.teamID))
            #expect(connection.needsReauthentication)
        }
    }

    @Test("poison messages are parked with their reason and the queue keeps flowing", arguments: WorldSetup.available)
    func poisonMessages(setup: WorldSetup) async throws {
        try await FleetHarness.with(setup) { harness in
            let good = Events.started(email: "alice@acme.example")
            guard case .visitStarted(let visit) = good.payload else { return }
            var missingKey = try #require(try JSONSerialization.jsonObject(with: good.encoded()) as? [String: Any])
            var data = try #require(missingKey["data"] as? [String: Any])
            data.removeValue(forKey: "visit_id")
            missingKey["data"] = data
            let bodies: [(Data, String)] = [
                (Data("{not json".utf8), "contract_violation.invalid_json"),
                (try JSONSerialization.data(withJSONObject: missingKey), "contract_violation.missing_key"),
                (Data(repeating: UInt8(ascii: " "), count: 2 << 20) + Data("{}".utf8), "contract_violation.body_too_large"),
            ]
            try await harness.runWorkers([.visits]) {
                for (body, _) in bodies { try await harness.publishRaw(key: "visit.started", body: body) }
                try await harness.publish(good)
                try await eventually("the good event synced and the bad ones parked") {
                    let synced = await harness.visitWrites(visit.visitID) == 1
                    let parked = try await harness.parkedCount()
                    return synced && parked == bodies.count
                }
            }
            #expect(try await harness.parkedCodes().sorted() == bodies.map(\.1).sorted())
        }
    }
}
