import AMQP
import Foundation
import Synchronization
import Testing
import TestSupport

@Suite("AMQP on a real broker", .enabled(if: TestBroker.isAvailable))
struct AMQPConnectionTests {
    private func quorumQueue(_ name: String) -> Topology {
        Topology(queues: [.init(name: name, arguments: ["x-queue-type": "quorum"])])
    }

    @Test("10,000 persistent messages published with confirms and consumed with manual acks all arrive once")
    func tenThousandMessages() async throws {
        let queue = TestBroker.uniqueName()
        let publisher = try await TestBroker.connect()
        let consumerConnection = try await TestBroker.connect()
        try await publisher.declare(quorumQueue(queue), redeclareOnReconnect: false)
        let total = 10_000

        try await withThrowingTaskGroup(of: Void.self) { group in
            // 20 publishers of 500 each keep a window of 20 unconfirmed messages in flight.
            for worker in 0..<20 {
                group.addTask {
                    for index in 0..<(total / 20) {
                        let id = "\(worker)-\(index)"
                        try await publisher.publish(
                            AMQPMessage(
                                exchange: "", routingKey: queue, body: Data(id.utf8),
                                properties: .init(contentType: "text/plain", messageID: id)))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await publisher.queueStatus(queue).messages == total)

        let consumer = try await consumerConnection.consume(queue: queue, prefetch: 200)
        var seen = Set<String>()
        var duplicatesNotFlagged = 0
        for try await delivery in consumer {
            let id = String(decoding: delivery.body, as: UTF8.self)
            #expect(delivery.properties.messageID == id)
            #expect(delivery.properties.persistent)
            if !seen.insert(id).inserted, !delivery.redelivered { duplicatesNotFlagged += 1 }
            delivery.ack()
            if seen.count == total { break }
        }
        #expect(seen.count == total)
        #expect(duplicatesNotFlagged == 0)
        try await eventually("the queue is empty once every ack is applied") {
            try await consumerConnection.queueStatus(queue).messages == 0
        }
        try await publisher.deleteQueue(queue)
        await publisher.close()
        await consumerConnection.close()
    }

    @Test("With a 2-second heartbeat, a handler that takes 15 seconds keeps its connection")
    func heartbeatsDuringLongHandler() async throws {
        let queue = TestBroker.uniqueName()
        let connection = try await TestBroker.connect(heartbeat: 2)
        try await connection.declare(quorumQueue(queue), redeclareOnReconnect: false)
        for index in 0..<2 {
            try await connection.publish(AMQPMessage(exchange: "", routingKey: queue, body: Data("m\(index)".utf8)))
        }
        let consumer = try await connection.consume(queue: queue, prefetch: 1)
        var iterator = consumer.makeAsyncIterator()
        let first = try #require(try await iterator.next())
        #expect(!first.redelivered)
        try await Task.sleep(for: .seconds(15))  // the "handler" works for 15 s without touching AMQP
        first.ack()
        // With prefetch 1 the second message only comes after the ack went through on the same connection.
        let second = try #require(try await iterator.next())
        #expect(String(decoding: second.body, as: UTF8.self) == "m1")
        #expect(!second.redelivered)
        second.ack()
        #expect(connection.reconnections == 0)
        #expect(connection.isConnected)
        try await eventually("both messages acknowledged") { try await connection.queueStatus(queue).messages == 0 }
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("A mandatory publish to a key that routes nowhere fails with a clear error")
    func unroutableMandatoryPublish() async throws {
        let exchange = TestBroker.uniqueName()
        let connection = try await TestBroker.connect()
        try await connection.declare(Topology(exchanges: [.init(name: exchange, type: "topic")]), redeclareOnReconnect: false)
        let error = await #expect(throws: AMQPError.self) {
            try await connection.publish(AMQPMessage(exchange: exchange, routingKey: "nobody.listens", body: Data("x".utf8)))
        }
        #expect(error?.code == .unroutable)
        #expect(error?.replyCode == 312)
        #expect(error?.description.contains("nobody.listens") == true)
        // Without mandatory, the broker drops it and confirms.
        try await connection.publish(
            AMQPMessage(exchange: exchange, routingKey: "nobody.listens", body: Data("x".utf8), mandatory: false))
        try await connection.deleteExchange(exchange)
        await connection.close()
    }

    @Test("A publish the broker refuses (basic.nack: queue full with reject-publish) fails as nacked")
    func nackedPublish() async throws {
        let queue = TestBroker.uniqueName()
        let connection = try await TestBroker.connect()
        try await connection.declare(
            // A classic queue: it enforces the length limit exactly (quorum queues only approximately).
            Topology(queues: [.init(name: queue, arguments: ["x-max-length": 1, "x-overflow": "reject-publish"])]),
            redeclareOnReconnect: false)
        try await connection.publish(AMQPMessage(exchange: "", routingKey: queue, body: Data("first".utf8)))
        let error = await #expect(throws: AMQPError.self) {
            try await connection.publish(AMQPMessage(exchange: "", routingKey: queue, body: Data("second".utf8)))
        }
        #expect(error?.code == .nacked)
        #expect(try await connection.queueStatus(queue).messages == 1)
        #expect(connection.reconnections == 0)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("Publishing to a missing exchange fails with the broker's 404, and the connection goes on")
    func missingExchange() async throws {
        let connection = try await TestBroker.connect()
        let error = await #expect(throws: AMQPError.self) {
            try await connection.publish(AMQPMessage(exchange: "no-such-exchange-\(UUID())", routingKey: "k", body: Data()))
        }
        #expect(error?.code == .channelClosed)
        #expect(error?.replyCode == 404)
        let queue = TestBroker.uniqueName()
        try await connection.declare(quorumQueue(queue), redeclareOnReconnect: false)
        try await connection.publish(AMQPMessage(exchange: "", routingKey: queue, body: Data("after".utf8)))
        #expect(try await connection.queueStatus(queue).messages == 1)
        #expect(connection.reconnections == 0)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("Consuming from a missing queue throws the broker's 404")
    func missingQueue() async throws {
        let connection = try await TestBroker.connect()
        let error = await #expect(throws: AMQPError.self) {
            _ = try await connection.consume(queue: "no-such-queue-\(UUID())")
        }
        #expect(error?.replyCode == 404)
        await #expect(throws: AMQPError.self) { _ = try await connection.queueStatus("no-such-queue-\(UUID())") }
        #expect(connection.reconnections == 0)
        await connection.close()
    }

    @Test("Redeclaring a queue with other arguments fails with PRECONDITION_FAILED")
    func conflictingDeclaration() async throws {
        let queue = TestBroker.uniqueName()
        let connection = try await TestBroker.connect()
        try await connection.declare(quorumQueue(queue), redeclareOnReconnect: false)
        try await connection.declare(quorumQueue(queue), redeclareOnReconnect: false)  // idempotent
        let error = await #expect(throws: AMQPError.self) {
            try await connection.declare(Topology(queues: [.init(name: queue)]), redeclareOnReconnect: false)
        }
        #expect(error?.replyCode == 406)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("nack without requeue drops (or dead-letters) a message; nack with requeue redelivers it flagged")
    func settlements() async throws {
        let queue = TestBroker.uniqueName()
        let connection = try await TestBroker.connect()
        try await connection.declare(quorumQueue(queue), redeclareOnReconnect: false)
        try await connection.publish(AMQPMessage(exchange: "", routingKey: queue, body: Data("a".utf8)))
        let consumer = try await connection.consume(queue: queue, prefetch: 10)
        var iterator = consumer.makeAsyncIterator()
        let first = try #require(try await iterator.next())
        first.nack(requeue: true)
        let again = try #require(try await iterator.next())
        #expect(again.redelivered)
        #expect(again.body == first.body)
        again.reject(requeue: false)
        try await eventually("the rejected message is gone") { try await connection.queueStatus(queue).messages == 0 }
        consumer.cancel()
        #expect(try await iterator.next() == nil)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("a consumer cancelled while the broker is still delivering hands back what it did not settle, its connection still open")
    func cancelWhileDelivering() async throws {
        let queue = TestBroker.uniqueName()
        let publisher = try await TestBroker.connect()
        let connection = try await TestBroker.connect()
        try await publisher.declare(quorumQueue(queue), redeclareOnReconnect: false)
        let total = 6_000
        let published = Mutex(false)
        let publishing = Task {
            defer { published.withLock { $0 = true } }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<10 {
                    group.addTask {
                        for index in 0..<(total / 10) {
                            try await publisher.publish(
                                AMQPMessage(exchange: "", routingKey: queue, body: Data("\(worker)-\(index)".utf8)))
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        // Each round takes one delivery and cancels while the broker keeps pushing (prefetch 500): some
        // deliveries cross the `basic.cancel` and arrive after the consumer's stream has ended.
        var acknowledged = 0
        var rounds = 0
        repeat {
            let consumer = try await connection.consume(queue: queue, prefetch: 500)
            var iterator = consumer.makeAsyncIterator()
            let first = try #require(try await iterator.next())
            first.ack()
            acknowledged += 1
            consumer.cancel()
            while let extra = try await iterator.next() { extra.nack(requeue: true) }
            rounds += 1
        } while rounds < 200 && !published.withLock({ $0 })
        try await publishing.value
        try await eventually("every delivery not acknowledged is back in the queue") {
            try await connection.queueStatus(queue).messages == total - acknowledged
        }
        try await publisher.deleteQueue(queue)
        await publisher.close()
        await connection.close()
    }

    @Test("Bad credentials fail the first connection with a clear error")
    func badCredentials() async throws {
        var configuration = try TestBroker.configuration()
        configuration.password = "wrong"
        let error = await #expect(throws: AMQPError.self) { _ = try await AMQPConnection.connect(configuration, logger: TestBroker.logger) }
        #expect(error?.code == .connectionFailed)
    }

    @Test("amqps:// with the broker's CA connects and works; without trusting that CA it is refused")
    func tls() async throws {
        let url = try #require(TestBroker.tlsURL, "scripts/test exports DOCSEND_TEST_AMQPS_URL")
        var configuration = try AMQPConfiguration(url: url)
        #expect(configuration.tls)
        configuration.caFile = TestBroker.caFile
        let connection = try await AMQPConnection.connect(configuration, logger: TestBroker.logger)
        let queue = TestBroker.uniqueName()
        try await connection.declare(quorumQueue(queue), redeclareOnReconnect: false)
        try await connection.publish(AMQPMessage(exchange: "", routingKey: queue, body: Data("secret".utf8)))
        let consumer = try await connection.consume(queue: queue)
        var iterator = consumer.makeAsyncIterator()
        let delivery = try #require(try await iterator.next())
        #expect(delivery.body == Data("secret".utf8))
        delivery.ack()
        try await connection.deleteQueue(queue)
        await connection.close()

        configuration.caFile = nil
        let error = await #expect(throws: AMQPError.self) { _ = try await AMQPConnection.connect(configuration, logger: TestBroker.logger) }
        #expect(error?.code == .connectionFailed)
    }
}
