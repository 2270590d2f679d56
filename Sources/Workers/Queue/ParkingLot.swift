import AMQP
import Fleet
import Foundation
import Synchronization

/// A message in the parking queue, with why it is there.
public struct ParkedMessage: Sendable {
    /// The message as parked.
    public var body: Data
    public var properties: AMQPProperties
    /// The work queue it came from, where a replay sends it.
    public var originQueue: String?

    public var failureCode: String? { properties.headers[WorkHeaders.failureCode]?.stringValue }
    public var failureReason: String? { properties.headers[WorkHeaders.failureReason]?.stringValue }
    public var failedAt: String? { properties.headers[WorkHeaders.failedAt]?.stringValue }
    public var attempts: Int { Int(properties.headers[WorkHeaders.attempts]?.intValue ?? 0) }
    /// The `team_id` of the body (every message of the fleet carries one at its top level), when it has one.
    public var teamID: String? {
        (try? JSONSerialization.jsonObject(with: body)).flatMap { ($0 as? [String: Any])?["team_id"] as? String }
    }

    init(_ delivery: AMQPDelivery) {
        body = delivery.body
        properties = delivery.properties
        originQueue = properties.headers[WorkHeaders.originQueue]?.stringValue ?? Self.deathQueue(properties.headers)
    }

    /// A message the broker parked itself (delivery limit) says where it came from in `x-death`.
    private static func deathQueue(_ headers: [String: AMQPValue]) -> String? {
        guard case .array(let deaths)? = headers["x-death"], case .table(let first)? = deaths.first else { return nil }
        return first["queue"]?.stringValue
    }
}

/// The parking queue, for operators: list what is there and why, send messages back to their work queue once
/// the cause is fixed, or drop them.
public struct ParkingLot: Sendable {
    let connection: AMQPConnection
    let topology: SyncTopology
    /// How long a read of the parking queue waits for the next message before it stops.
    let idleTimeout: Duration

    /// The parking queue of `topology`, through `connection`.
    public init(connection: AMQPConnection, topology: SyncTopology, idleTimeout: Duration = .seconds(5)) {
        self.connection = connection
        self.topology = topology
        self.idleTimeout = idleTimeout
    }

    /// Up to `limit` parked messages (at most ``listLimit``), oldest first; they stay parked.
    public func list(limit: Int = 100) async throws -> [ParkedMessage] {
        let count = min(limit, Self.listLimit, try await connection.queueStatus(topology.parkingQueue).messages)
        guard count > 0 else { return [] }
        var deliveries: [AMQPDelivery] = []
        try await receive(count: count, prefetch: count) { deliveries.append($0) }
        for delivery in deliveries { delivery.nack(requeue: true) }
        return deliveries.map(ParkedMessage.init)
    }

    /// The most messages ``list(limit:)`` shows at once (it holds them all unacknowledged while it reads).
    public static let listLimit = 1000

    /// Sends parked messages (those whose failure code starts with `codePrefix`, all when `nil`; at most
    /// `limit`) back to their work queue with a fresh count of attempts, and returns how many. Messages that
    /// do not match, or whose origin is unknown, stay parked (moved to the back of the queue, unchanged).
    ///
    /// It goes through the messages parked when it starts, one at a time, acknowledging each as it goes, so
    /// any number of them is replayed with a bounded amount of memory.
    public func replay(codePrefix: String? = nil, limit: Int = .max) async throws -> (replayed: Int, kept: Int) {
        try await replay(limit: limit) { parked in codePrefix.map { parked.failureCode?.hasPrefix($0) ?? false } ?? true }
    }

    /// Sends the parked messages `matching` accepts (at most `limit`) back to their work queue, as
    /// ``replay(codePrefix:limit:)`` does (the admin service replays one team's messages this way).
    public func replay(
        limit: Int = .max, matching: (ParkedMessage) -> Bool
    ) async throws -> (replayed: Int, kept: Int) {
        let count = try await connection.queueStatus(topology.parkingQueue).messages
        guard count > 0, limit > 0 else { return (0, 0) }
        var replayed = 0
        var seen = 0
        try await receive(count: count, prefetch: 200) { delivery in
            seen += 1
            let parked = ParkedMessage(delivery)
            let matches = matching(parked)
            let message: AMQPMessage
            if replayed < limit, matches, let origin = parked.originQueue,
                topology.topology.queues.contains(where: { $0.name == origin })
            {
                var properties = parked.properties
                properties.headers = properties.headers.filter {
                    !$0.key.hasPrefix("x-") && $0.key != WorkHeaders.attempts
                }
                message = AMQPMessage(
                    exchange: topology.workExchange, routingKey: origin, body: parked.body, properties: properties)
                replayed += 1
            } else {
                message = AMQPMessage(
                    exchange: topology.workExchange, routingKey: topology.parkingQueue, body: parked.body,
                    properties: parked.properties)
            }
            do {
                try await connection.publish(message)
                delivery.ack()
            } catch {
                delivery.nack(requeue: true)
                throw error
            }
        }
        return (replayed, seen - replayed)
    }

    /// Drops every parked message; returns how many.
    public func purge() async throws -> Int {
        try await connection.purgeQueue(topology.parkingQueue)
    }

    /// Receives `count` messages of the parking queue (those parked when the caller looked) and hands each to
    /// `body`. Stops early when nothing arrives for ``idleTimeout`` (another consumer took some), so it never
    /// waits forever.
    private func receive(count: Int, prefetch: Int, _ body: (AMQPDelivery) async throws -> Void) async throws {
        let consumer = try await connection.consume(
            queue: topology.parkingQueue, prefetch: UInt16(clamping: max(1, min(prefetch, count))))
        let received = Atomic<Int>(0)
        let idleTimeout = self.idleTimeout
        let watchdog = Task {
            var last = -1
            while !Task.isCancelled {
                let now = received.load(ordering: .relaxed)
                if now == last {
                    consumer.cancel()
                    return
                }
                last = now
                try? await Task.sleep(for: idleTimeout)
            }
        }
        defer { watchdog.cancel() }
        var iterator = consumer.makeAsyncIterator()
        var handled = 0
        do {
            while handled < count, let delivery = try await iterator.next() {
                received.add(1, ordering: .relaxed)
                try await body(delivery)
                handled += 1
            }
        } catch {
            consumer.cancel()
            while let extra = try? await iterator.next() { extra.nack(requeue: true) }
            throw error
        }
        // Deliveries the broker sent past `count` (messages parked meanwhile, kept copies) go back untouched.
        consumer.cancel()
        while let extra = try? await iterator.next() { extra.nack(requeue: true) }
    }
}
