import AMQP
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TestSupport

/// Publishes to `queue` until graceful shutdown, counting confirmed publishes and failures.
private final class PublishingService: Service {
    let connection: AMQPConnection
    let queue: String
    let confirmed = Atomic<Int>(0)
    let failures = Mutex<[AMQPError]>([])

    init(connection: AMQPConnection, queue: String) {
        self.connection = connection
        self.queue = queue
    }

    func run() async {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                try await connection.publish(AMQPMessage(exchange: "", routingKey: queue, body: Data("tick".utf8)))
                confirmed.add(1, ordering: .relaxed)
            } catch let error as AMQPError {
                failures.withLock { $0.append(error) }
                return
            } catch {
                return
            }
        }
    }
}

@Suite("AMQPConnection as a Service", .enabled(if: TestBroker.isAvailable), .timeLimit(.minutes(2)))
struct AMQPServiceTests {
    private func group(_ services: [any Service]) -> ServiceGroup {
        ServiceGroup(configuration: .init(services: services, logger: TestBroker.logger))
    }

    @Test("In a ServiceGroup, graceful shutdown stops the dependent service first, then closes the connection")
    func gracefulShutdownClosesAfterDependents() async throws {
        let queue = TestBroker.uniqueName()
        let connection = try await TestBroker.connect()
        try await connection.declare(Topology(queues: [.init(name: queue, durable: false)]), redeclareOnReconnect: false)
        let publisher = PublishingService(connection: connection, queue: queue)
        let group = group([connection, publisher])
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await eventually("the dependent service published through the connection") {
                publisher.confirmed.load(ordering: .relaxed) >= 3
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        // The publisher stopped before the connection closed: none of its publishes hit a closed connection.
        #expect(publisher.failures.withLock { $0.isEmpty })
        #expect(!connection.isConnected)
        let error = await #expect(throws: AMQPError.self) {
            try await connection.publish(AMQPMessage(exchange: "", routingKey: queue, body: Data("late".utf8)))
        }
        #expect(error?.code == .closed)
        await #expect(throws: AMQPError.self) { _ = try await connection.consume(queue: queue) }

        let cleanup = try await TestBroker.connect()
        #expect(try await cleanup.queueStatus(queue).messages == publisher.confirmed.load(ordering: .relaxed))
        try await cleanup.deleteQueue(queue)
        await cleanup.close()
    }

    @Test("A consumer's deliveries end when the group shuts the connection down")
    func consumerEndsOnShutdown() async throws {
        let queue = TestBroker.uniqueName()
        let connection = try await TestBroker.connect()
        try await connection.declare(Topology(queues: [.init(name: queue, durable: false)]), redeclareOnReconnect: false)
        let consumer = try await connection.consume(queue: queue)
        let group = group([connection])
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                for try await delivery in consumer { delivery.ack() }
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(!connection.isConnected)
        let cleanup = try await TestBroker.connect()
        try await cleanup.deleteQueue(queue)
        await cleanup.close()
    }

    @Test("Cancelling the service's task closes the connection")
    func cancellationCloses() async throws {
        let connection = try await TestBroker.connect()
        let running = Task { await connection.run() }
        running.cancel()
        await running.value
        #expect(!connection.isConnected)
        let error = await #expect(throws: AMQPError.self) {
            try await connection.publish(AMQPMessage(exchange: "", routingKey: "nowhere", body: Data()))
        }
        #expect(error?.code == .closed)
    }

    @Test("run() returns when the owner closes the connection itself")
    func closeEndsRun() async throws {
        let connection = try await TestBroker.connect()
        let running = Task { await connection.run() }
        await connection.close()
        await running.value
        await connection.close()  // idempotent
        #expect(!connection.isConnected)
    }

    @Test("Normal operation logs below info, with constant messages and amqp- metadata keys only")
    func loggingContract() async throws {
        let recording = RecordingLogHandler.Recording()
        let connection = try await AMQPConnection.connect(try TestBroker.configuration(), logger: recording.logger())
        let queue = TestBroker.uniqueName()
        try await connection.declare(Topology(queues: [.init(name: queue, durable: false)]), redeclareOnReconnect: false)
        try await connection.publish(AMQPMessage(exchange: "", routingKey: queue, body: Data("one".utf8)))
        let consumer = try await connection.consume(queue: queue)
        for try await delivery in consumer {
            delivery.ack()
            break
        }
        try await connection.deleteQueue(queue)
        await connection.close()

        let records = recording.all
        #expect(!records.isEmpty, "the connection logs its connect at debug")
        #expect(records.allSatisfy { $0.level < .info }, "\(records.map { "\($0.level) \($0.message)" })")
        #expect(records.allSatisfy { $0.metadata.keys.allSatisfy { $0.hasPrefix("amqp-") } })
        #expect(records.allSatisfy { !$0.message.contains(queue) }, "messages are constant; names go in metadata")
    }
}
