import Foundation
import Logging
import ServiceLifecycle

/// A connection to a RabbitMQ broker, owned by one dedicated thread.
///
/// Every call is `async` and only hands work to that thread, so Swift's cooperative pool never blocks
/// on the broker. The thread services heartbeats whatever the application does, and after a broker
/// restart or a dropped connection it reconnects by itself (with backoff), declares again the
/// topologies declared through it, resumes its consumers and re-sends publishes that were not
/// confirmed. Deliveries unacknowledged when a connection drops come back from the broker, flagged
/// as redelivered; settling such a stale delivery is a no-op.
///
/// The rabbitmq-c documentation asks for one connection per thread and recommends separate
/// connections for publishing and consuming; create two ``AMQPConnection``s for that.
///
/// ## Lifetime
///
/// A connection is a `Service`: put it in a `ServiceGroup` before the services that use it, and the
/// group closes it (``run()`` returns) after those have stopped. Without a group, call ``close()``.
///
/// ```swift
/// let connection = try await AMQPConnection.connect(configuration, logger: logger)
/// let group = ServiceGroup(services: [connection, worker], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
///
/// ## Logging
///
/// The connection logs with the logger it was given, with constant messages and `amqp-` metadata keys
/// (`amqp-broker`, `amqp-error`, `amqp-queue`, …): `warning` when the connection is lost (it reconnects),
/// when the broker blocks publishing and for a delivery with malformed properties; `info` when the broker
/// unblocks publishing; everything else at `debug`. Normal operation logs nothing at `info` or above.
public final class AMQPConnection: Sendable {
    let core: ConnectionCore

    private init(core: ConnectionCore) { self.core = core }

    /// Connects, failing if the first attempt fails (wrong URL, credentials or vhost; broker down).
    /// The connection logs to `logger` for its whole life (see "Logging" above).
    public static func connect(_ configuration: AMQPConfiguration, logger: Logger) async throws -> AMQPConnection {
        let core = try ConnectionCore(configuration: configuration, logger: logger)
        try await core.start()
        return AMQPConnection(core: core)
    }

    public var configuration: AMQPConfiguration { core.configuration }

    /// Whether the connection is up right now (it may be between reconnection attempts).
    public var isConnected: Bool { core.connectedFlag.load(ordering: .acquiring) }

    /// How many times the connection was re-established after a loss.
    public var reconnections: Int { core.reconnectCount.load(ordering: .relaxed) }

    /// Publishes with publisher confirms and returns once the broker has taken responsibility for the
    /// message (persisted, for persistent messages on durable queues).
    ///
    /// - Throws: ``AMQPError`` ``AMQPError/Code/unroutable`` when a mandatory message reached no queue,
    ///   ``AMQPError/Code/nacked`` when the broker refused it, ``AMQPError/Code/channelClosed`` when the
    ///   exchange does not exist, ``AMQPError/Code/timeout`` when no confirm came within the publish
    ///   timeout (reconnections included), ``AMQPError/Code/closed`` after ``close()``.
    public func publish(_ message: AMQPMessage) async throws {
        let started = ContinuousClock.now
        try await core.publish(message)
        AMQPMetrics.confirmed(since: started)
    }

    /// Starts a consumer with manual acknowledgements and `prefetch` unacknowledged deliveries at most.
    /// Returns once the broker accepted it (a missing queue throws here).
    public func consume(queue: String, prefetch: UInt16 = 100, arguments: [String: AMQPValue] = [:]) async throws -> AMQPConsumer {
        try await core.consume(queue: queue, prefetch: prefetch, arguments: arguments)
    }

    /// Declares exchanges, queues and bindings (idempotent for identical definitions). With
    /// `redeclareOnReconnect`, they are declared again after every reconnection.
    public func declare(_ topology: Topology, redeclareOnReconnect: Bool = true) async throws {
        _ = try await core.control(.declare(topology, remember: redeclareOnReconnect))
    }

    /// Ready-message and consumer counts of a queue (a passive declare: throws when it does not exist).
    public func queueStatus(_ queue: String) async throws -> (messages: Int, consumers: Int) {
        guard case .queue(let messages, let consumers) = try await core.control(.inspectQueue(queue)) else {
            return (0, 0)
        }
        return (Int(messages), Int(consumers))
    }

