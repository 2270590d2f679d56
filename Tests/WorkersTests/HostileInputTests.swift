import AMQP
import Fleet
import Foundation
import Jobs
import HTTP
import Logging
import SalesforceSandbox
import ServiceLifecycle
import Store
import SyncCore
import TestSupport
import Testing

@testable import Workers

/// What a real event bus carries, provoked against a real `docsend-sync worker` process: hostile properties and
/// headers, forged internal messages, a corpus of malformed bodies, and the events of teams that never connected.
@Suite(
    "Hostile input", .enabled(if: TestBroker.isAvailable),
    .enabled(if: FileManager.default.isExecutableFile(atPath: FleetHarness.binary)), .timeLimit(.minutes(10)))
struct HostileInputTests {
    /// A message on the public exchange, as any producer could send it.
    static func raw(
        _ harness: FleetHarness, key: String = "visit.updated", body: Data, properties: AMQPProperties
    ) -> AMQPMessage {
        AMQPMessage(exchange: harness.topology.activityExchange, routingKey: key, body: body, properties: properties)
    }

    @Test("docsend-attempts = Int64.max, a 3 s expiration, priority, user_id and reply_to: parked without them, still parked later")
    func hostileProperties() async throws {
        try await FleetHarness.with(.sqlite) { harness in
            let worker = try harness.spawnWorker("visits")
            var properties = AMQPProperties(
                contentType: "application/json", headers: [WorkHeaders.attempts: .int(Int64.max), "x-death": .string("forged"), "foreign": "kept?"],
                priority: 9, correlationID: "c-1", replyTo: "producer.replies", expiration: "3000",
                messageID: "evt_hostile", type: "visit.updated", userID: "guest", appID: "producer")
            try await harness.broker.publish(Self.raw(harness, body: Data("{not json".utf8), properties: properties))
            properties.headers[WorkHeaders.attempts] = .int(-7)
            try await harness.broker.publish(Self.raw(harness, body: Data("[]".utf8), properties: properties))
            try await eventually("both parked") {
                try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 2
            }
            try await Task.sleep(for: .seconds(5))  // past the producer's 3 s expiration
            let parked = try await harness.parked()
            #expect(parked.count == 2, "a parked message must stay until an operator acts")
            for message in parked {
                let p = message.properties
                #expect(p.expiration == nil && p.priority == nil && p.userID == nil && p.replyTo == nil && p.correlationID == nil)
                #expect(p.headers["x-death"] == nil && p.headers["foreign"] == nil)
                #expect(p.messageID == "evt_hostile" && p.type == "visit.updated" && p.persistent)
                #expect(p.headers[WorkHeaders.failureCode]?.stringValue?.hasPrefix("contract_violation.") == true)
            }
            // Int64.max counts as the most attempts there are (parked at once); -7 as none.
            #expect(Set(parked.compactMap { $0.properties.headers[WorkHeaders.attempts]?.intValue }) == [1, Int64(WorkHeaders.maximumAttempts) + 1])
            #expect(worker.process.isRunning, "\(worker.output)")
            #expect(await worker.terminate() == 0)
        }
    }

