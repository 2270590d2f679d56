import AMQP
import Fleet
import Foundation
import SyncCore
import Testing
import TestSupport

@Suite("Publishing events", .enabled(if: TestBroker.isAvailable))
struct PublishTests {
    @Test("An event goes out with the properties of the contract")
    func contractProperties() async throws {
        let topology = TestBroker.isolatedTopology()
        let connection = try await TestBroker.connect()
        try await connection.declare(topology.topology, redeclareOnReconnect: false)
        let simulator = ActivitySimulator(seed: 11)
        let event = try #require(simulator.first { $0.type == .visitStarted })
        try await EventPublisher(connection: connection, exchange: topology.activityExchange).publish(event)

        let consumer = try await connection.consume(queue: topology.queue(.visits))
        var iterator = consumer.makeAsyncIterator()
        let delivery = try #require(try await iterator.next())
        #expect(delivery.routingKey == "visit.started")
        #expect(delivery.properties.contentType == "application/json")
        #expect(delivery.properties.persistent)
        #expect(delivery.properties.messageID == event.id)
        #expect(delivery.properties.type == "visit.started")
        #expect(delivery.properties.timestamp.map { abs($0.timeIntervalSince(event.occurredAt)) < 1 } == true)
        #expect(try Event.decode(from: delivery.body) == event)
        delivery.ack()
        consumer.cancel()
        try await TestBroker.remove(topology, on: connection)
        await connection.close()
    }

    @Test("publish --file confirms the good lines and names each bad line with its reason")
    func publishFile() async throws {
        let topology = TestBroker.isolatedTopology()
        let connection = try await TestBroker.connect()
        try await connection.declare(topology.topology, redeclareOnReconnect: false)
        var simulator = ActivitySimulator(seed: 3)
        var lines = simulator.events(count: 50).map { String(decoding: $0.encoded(), as: UTF8.self) }
        lines.insert("{not json", at: 10)
        lines.insert("", at: 20)  // blank lines are skipped, not errors
        lines.insert(#"{"id":"e1","type":"visit.updated","version":1,"occurred_at":"2026-11-24T10:00:00Z","team_id":"t","data":{"visit_id":"v","duration_seconds":5,"percent_viewed":130,"last_activity_at":"2026-11-24T10:00:00Z","ended":false}}"#, at: 30)
        lines.append(String(repeating: "x", count: 300_000))  // a huge line does not exhaust memory
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("events-\(UUID()).jsonl")
        try Data(lines.joined(separator: "\n").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let report = try await publishEventFile(
            at: file.path, with: EventPublisher(connection: connection, exchange: topology.activityExchange), window: 8)
        #expect(report.read == 53)
        #expect(report.confirmed == 50)
        #expect(report.failures.map(\.line) == [11, 31, 54])
        #expect(report.failures[0].reason.hasPrefix("body:"))
        #expect(report.failures[1].reason.contains("data.percent_viewed"))
        let ready = try await connection.queueStatus(topology.queue(.visits)).messages
            + connection.queueStatus(topology.queue(.links)).messages
        // Every confirmed event once, plus a copy of each visit.started for the links queue (new link visitors).
        let starts = lines.filter { $0.contains(#""type":"visit.started""#) }.count
        #expect(ready == 50 + starts)
        try await TestBroker.remove(topology, on: connection)
        await connection.close()
    }

    @Test("An event for an exchange with no queue bound for its type fails instead of vanishing")
    func unroutableEvent() async throws {
        let exchange = "test-\(UUID().uuidString.prefix(8)).activity"
        let connection = try await TestBroker.connect()
        try await connection.declare(Topology(exchanges: [.init(name: exchange, type: "topic")]), redeclareOnReconnect: false)
        var simulator = ActivitySimulator(seed: 5)
        let first = simulator.next()
        let event = try #require(first)
        let error = await #expect(throws: AMQPError.self) {
            try await EventPublisher(connection: connection, exchange: exchange).publish(event)
        }
        #expect(error?.code == .unroutable)
        try await connection.deleteExchange(exchange)
        await connection.close()
    }
}