    /// Removes every ready message of a queue; returns how many.
    @discardableResult
    public func purgeQueue(_ queue: String) async throws -> Int {
        guard case .purged(let count) = try await core.control(.purgeQueue(queue)) else { return 0 }
        return Int(count)
    }

    public func deleteQueue(_ queue: String) async throws {
        _ = try await core.control(.deleteQueue(queue))
    }

    public func deleteExchange(_ exchange: String) async throws {
        _ = try await core.control(.deleteExchange(exchange))
    }

    /// Cancels consumers, waits for outstanding publisher confirms (within the publish timeout), closes
    /// the connection and stops its thread. Idempotent.
    public func close() async {
        await core.close()
    }
}

extension AMQPConnection: Service {
    /// Holds the connection open for a `ServiceGroup`. When graceful shutdown is triggered or the task is
    /// cancelled, closes it as ``close()`` does (consumers cancelled, outstanding confirms awaited within
    /// the publish timeout) and returns; returns as well when someone else closed it. Afterwards every
    /// call fails with ``AMQPError/Code/closed``.
    public func run() async {
        await withTaskCancellationOrGracefulShutdownHandler {
            await core.waitUntilFinished()
        } onCancelOrGracefulShutdown: { [core] in
            core.requestClose()
        }
    }
}

/// Deliveries of one consumer, in order. The sequence ends after ``cancel()``, and throws when the
/// broker ends the consumer for good (its queue deleted).
public struct AMQPConsumer: AsyncSequence, Sendable {
    public typealias Element = AMQPDelivery

    public let queue: String
    let id: UInt64
    let stream: AsyncThrowingStream<AMQPDelivery, any Error>
    let core: ConnectionCore

    init(id: UInt64, queue: String, stream: AsyncThrowingStream<AMQPDelivery, any Error>, core: ConnectionCore) {
        self.id = id
        self.queue = queue
        self.stream = stream
        self.core = core
    }

    /// Stops new deliveries (`basic.cancel`). Deliveries already received can still be settled.
    public func cancel() {
        core.cancelConsumer(id: id)
    }

    public func makeAsyncIterator() -> AsyncThrowingStream<AMQPDelivery, any Error>.AsyncIterator {
        stream.makeAsyncIterator()
    }
}

/// One message delivered to a consumer. Settle it exactly once, from any task, with ``ack()``,
/// ``nack(requeue:)`` or ``reject(requeue:)``.
public struct AMQPDelivery: Sendable {
    struct Settler: Sendable {
        let core: ConnectionCore
        let channel: UInt16
        let epoch: UInt64
    }

    public let body: Data
    public let properties: AMQPProperties
    public let exchange: String
    public let routingKey: String
    /// The broker delivered this message before (to this or another consumer) without an ack.
    /// `false` guarantees that it was never seen before.
    public let redelivered: Bool
    let deliveryTag: UInt64
    /// What was wrong with the message's properties, when they exceeded a bound
    /// (``AMQPProperties/headerDepthLimit``, ``AMQPProperties/headerValueLimit``), for example
    /// "headers nest deeper than 16 levels". The headers are then empty (the other properties and the
    /// body are as sent). Such a message was built by a broken or hostile publisher: settle it like any
    /// poison message (park it with this reason), never retry it.
    public let propertiesProblem: String?
    let settler: Settler

    init(
        body: Data, properties: AMQPProperties, propertiesProblem: String? = nil, exchange: String, routingKey: String,
        redelivered: Bool, deliveryTag: UInt64, settler: Settler
    ) {
        self.body = body
        self.properties = properties
        self.propertiesProblem = propertiesProblem
        self.exchange = exchange
        self.routingKey = routingKey
        self.redelivered = redelivered
        self.deliveryTag = deliveryTag
        self.settler = settler
    }

    /// Acknowledges: the broker forgets the message.
    public func ack() { settler.core.settle(.ack, tag: deliveryTag, channel: settler.channel, epoch: settler.epoch) }

    /// Negative acknowledgement: requeued, or dead-lettered (or dropped) when `requeue` is false.
    public func nack(requeue: Bool = false) {
        settler.core.settle(.nack(requeue: requeue), tag: deliveryTag, channel: settler.channel, epoch: settler.epoch)
    }

    /// Rejects: requeued, or dead-lettered (or dropped) when `requeue` is false.
    public func reject(requeue: Bool = false) {
        settler.core.settle(.reject(requeue: requeue), tag: deliveryTag, channel: settler.channel, epoch: settler.epoch)
    }
}