    @Test("headers nested 17,000 levels deep: the worker stays up, the message is parked with the reason and stays parked")
    func deepHeaders() async throws {
        try await FleetHarness.with(.sqlite) { harness in
            let worker = try harness.spawnWorker("visits")
            let queue = harness.topology.queue(.visits)
            let raw = try RawPublisher(url: try #require(TestBroker.url))
            let body = Array(Events.updated("visit_deep", duration: 5, percent: 10).encoded())
            try raw.publish(routingKey: queue, headers: HostileHeaders.nestedTables(depth: 17_000), body: body)
            try raw.publish(routingKey: queue, headers: HostileHeaders.wideArray(count: 100_000), body: body)
            raw.close()
            try await eventually("both parked") { try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 2 }
            try await Task.sleep(for: .seconds(2))
            let parked = try await harness.parked()
            #expect(parked.count == 2)
            #expect(parked.allSatisfy { $0.properties.headers[WorkHeaders.failureCode]?.stringValue == "contract_violation.properties" })
            let reasons = parked.compactMap { $0.properties.headers[WorkHeaders.failureReason]?.stringValue }
            #expect(reasons.contains { $0.contains("deeper than") }, "\(reasons)")
            #expect(worker.process.isRunning, "\(worker.output.suffix(2000))")
            let valid = Events.started(email: "alice@acme.example")
            guard case .visitStarted(let visit) = valid.payload else { return }
            try await harness.publish(valid)
            try await eventually("a valid visit after them synced") { await harness.tasks("DocSend_Visit_Id__c", visit.visitID).count == 1 }
            #expect(await worker.terminate() == 0)
        }
    }

    @Test("an internal message type through the public exchange is parked as a contract violation, never handled")
    func forgedInternalMessages() async throws {
        try await FleetHarness.with(.sqlite, settings: TeamSettings(createLeadsForUnmatchedEmails: true)) { harness in
            let worker = try harness.spawnWorker("all")
            let lead = LeadRequest(
                teamID: FleetHarness.teamID, visitID: "visit_forged", visitorEmail: "forged@evil.example",
                visitorName: "Forged", accountName: nil, ownerID: nil)
            let tick = VisitResyncTick(teamID: FleetHarness.teamID, visitID: "visit_forged", sequence: 1)
            try await harness.broker.publish(
                Self.raw(
                    harness, key: "visit.started", body: try JobCoding.encode(.leadRequest(lead)),
                    properties: AMQPProperties(type: JobName.leadRequest)))
            try await harness.broker.publish(
                Self.raw(
                    harness, body: try JobCoding.encode(.visitResync(tick)),
                    properties: AMQPProperties(type: JobName.visitResync)))
            // visit.started reaches the visits and the links queues: visits parks it, links completes its copy.
            try await eventually("parked") {
                let parked = try await harness.broker.queueStatus(harness.topology.parkingQueue).messages
                let links = try await harness.broker.queueStatus(harness.topology.queue(.links)).messages
                return parked == 2 && links == 0
            }
            try await Task.sleep(for: .seconds(1))
            let codes = try await harness.parked().compactMap { $0.properties.headers[WorkHeaders.failureCode]?.stringValue }
            #expect(codes == Array(repeating: "contract_violation.internal_type", count: 2))
            #expect(await harness.leads(email: "forged@evil.example").isEmpty)
            #expect(try await harness.broker.queueStatus(harness.topology.queue(.leads)).messages == 0)
            #expect(await worker.terminate() == 0)
        }
    }

    @Test("events of a team that never connected Salesforce: acknowledged, nothing parked, nothing stored")
    func teamNeverConnected() async throws {
        try await FleetHarness.with(.sqlite) { harness in
            let worker = try harness.spawnWorker("all")
            var events: [Event] = []
            for n in 0..<10 {
                let started = Events.started(email: "v\(n)@acme.example", team: "team_never")
                guard case .visitStarted(let visit) = started.payload else { return }
                events += [started, Events.updated(visit.visitID, duration: 30, percent: 50, team: "team_never")]
            }
            events.append(Events.linkCreated("link_never", account: AccountInfo(id: "acct_1", name: "Acme Corp"), team: "team_never"))
            for event in events { try await harness.publish(event) }
            try await eventually("every queue drained") {
                for role in SyncTopology.Role.allCases {
                    let status = try await harness.broker.queueStatus(harness.topology.queue(role))
                    if status.messages > 0 { return false }
                }
                return worker.output.components(separatedBy: "acknowledged without syncing").count - 1 == 31
            }
            #expect(try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 0)
            #expect(try await harness.store.loadState(teamID: "team_never", kind: .link, objectID: "link_never") == nil)
            #expect(try await harness.store.loadState(teamID: "team_never", kind: .link, objectID: "link_1") == nil)
            #expect(await harness.tasks().isEmpty)
            #expect(await worker.terminate() == 0)
        }
    }

    @Test("a malformed visit.started, which the visits and links queues both receive, is parked once (by visits); the links copy is completed and counted")
    func badVisitStartedParkedOnce() async throws {
        try await FleetHarness.with(.sqlite) { harness in
            let worker = try harness.spawnWorker("all")
            try await eventually("consuming") {
                try await harness.broker.queueStatus(harness.topology.queue(.links)).consumers == 1
            }
            for body in ["{not json", "{\"id\": \"evt_1\", \"type\": \"visit.started\"}"] {
                try await harness.broker.publish(
                    Self.raw(harness, key: "visit.started", body: Data(body.utf8),
                             properties: AMQPProperties(contentType: "application/json", messageID: "evt_bad", type: "visit.started")))
            }
            try await eventually("both settled on both queues") {
                let visits = try await harness.broker.queueStatus(harness.topology.queue(.visits)).messages
                let links = try await harness.broker.queueStatus(harness.topology.queue(.links)).messages
                return visits == 0 && links == 0
                    && worker.output.components(separatedBy: "acknowledged without syncing").count - 1 == 2
            }
            try await eventually("parked") { try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 2 }
            try await Task.sleep(for: .seconds(1))
            let parked = try await harness.parked()
            #expect(parked.count == 2, "each bad event parked once, not once per queue")
            #expect(parked.allSatisfy { $0.properties.headers[WorkHeaders.originQueue]?.stringValue == harness.topology.queue(.visits) })
            #expect(worker.output.contains("parked_by_visits"))
            #expect(await worker.terminate() == 0)
        }
    }

    @Test("a seeded corpus of 300 malformed bodies and 50 hostile property sets: each parked with a reason, the worker up, a valid visit after them synced")
    func corpus() async throws {
        try await FleetHarness.with(.sqlite) { harness in
            let worker = try harness.spawnWorker("visits", arguments: ["--concurrency", "8"])
            var generator = Xoshiro256StarStar(seed: 20261129)
            let bodies = BadInputCorpus.bodies(count: 300, using: &generator)
            let propertySets = BadInputCorpus.properties(count: 50, using: &generator)
            for body in bodies {
                try await harness.broker.publish(
                    Self.raw(harness, body: body, properties: AMQPProperties(contentType: "application/json", type: "visit.updated")))
            }
            for properties in propertySets {
                try await harness.broker.publish(Self.raw(harness, body: Data("{\"id\":".utf8), properties: properties))
            }
            try await eventually(timeout: .seconds(120), "all 350 parked") {
                try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 350
            }
            #expect(worker.process.isRunning, "\(worker.output.suffix(2000))")

            let valid = Events.started(email: "alice@acme.example")
            guard case .visitStarted(let visit) = valid.payload else { return }
            try await harness.publish(valid)
            try await eventually("the valid visit synced") { await harness.tasks("DocSend_Visit_Id__c", visit.visitID).count == 1 }

            let lot = ParkingLot(connection: harness.broker, topology: harness.topology)
            let parked = try await lot.list(limit: 400)
            #expect(parked.count == 350)
            #expect(parked.allSatisfy { ($0.failureCode?.isEmpty == false) && ($0.failureReason?.isEmpty == false) })
            #expect(parked.allSatisfy { $0.originQueue == harness.topology.queue(.visits) })
            try await eventually("listing keeps them parked") {
                try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 350
            }
            #expect(await worker.terminate() == 0, "\(worker.output.suffix(2000))")
        }
    }
}

/// Generated bad input: bodies that break the contract every way it can be broken, and property/header sets a
/// hostile or buggy producer could send. Seeded, so a failure names a reproducible case.
enum BadInputCorpus {
    static func validUpdate(_ n: Int) -> [String: Any] {
        [
            "id": "evt_\(n)", "type": "visit.updated", "version": 1, "occurred_at": "2026-11-29T10:00:00Z",
            "team_id": FleetHarness.teamID,
            "data": [
                "visit_id": "visit_\(n)", "duration_seconds": 30, "percent_viewed": 50,
                "last_activity_at": "2026-11-29T10:00:30Z", "ended": false,
            ] as [String: Any],
        ]
    }

