import AMQP
import Fleet
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The headers a worker sets on a message it sends to a retry tier or to the parking queue.
///
/// Broker headers (`x-death` and the other `x-` headers) are dropped when a message is re-published: RabbitMQ
/// would otherwise take the message's trip through a tier for a dead-letter cycle and drop it.
public enum WorkHeaders {
    /// How many times handling the message failed (an integer, 1 after the first failure).
    public static let attempts = "docsend-attempts"
    /// The last failure's stable code, e.g. `contract_violation.missing_key`, `salesforce.INVALID_FIELD`.
    public static let failureCode = "docsend-failure-code"
    /// The last failure, in words (at most 1,000 characters).
    public static let failureReason = "docsend-failure-reason"
    /// When it failed (RFC 3339, UTC).
    public static let failedAt = "docsend-failed-at"
    /// The work queue the message came from: where a replay sends it back.
    public static let originQueue = "docsend-origin-queue"
}

/// Handles one message of a work queue. Returning settles it (ack); throwing retries or parks it
/// (``WorkFailure/classify(_:)``).
public protocol MessageHandler: Sendable {
    /// Does the message's work; returns once its effects are durable.
    func handle(_ delivery: AMQPDelivery, logger: Logger) async throws
}

/// Consumes one work queue with a bounded number of messages in work at once, settles each message after
/// its handler, and sends failures to the retry tiers or the parking queue, so a bad message never
/// stalls the queue.
///
/// It runs as a service: a graceful shutdown (SIGTERM) stops new deliveries, lets the messages in work
/// finish and settle, and hands the ones not started back to the broker.
public struct QueueWorker: Service {
    /// Which queue, and the tiers its failures go through.
    public let role: SyncTopology.Role
    let connection: AMQPConnection
    let topology: SyncTopology
    let handler: any MessageHandler
    let concurrency: Int
    let prefetch: Int
    let logger: Logger

    /// A worker of `role` on `connection`: at most `concurrency` messages in work, `prefetch` unacknowledged
    /// deliveries (at least `concurrency`).
    public init(
        role: SyncTopology.Role, connection: AMQPConnection, topology: SyncTopology, handler: any MessageHandler,
        concurrency: Int, prefetch: Int, logger: Logger
    ) {
        self.role = role
        self.connection = connection
        self.topology = topology
        self.handler = handler
        self.concurrency = max(1, concurrency)
        self.prefetch = min(Int(UInt16.max), max(prefetch, self.concurrency))
        var logger = logger
        logger[metadataKey: "queue"] = .string(topology.queue(role))
        self.logger = logger
    }

    public func run() async throws {
        let consumer = try await connection.consume(queue: topology.queue(role), prefetch: UInt16(prefetch))
        let draining = Mutex(false)
        logger.info("consuming", metadata: ["concurrency": "\(concurrency)", "prefetch": "\(prefetch)"])
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                var running = 0
                for try await delivery in consumer {
                    if draining.withLock({ $0 }) {
                        delivery.nack(requeue: true)
                        continue
                    }
                    if running >= concurrency {
                        try await group.next()
                        running -= 1
                    }
                    group.addTask { await process(delivery) }
                    running += 1
                }
                try await group.waitForAll()
            }
        } onGracefulShutdown: {
            draining.withLock { $0 = true }
            consumer.cancel()
        }
        logger.info("drained and stopped")
    }

    /// Runs the handler and settles the delivery.
    func process(_ delivery: AMQPDelivery) async {
        var logger = self.logger
        if let id = delivery.properties.messageID { logger[metadataKey: "message_id"] = .string(id) }
        if let type = delivery.properties.type { logger[metadataKey: "message_type"] = .string(type) }
        do {
            try await handler.handle(delivery, logger: logger)
            delivery.ack()
        } catch {
            if Task.isCancelled {
                // Stopping without a graceful drain: the message goes back to the queue untouched.
                delivery.nack(requeue: true)
                return
            }
            await settle(delivery, failure: WorkFailure.classify(error), logger: logger)
        }
    }

    /// Sends a failed message to its next retry tier, or parks it; acks the delivery once the copy is
    /// confirmed. When the broker refuses the copy, the delivery is requeued (the queue's delivery limit
    /// bounds how often).
    func settle(_ delivery: AMQPDelivery, failure: WorkFailure, logger: Logger) async {
        let attempts = Int(delivery.properties.headers[WorkHeaders.attempts]?.intValue ?? 0) + 1
        var properties = delivery.properties
        properties.headers = properties.headers.filter { !$0.key.hasPrefix("x-") }
        properties.headers[WorkHeaders.attempts] = .int(Int64(attempts))
        properties.headers[WorkHeaders.failureCode] = .string(failure.code)
        properties.headers[WorkHeaders.failedAt] = .string(Date().formatted(.iso8601))
        properties.headers[WorkHeaders.originQueue] = .string(topology.queue(role))
        properties.persistent = true

        let message: AMQPMessage
        var logger = logger
        logger[metadataKey: "failure"] = .string(failure.code)
        logger[metadataKey: "attempts"] = "\(attempts)"
        if failure.disposition == .retry, let tier = topology.retryTier(role, attempt: attempts) {
            properties.headers[WorkHeaders.failureReason] = .string(Self.cut(failure.message))
            message = AMQPMessage(
                exchange: topology.delayExchange, routingKey: tier.queue, body: delivery.body, properties: properties)
            logger.warning(
                "will retry", metadata: ["in": "\(IntervalFormat.format(tier.interval))", "reason": "\(failure.message)"])
        } else {
            let reason =
                failure.disposition == .retry
                ? "retries exhausted after \(attempts) attempts: \(failure.message)" : failure.message
            properties.headers[WorkHeaders.failureReason] = .string(Self.cut(reason))
            message = AMQPMessage(
                exchange: topology.workExchange, routingKey: topology.parkingQueue, body: delivery.body,
                properties: properties)
            logger.error("parked", metadata: ["reason": "\(reason)"])
        }
        do {
            try await connection.publish(message)
            delivery.ack()
        } catch {
            logger.error("could not send the message to retry or parking; requeued", metadata: ["error": "\(error)"])
            delivery.nack(requeue: true)
        }
    }

    static func cut(_ text: String, to limit: Int = 1000) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
