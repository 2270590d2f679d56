import AMQP
import Foundation
import Testing
import TestSupport

/// Tests that restart the shared broker. They would disturb every other test running at the same
/// time, so they run only when `DOCSEND_TEST_DISRUPTIVE=1`, which `scripts/test` sets in a phase of
/// its own after the rest of the suite.
enum Disruptive {
    static let enabled = ProcessInfo.processInfo.environment["DOCSEND_TEST_DISRUPTIVE"] == "1"
}

@Suite("AMQP across a broker restart", .serialized, .enabled(if: Disruptive.enabled))
struct BrokerRestartDisruptiveTests {
    @Test("The broker restarts while a consumer holds unacked messages: it reconnects and every message is processed")
    func restartWithUnackedMessages() async throws {
        let queue = TestBroker.uniqueName()
        let topology = Topology(queues: [.init(name: queue, arguments: ["x-queue-type": "quorum"])])
        let connection = try await TestBroker.connect(heartbeat: 5)
        try await connection.declare(topology)  // redeclared after the reconnect
        let total = 300
        for index in 0..<total {
            try await connection.publish(AMQPMessage(exchange: "", routingKey: queue, body: Data("\(index)".utf8)))
        }

        let consumer = try await connection.consume(queue: queue, prefetch: 50)
        var iterator = consumer.makeAsyncIterator()
        var processed = Set<String>()
        var held: [AMQPDelivery] = []
        // Process 100, then hold 40 without acking while the broker restarts.
        while processed.count < 100, let delivery = try await iterator.next() {
            processed.insert(String(decoding: delivery.body, as: UTF8.self))
            delivery.ack()
        }
        while held.count < 40, let delivery = try await iterator.next() { held.append(delivery) }

        try TestBroker.rabbitmqctl("stop_app")
        try await TestBroker.startApp()
        try await eventually(timeout: .seconds(60), "the connection is back") {
            connection.reconnections >= 1 && connection.isConnected
        }
        for delivery in held { delivery.ack() }  // stale: dropped, the broker redelivers these

        var redelivered = 0
        while processed.count < total, let delivery = try await iterator.next() {
            if delivery.redelivered { redelivered += 1 }
            processed.insert(String(decoding: delivery.body, as: UTF8.self))
            delivery.ack()
        }
        #expect(processed == Set((0..<total).map(String.init)))
        #expect(redelivered >= held.count)
        try await eventually("every ack applied") { try await connection.queueStatus(queue).messages == 0 }
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("Publishes in flight while the broker restarts are confirmed after the reconnect")
    func publishAcrossRestart() async throws {
        let queue = TestBroker.uniqueName()
        let connection = try await TestBroker.connect(heartbeat: 5)
        try await connection.declare(Topology(queues: [.init(name: queue, arguments: ["x-queue-type": "quorum"])]))
        let total = 2_000
        async let published: Void = withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<10 {
                group.addTask {
                    for index in 0..<(total / 10) {
                        try await connection.publish(
                            AMQPMessage(exchange: "", routingKey: queue, body: Data("\(worker)-\(index)".utf8)))
                    }
                }
            }
            try await group.waitForAll()
        }
        try await Task.sleep(for: .milliseconds(300))
        try TestBroker.rabbitmqctl("stop_app")
        try await TestBroker.startApp()
        try await published
        // At least once: every message is there; re-sent unconfirmed ones may appear twice.
        let consumer = try await connection.consume(queue: queue, prefetch: 500)
        var seen = Set<String>()
        for try await delivery in consumer {
            seen.insert(String(decoding: delivery.body, as: UTF8.self))
            delivery.ack()
            if seen.count == total { break }
        }
        #expect(seen.count == total)
        #expect(connection.reconnections >= 1)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("While the broker is down, a publish fails at its publish timeout, and close() returns promptly")
    func publishWhileBrokerDown() async throws {
        var configuration = try TestBroker.configuration(heartbeat: 5)
        configuration.publishTimeout = .seconds(2)
        let connection = try await AMQPConnection.connect(configuration, logger: TestBroker.logger)
        try TestBroker.rabbitmqctl("stop_app")
        do {
            try await eventually(timeout: .seconds(30), "the connection notices") { !connection.isConnected }
            let started = ContinuousClock.now
            let error = await #expect(throws: AMQPError.self) {
                try await connection.publish(AMQPMessage(exchange: "", routingKey: "nowhere", body: Data("x".utf8)))
            }
            #expect(error?.code == .timeout)
            #expect(ContinuousClock.now - started < .seconds(10))
            let closing = ContinuousClock.now
            await connection.close()
            #expect(ContinuousClock.now - closing < .seconds(5))
        } catch {
            try await TestBroker.startApp()
            throw error
        }
        try await TestBroker.startApp()
    }

    @Test("A broker that stops answering is detected by missed heartbeats; the connection comes back when it answers again")
    func frozenBroker() async throws {
        let pidFile = try #require(ProcessInfo.processInfo.environment["DOCSEND_TEST_RABBITMQ_PID_FILE"], "set by scripts/test")
        let pidText = try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let brokerPID = try #require(Int32(pidText))
        var configuration = try TestBroker.configuration(heartbeat: 2)
        configuration.connectTimeout = .seconds(2)
        let connection = try await AMQPConnection.connect(configuration, logger: TestBroker.logger)
        let queue = TestBroker.uniqueName()
        try await connection.declare(Topology(queues: [.init(name: queue, arguments: ["x-queue-type": "quorum"])]))

        // Frozen, the broker keeps its sockets open but sends nothing: only heartbeats can tell.
        kill(brokerPID, SIGSTOP)
        let frozenAt = ContinuousClock.now
        do {
            try await eventually(timeout: .seconds(20), "missed heartbeats noticed") { !connection.isConnected }
        } catch {
            kill(brokerPID, SIGCONT)
            throw error
        }
        let noticedAfter = ContinuousClock.now - frozenAt
        kill(brokerPID, SIGCONT)
        #expect(noticedAfter < .seconds(12), "noticed after \(noticedAfter)")

        try await eventually(timeout: .seconds(60), "reconnected after the broker answers again") { connection.isConnected }
        try await connection.publish(AMQPMessage(exchange: "", routingKey: queue, body: Data("after".utf8)))
        #expect(try await connection.queueStatus(queue).messages == 1)
        #expect(connection.reconnections >= 1)
        try await connection.deleteQueue(queue)
        await connection.close()
    }
}
