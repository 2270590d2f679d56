import AMQP
import Foundation
import SyncCore

/// Publishes contract events the way the contract asks (design.md §3): to the topic exchange, routing
/// key = event type, persistent, `application/json`, `message_id` = event id, with publisher confirms
/// and `mandatory`, so an event that no queue receives (topology not declared) is an error, not a loss.
///
/// ```swift
/// let connection = try await AMQPConnection.connect(AMQPConfiguration(url: "amqp://guest:guest@127.0.0.1:5672/"), logger: logger)
/// let publisher = EventPublisher(connection: connection)
/// try await publisher.publish(event)   // returns once the broker confirmed it
/// ```
public struct EventPublisher: Sendable {
    public let connection: AMQPConnection
    public let exchange: String

    public init(connection: AMQPConnection, exchange: String = EventContract.exchange) {
        self.connection = connection
        self.exchange = exchange
    }

    /// Publishes `event` and waits for the broker's confirm.
    public func publish(_ event: Event) async throws {
        try await connection.publish(Self.message(for: event, exchange: exchange))
    }

    /// The AMQP message for `event`.
    public static func message(for event: Event, exchange: String = EventContract.exchange) -> AMQPMessage {
        let properties = event.messageProperties
        return AMQPMessage(
            exchange: exchange,
            routingKey: event.routingKey,
            body: event.encoded(),
            properties: AMQPProperties(
                contentType: properties.contentType, persistent: properties.deliveryMode == 2,
                messageID: properties.messageID,
                timestamp: Date(timeIntervalSince1970: TimeInterval(properties.timestampSeconds)), type: properties.type,
                appID: "docsend-sync"),
            mandatory: true)
    }
}