    static func json(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.fragmentsAllowed])) ?? Data()
    }

    /// `count` malformed bodies, cycling through the ways of breaking the contract.
    static func bodies(count: Int, using generator: inout Xoshiro256StarStar) -> [Data] {
        let breakers: [(inout Xoshiro256StarStar, Int) -> Data] = [
            // Not JSON at all.
            { g, _ in Data((0..<Int.random(in: 1...64, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }) },
            { g, n in Data(String(decoding: json(validUpdate(n)), as: UTF8.self).prefix(Int.random(in: 1...40, using: &g)).utf8) },
            { _, _ in Data() },
            { _, _ in Data([0xFF, 0xFE, 0x7B, 0x7D]) },
            // JSON, but not an object.
            { g, _ in json([[1, 2], "text", 42, NSNull(), true][Int.random(in: 0...4, using: &g)]) },
            // A required key missing, at the top or in data.
            { g, n in
                var event = validUpdate(n)
                let keys = ["id", "type", "occurred_at", "team_id", "data"]
                event[keys[Int.random(in: 0..<keys.count, using: &g)]] = nil
                return json(event)
            },
            { g, n in
                var event = validUpdate(n)
                var data = event["data"] as! [String: Any]
                let keys = ["visit_id", "duration_seconds", "percent_viewed", "last_activity_at", "ended"]
                data[keys[Int.random(in: 0..<keys.count, using: &g)]] = nil
                event["data"] = data
                return json(event)
            },
            // Wrong types and values out of range.
            { g, n in
                var event = validUpdate(n)
                var data = event["data"] as! [String: Any]
                let hostile: [Any] = [-1, 130.5, "fifty", NSNull(), [1], Double.greatestFiniteMagnitude, Int64.min]
                data["percent_viewed"] = hostile[Int.random(in: 0..<hostile.count, using: &g)]
                event["data"] = data
                return json(event)
            },
            { g, n in
                var event = validUpdate(n)
                var data = event["data"] as! [String: Any]
                data["duration_seconds"] = [-5, "30", 1e300, true][Int.random(in: 0...3, using: &g)]
                event["data"] = data
                return json(event)
            },
            { g, n in
                var event = validUpdate(n)
                event["occurred_at"] = ["yesterday", "2026-13-45T99:99:99Z", 1_700_000_000, ""][Int.random(in: 0...3, using: &g)]
                return json(event)
            },
            { g, n in
                var event = validUpdate(n)
                event["type"] = ["visit.deleted", "", "VISIT.UPDATED", "docsend-sync.visit.resync", String(repeating: "x", count: 5000)][
                    Int.random(in: 0...4, using: &g)]
                return json(event)
            },
            { g, n in
                var event = validUpdate(n)
                event["version"] = [2, 0, -1, "1"][Int.random(in: 0...3, using: &g)]
                return json(event)
            },
            { _, n in
                var event = validUpdate(n)
                event["team_id"] = ""
                return json(event)
            },
            // Hostile sizes and shapes.
            { g, _ in Data((String(repeating: "[", count: Int.random(in: 2_000...20_000, using: &g))).utf8) },
            { _, n in
                var event = validUpdate(n)
                event["padding"] = String(repeating: "A", count: 300 * 1024)
                return json(event)
            },
            { g, n in
                var event = validUpdate(n)
                var data = event["data"] as! [String: Any]
                data["visit_id"] = ["", String(repeating: "v", count: 100_000), "\u{0}"][Int.random(in: 0...2, using: &g)]
                event["data"] = data
                return json(event)
            },
        ]
        return (0..<count).map { n in breakers[n % breakers.count](&generator, n) }
    }

    /// `count` hostile property sets (each on a body that fails to decode, so each must be parked).
    static func properties(count: Int, using generator: inout Xoshiro256StarStar) -> [AMQPProperties] {
        let attemptValues: [AMQPValue] = [
            .int(Int64.max), .int(Int64.min), .int(-1), .int(0), .string("3"), .bool(true), .double(1e308),
            .table(["n": .int(1)]), .array([.int(1)]), .bytes([0xFF]), .void, .timestamp(Date(timeIntervalSince1970: 0)),
        ]
        func nested(_ depth: Int) -> AMQPValue {
            var value = AMQPValue.string("bottom")
            for level in 0..<depth { value = .table(["level\(level)": value]) }
            return value
        }
        return (0..<count).map { n in
            var properties = AMQPProperties(contentType: "application/json", messageID: "hostile_\(n)", type: "visit.updated")
            properties.headers[WorkHeaders.attempts] = attemptValues[n % attemptValues.count]
            switch n % 10 {
            case 0: properties.expiration = String(Int.random(in: 1...3000, using: &generator))
            case 1: properties.priority = UInt8.random(in: 0...255, using: &generator)
            case 2: properties.userID = "guest"
            case 3: properties.replyTo = "producer.replies"
            case 4: properties.headers["deep"] = nested(Int.random(in: 4...12, using: &generator))
            case 5: properties.headers["x-death"] = .array([.table(["queue": "elsewhere", "count": .int(Int64.max)])])
            case 6: properties.headers[WorkHeaders.originQueue] = "not-a-queue"
            case 7: properties.contentType = "text/html; charset=\u{202E}evil"
            case 8: properties.headers["wide"] = .array((0..<500).map { .int(Int64($0)) })
            default: properties.type = nil
            }
            properties.correlationID = n % 3 == 0 ? String(repeating: "c", count: 255) : nil
            return properties
        }
    }
}

