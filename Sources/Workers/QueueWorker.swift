import AMQP
import Fleet
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The headers a worker sets on a message it sends to a retry tier or to the parking queue.
///
/// A re-published message carries only what the fleet owns (``republished(_:)``): every other header, the
/// broker's `x-` headers included (RabbitMQ would otherwise take the message's trip through a tier for a
/// dead-letter cycle and drop it), and the producer's `expiration`, `priority`, `user_id`, `reply_to` … are left
/// behind, so that a parked message stays until an operator acts on it.
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

    /// The most attempts a message is taken to have had: a larger (or hostile) header value counts as this.
    public static let maximumAttempts = 1_000

    /// The failed attempts a message's headers record: 0 when the header is missing, not an integer, or not
    /// positive; never more than ``maximumAttempts`` (a producer may send any value, `Int64.max` included).
    public static func attempts(in headers: [String: AMQPValue]) -> Int {
        guard case .int(let value)? = headers[attempts], value > 0 else { return 0 }
        return Int(min(value, Int64(maximumAttempts)))
    }

    /// The properties a retried or parked copy of a message carries: the contract's (`content_type`,
    /// `message_id`, `type`, `timestamp`, `app_id`), persistent, and the fleet's own `docsend-` headers. Nothing else
    /// a producer set survives: no `expiration` (a parked message would vanish), `priority`, `user_id`,
    /// `reply_to`, `correlation_id` or foreign header.
    public static func republished(_ properties: AMQPProperties) -> AMQPProperties {
        AMQPProperties(
            contentType: properties.contentType,
            headers: properties.headers.filter { $0.key.hasPrefix("docsend-") }, persistent: true,
            messageID: properties.messageID, timestamp: properties.timestamp, type: properties.type,
            appID: properties.appID)
    }
}

/// Handles one message of a work queue. Returning settles it (ack); throwing retries, parks or skips it
/// (``WorkFailure/classify(_:)``).
public protocol MessageHandler: Sendable {
    /// Does the message's work; returns once its effects are durable.
    func handle(_ delivery: AMQPDelivery, logger: Logger) async throws
}

/// Consumes one work queue with a bounded number of messages in work at once, settles each message after
/// its handler, and sends failures to the retry tiers or the parking queue, so a bad message never
/// stalls the queue.
///
/// Deliveries come from one connection and every copy (retry, parking) goes out through another
/// (`publisher`): a broker resource alarm blocks publishing connections, and acknowledgements must keep
/// flowing while it lasts.
///
/// It runs as a service: a graceful shutdown (SIGTERM) stops new deliveries, lets the messages in work
/// finish and settle, and hands the ones not started back to the broker.
public struct QueueWorker: Service {
    /// Which queue, and the tiers its failures go through.
    public let role: SyncTopology.Role
    let connection: AMQPConnection
    let publisher: AMQPConnection
    let topology: SyncTopology
    let handler: any MessageHandler
    let concurrency: Int
    let prefetch: Int
    let holds: LoginHolds?
    let logger: Logger

