/// The type of an event: its `type` field, its AMQP `type` property and its routing key.
public enum EventType: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// A visitor opened a link (`visit.started`).
    case visitStarted = "visit.started"
    /// A visit progressed or ended (`visit.updated`).
    case visitUpdated = "visit.updated"
    /// A document link was created (`link.created`).
    case linkCreated = "link.created"
    /// A space link was created (`space_link.created`).
    case spaceLinkCreated = "space_link.created"

    /// The routing key an event of this type is published with: the type string itself.
    public var routingKey: String { rawValue }

    /// The type string, as on the wire.
    public var description: String { rawValue }
}