/// The worker's broker connections, as the management API sees them.
@Suite(
    "Worker broker connections", .enabled(if: TestBroker.isAvailable),
    .enabled(if: ProcessInfo.processInfo.environment["DOCSEND_TEST_RABBITMQ_MANAGEMENT_URL"] != nil),
    .enabled(if: FileManager.default.isExecutableFile(atPath: FleetHarness.binary)), .timeLimit(.minutes(5)))
struct WorkerConnectionTests {
    /// `GET /api/PATH` of the private broker's management API, as JSON.
    static func management(_ path: String, http: HTTPClient) async throws -> Any {
        let base = try #require(ProcessInfo.processInfo.environment["DOCSEND_TEST_RABBITMQ_MANAGEMENT_URL"])
        let response = try await http.execute(
            HTTPRequest(url: base + "/api/" + path, headers: ["Authorization": "Basic Z3Vlc3Q6Z3Vlc3Q="]))
        #expect(response.status == 200)
        return try JSONSerialization.jsonObject(with: response.body)
    }

    @Test("the connection a worker consumes and acknowledges on never publishes: a resource alarm, which blocks publishing connections, cannot stop its acknowledgements")
    func consumingConnectionNeverPublishes() async throws {
        try await FleetHarness.with(.sqlite) { harness in
            let worker = try harness.spawnWorker("visits")
            // One message that must be parked (a publish) and one that is only acknowledged.
            try await harness.broker.publish(
                AMQPMessage(
                    exchange: harness.topology.activityExchange, routingKey: "visit.updated", body: Data("{".utf8),
                    properties: AMQPProperties(type: "visit.updated")))
            try await harness.publish(Events.updated("visit_1", duration: 5, percent: 5, team: "team_never"))
            try await eventually("parked") { try await harness.broker.queueStatus(harness.topology.parkingQueue).messages == 1 }

            let http = try HTTPClientBox()
            let queue = harness.topology.queue(.visits)
            var consuming: String?
            func stat(_ name: String, on connection: String?, in channels: [[String: Any]]) -> Int {
                channels.filter { ($0["connection_details"] as? [String: Any])?["name"] as? String == connection }
                    .map { ($0["message_stats"] as? [String: Any])?[name] as? Int ?? 0 }.reduce(0, +)
            }
            // Statistics arrive every few seconds: wait until they show both acknowledgements on the consuming
            // connection, so that its publishes (if any) are counted too.
            try await eventually(timeout: .seconds(30), "the broker's statistics show the worker's acknowledgements") {
                let consumers = try await Self.management("consumers", http: http.client) as? [[String: Any]] ?? []
                consuming = consumers.first { ($0["queue"] as? [String: Any])?["name"] as? String == queue }
                    .flatMap { ($0["channel_details"] as? [String: Any])?["connection_name"] as? String }
                let channels = try await Self.management("channels", http: http.client) as? [[String: Any]] ?? []
                return consuming != nil && stat("ack", on: consuming, in: channels) >= 2
            }
            let channels = try await Self.management("channels", http: http.client) as? [[String: Any]] ?? []
            let publishes = stat("publish", on: consuming, in: channels)
            #expect(publishes == 0, "the consuming connection \(consuming ?? "?") published \(publishes) messages")
            #expect(await worker.terminate() == 0)
        }
    }
}
