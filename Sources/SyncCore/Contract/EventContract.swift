/// Constants of the DocSend activity event contract (docs/events/README.md).
///
/// The contract is the project's public interface: any AMQP client, in any language, publishes JSON events to
/// ``exchange`` with the event's type as routing key and the properties of ``MessageProperties``.
public enum EventContract {
    /// The topic exchange producers publish to.
    public static let exchange = "docsend.activity"

    /// The exchange type (`topic`, durable).
    public static let exchangeType = "topic"

    /// The only envelope `version` this consumer understands. Any other version is a contract violation.
    public static let version = 1

    /// The `content_type` message property.
    public static let contentType = "application/json"

    /// The `delivery_mode` message property: 2 (persistent).
    public static let persistentDeliveryMode: UInt8 = 2

    /// The largest accepted body, in bytes (256 KiB), checked before any parsing.
    ///
    /// A real event is a few hundred bytes; the limit only bounds what a hostile or broken producer can make a
    /// worker allocate.
    public static let maximumBodySize = 256 * 1024

    /// Longest identifier (`id`, `team_id`, `visit_id`, …), in UTF-8 bytes.
    ///
    /// The event `id` becomes the AMQP `message_id`, a short string of at most 255 bytes.
    public static let maximumIdentifierLength = 255

    /// Longest email, in Unicode scalars (RFC 5321: 64 for the local part, 1, 255 for the domain).
    public static let maximumEmailLength = 320

    /// Longest free-text name (document, account, space, visitor, link names), in Unicode scalars.
    public static let maximumNameLength = 1024

    /// Longest URL, in Unicode scalars.
    public static let maximumURLLength = 4096
}