    /// A worker of `role` consuming on `connection` and publishing on `publisher` (the same connection when
    /// `nil`): at most `concurrency` messages in work, `prefetch` unacknowledged deliveries (at least
    /// `concurrency`). `holds` bounds how many messages a team whose connection needs a new login keeps
    /// parked (``LoginHolds``); `nil`, unbounded.
    public init(
        role: SyncTopology.Role, connection: AMQPConnection, publisher: AMQPConnection? = nil, topology: SyncTopology,
        handler: any MessageHandler, concurrency: Int, prefetch: Int, holds: LoginHolds? = nil, logger: Logger
    ) {
        self.role = role
        self.connection = connection
        self.publisher = publisher ?? connection
        self.topology = topology
        self.handler = handler
        self.concurrency = max(1, concurrency)
        self.prefetch = min(Int(UInt16.max), max(prefetch, self.concurrency))
        self.holds = holds
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
            try admit(delivery)
            try await handler.handle(delivery, logger: logger)
            delivery.ack()
            WorkMetrics.count(role: role, outcome: "handled")
        } catch {
            if Task.isCancelled {
                // Stopping without a graceful drain: the message goes back to the queue untouched.
                delivery.nack(requeue: true)
                return
            }
            await settle(delivery, failure: WorkFailure.classify(error), logger: logger)
        }
    }

    /// Refuses what no handler may see: properties the AMQP layer would not convert (headers nested too deep,
    /// too many header values), and the fleet's internal message types arriving other than through the fleet's
    /// own exchange (a producer forging a re-sync tick or a lead for any team).
    func admit(_ delivery: AMQPDelivery) throws(WorkFailure) {
        if let problem = delivery.propertiesProblem {
            throw WorkFailure.badMessage(code: "contract_violation.properties", "the message's properties were refused: \(problem)")
        }
        if let type = delivery.properties.type, InternalMessage.types.contains(type),
            delivery.exchange != topology.workExchange
        {
            throw WorkFailure.badMessage(
                code: "contract_violation.internal_type",
                "\(type) is internal to docsend-sync and is accepted only through \(topology.workExchange), not "
                    + "through \(delivery.exchange.isEmpty ? "the default exchange" : delivery.exchange)")
        }
    }

    /// Sends a failed message to its next retry tier, or parks it, or (nothing to act on) only counts it; acks
    /// the delivery once the copy is confirmed. When the broker refuses the copy, the delivery is requeued (the
    /// queue's delivery limit bounds how often).
    func settle(_ delivery: AMQPDelivery, failure: WorkFailure, logger: Logger) async {
        var logger = logger
        logger[metadataKey: "failure"] = .string(failure.code)
        if failure.disposition == .skip {
            logger.debug("acknowledged without syncing", metadata: ["reason": "\(failure.message)"])
            delivery.ack()
            WorkMetrics.count(role: role, outcome: "skipped", code: failure.code)
            return
        }
        let attempts = WorkHeaders.attempts(in: delivery.properties.headers) + 1
        logger[metadataKey: "attempts"] = "\(attempts)"
        var properties = WorkHeaders.republished(delivery.properties)
        properties.headers[WorkHeaders.attempts] = .int(Int64(attempts))
        properties.headers[WorkHeaders.failureCode] = .string(failure.code)
        properties.headers[WorkHeaders.failedAt] = .string(Date().formatted(.iso8601))
        properties.headers[WorkHeaders.originQueue] = .string(topology.queue(role))

        let message: AMQPMessage
        let outcome: String
        if failure.disposition == .retry, let tier = topology.retryTier(role, attempt: attempts) {
            properties.headers[WorkHeaders.failureReason] = .string(Self.cut(failure.message))
            message = AMQPMessage(
                exchange: topology.delayExchange, routingKey: tier.queue, body: delivery.body, properties: properties)
            outcome = "retried"
            logger.warning(
                "will retry", metadata: ["in": "\(IntervalFormat.format(tier.interval))", "reason": "\(failure.message)"])
        } else {
            if let holds, let teamID = failure.teamID, failure.code == WorkFailure.reauthenticationCode,
                await !holds.admit(teamID: teamID, logger: logger)
            {
                logger.warning(
                    "dropped: the team already keeps as many messages as it may until its next login",
                    metadata: ["team": "\(teamID)", "limit": "\(holds.limit)"])
                delivery.ack()
                WorkMetrics.count(role: role, outcome: "dropped", code: failure.code)
                return
            }
            let reason =
                failure.disposition == .retry
                ? "retries exhausted after \(attempts) attempts: \(failure.message)" : failure.message
            properties.headers[WorkHeaders.failureReason] = .string(Self.cut(reason))
            message = AMQPMessage(
                exchange: topology.workExchange, routingKey: topology.parkingQueue, body: delivery.body,
                properties: properties)
            outcome = "parked"
            logger.error("parked", metadata: ["reason": "\(reason)"])
        }
        do {
            try await publisher.publish(message)
            delivery.ack()
            WorkMetrics.count(role: role, outcome: outcome, code: failure.code)
        } catch {
            logger.error("could not send the message to retry or parking; requeued", metadata: ["error": "\(error)"])
            delivery.nack(requeue: true)
        }
    }

    static func cut(_ text: String, to limit: Int = 1000) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
