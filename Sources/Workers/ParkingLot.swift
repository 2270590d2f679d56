import AMQP
import Fleet
import Foundation

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

    /// The parking queue of `topology`, through `connection`.
    public init(connection: AMQPConnection, topology: SyncTopology) {
        self.connection = connection
        self.topology = topology
    }

    /// Up to `limit` parked messages, oldest first; they stay parked.
    public func list(limit: Int = 100) async throws -> [ParkedMessage] {
        let deliveries = try await take(limit: limit)
        for delivery in deliveries { delivery.nack(requeue: true) }
        return deliveries.map(ParkedMessage.init)
    }

    /// Sends parked messages (those whose failure code starts with `codePrefix`, all when `nil`; at most
    /// `limit`) back to their work queue with a fresh count of attempts, and returns how many. Messages that
    /// do not match, or whose origin is unknown, stay parked.
    public func replay(codePrefix: String? = nil, limit: Int = .max) async throws -> (replayed: Int, kept: Int) {
        let deliveries = try await take(limit: limit)
        var replayed = 0
        for delivery in deliveries {
            let parked = ParkedMessage(delivery)
            let matches = codePrefix.map { parked.failureCode?.hasPrefix($0) ?? false } ?? true
            guard matches, let origin = parked.originQueue, topology.topology.queues.contains(where: { $0.name == origin })
            else {
                delivery.nack(requeue: true)
                continue
            }
            var properties = parked.properties
            properties.headers = properties.headers.filter { !$0.key.hasPrefix("x-") && $0.key != WorkHeaders.attempts }
            do {
                try await connection.publish(
                    AMQPMessage(exchange: topology.workExchange, routingKey: origin, body: parked.body, properties: properties))
                delivery.ack()
                replayed += 1
            } catch {
                delivery.nack(requeue: true)
                throw error
            }
        }
        return (replayed, deliveries.count - replayed)
    }

    /// Drops every parked message; returns how many.
    public func purge() async throws -> Int {
        try await connection.purgeQueue(topology.parkingQueue)
    }

    /// Receives up to `limit` of the messages parked now (without waiting for new ones).
    private func take(limit: Int) async throws -> [AMQPDelivery] {
        let count = min(limit, try await connection.queueStatus(topology.parkingQueue).messages)
        guard count > 0 else { return [] }
        let consumer = try await connection.consume(queue: topology.parkingQueue, prefetch: UInt16(min(count, 1000)))
        var deliveries: [AMQPDelivery] = []
        var iterator = consumer.makeAsyncIterator()
        let deadline = ContinuousClock.now + .seconds(10)
        while deliveries.count < count, ContinuousClock.now < deadline {
            guard let delivery = try await iterator.next() else { break }
            deliveries.append(delivery)
        }
        consumer.cancel()
        return deliveries
    }
}
