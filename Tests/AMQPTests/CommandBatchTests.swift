@testable import AMQP
import Foundation
import Synchronization
import Testing
import TestSupport

/// What became of callers' operations that were started without awaiting them.
private final class Outcomes: Sendable {
    private let state = Mutex<(succeeded: Int, failed: [String])>((0, []))

    var succeeded: Int { state.withLock { $0.succeeded } }
    var failed: [String] { state.withLock { $0.failed } }
    var finished: Int { state.withLock { $0.succeeded + $0.failed.count } }

    func record(_ operation: @escaping @Sendable () async throws -> Void) {
        Task {
            do {
                try await operation()
                state.withLock { $0.succeeded += 1 }
            } catch {
                state.withLock { $0.failed.append("\(error)") }
            }
        }
    }
}

@Suite("AMQP command batches", .enabled(if: TestBroker.isAvailable))
struct CommandBatchTests {
    @Test("A command that breaks the connection loses none of the commands queued behind it in the same batch")
    func commandsBehindAFailureSurvive() async throws {
        let queue = TestBroker.uniqueName()
        let secondQueue = TestBroker.uniqueName()
        let settledQueue = TestBroker.uniqueName()
        let connection = try await TestBroker.connect()
        let core = connection.core
        for name in [queue, secondQueue, settledQueue] {
            try await connection.declare(Topology(queues: [.init(name: name)]), redeclareOnReconnect: false)
        }
        try await connection.publish(AMQPMessage(exchange: "", routingKey: secondQueue, body: Data("waiting".utf8)))
        try await connection.publish(AMQPMessage(exchange: "", routingKey: settledQueue, body: Data("held".utf8)))
        // A delivery whose ack, and a consumer whose cancel, will sit in the batch behind the failure.
        let settledConsumer = try await connection.consume(queue: settledQueue, prefetch: 1)
        let heldDelivery = Mutex<AMQPDelivery?>(nil)
        let laterDeliveries = Mutex<[AMQPDelivery]>([])
        let settledConsumerEnded = Outcomes()
        settledConsumerEnded.record {
            for try await delivery in settledConsumer {
                let first = heldDelivery.withLock { held in
                    if held == nil { held = delivery; return true }
                    return false
                }
                if !first { laterDeliveries.withLock { $0.append(delivery) } }
            }
        }
        try await eventually("the first delivery arrives") { heldDelivery.withLock { $0 } != nil }
        let held = try #require(heldDelivery.withLock { $0 })

        // Line up one batch: a declaration the broker answers by closing the whole connection (an unknown
        // exchange type is a 503 connection error), then publishes, an ack, a consume, a cancel, a control.
        core.holdCommands(true)
        let failing = Outcomes()
        failing.record {
            try await connection.declare(
                Topology(exchanges: [.init(name: TestBroker.uniqueName(), type: "x-no-such-type")]), redeclareOnReconnect: false)
        }
        try await eventually("the failing declaration is queued") { core.queuedCommandCount == 1 }
        let publishes = Outcomes()
        let total = 50
        for index in 0..<total {
            publishes.record {
                try await connection.publish(AMQPMessage(exchange: "", routingKey: queue, body: Data("\(index)".utf8)))
            }
        }
        try await eventually("the publishes are queued") { core.queuedCommandCount == 1 + total }
        held.ack()
        let consumed = Mutex<String?>(nil)
        let consumes = Outcomes()
        consumes.record {
            let consumer = try await connection.consume(queue: secondQueue, prefetch: 1)
            for try await delivery in consumer {
                consumed.withLock { $0 = String(decoding: delivery.body, as: UTF8.self) }
                delivery.ack()
                consumer.cancel()
            }
        }
        try await eventually("the ack and the consume are queued") { core.queuedCommandCount == 1 + total + 2 }
        settledConsumer.cancel()
        let controls = Outcomes()
        controls.record { _ = try await connection.queueStatus(queue) }
        try await eventually("the cancel and the control are queued") { core.queuedCommandCount == 1 + total + 4 }
        core.holdCommands(false)

        // Every caller hears back: generous bound, failure (not a hang) when one never does.
        try await eventually(timeout: .seconds(90), "the failing declaration answers") { failing.finished == 1 }
        try await eventually(timeout: .seconds(90), "every publish confirms or throws") { publishes.finished == total }
        try await eventually(timeout: .seconds(90), "the queued control answers") { controls.finished == 1 }
        try await eventually(timeout: .seconds(90), "the queued consumer starts and receives") {
            consumed.withLock { $0 } == "waiting"
        }
        #expect(failing.failed.count == 1)
        #expect(failing.failed.first?.contains("503") == true, "the provocation closed the connection: \(failing.failed)")
        #expect(connection.reconnections >= 1)
        #expect(publishes.failed == [])
        #expect(publishes.succeeded == total)
        #expect(controls.failed == [])
        #expect(consumes.failed == [])
        #expect(try await connection.queueStatus(queue).messages == total)
        // The cancelled consumer's stream ends; the ack queued behind the failure was for a dead channel,
        // so it was dropped and the broker gives the message out again: still ready, or redelivered to
        // the consumer (restarted after the reconnect) before its cancel went through.
        try await eventually(timeout: .seconds(90), "the cancelled consumer ends") { settledConsumerEnded.finished == 1 }
        #expect(settledConsumerEnded.failed == [])
        let redelivered = laterDeliveries.withLock { $0 }
        #expect(redelivered.allSatisfy { $0.redelivered && $0.body == Data("held".utf8) })
        let ready = try await connection.queueStatus(settledQueue).messages
        #expect(redelivered.count + ready == 1)

        for name in [queue, secondQueue, settledQueue] { try await connection.deleteQueue(name) }
        await connection.close()
    }
}
