import Foundation

/// The AMQP basic properties the contract requires on every event message, as a plain value that the AMQP
/// layer maps onto its wire types.
public struct MessageProperties: Sendable, Hashable {
    /// `content_type`: always `application/json`.
    public var contentType: String
    /// `delivery_mode`: 2, persistent.
    public var deliveryMode: UInt8
    /// `message_id`: the event `id`.
    public var messageID: String
    /// `type`: the event type string (also the routing key).
    public var type: String
    /// `timestamp`: the event's `occurred_at`, truncated to whole seconds (AMQP timestamps are seconds).
    public var timestamp: Date

    /// Creates message properties.
    public init(
        contentType: String = EventContract.contentType,
        deliveryMode: UInt8 = EventContract.persistentDeliveryMode,
        messageID: String, type: String, timestamp: Date
    ) {
        self.contentType = contentType
        self.deliveryMode = deliveryMode
        self.messageID = messageID
        self.type = type
        self.timestamp = timestamp
    }

    /// ``timestamp`` as seconds since 1970-01-01T00:00:00Z, the AMQP wire value.
    public var timestampSeconds: Int64 {
        Int64(timestamp.timeIntervalSince1970.rounded(.down))
    }
}

extension Event {
    /// The routing key to publish this event with: its type string.
    public var routingKey: String { type.routingKey }

    /// The message properties to publish this event with.
    public var messageProperties: MessageProperties {
        MessageProperties(
            messageID: id, type: type.rawValue,
            timestamp: Date(timeIntervalSince1970: occurredAt.timeIntervalSince1970.rounded(.down)))
    }
}
