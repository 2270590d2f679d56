import Foundation

/// A value in an AMQP field table (message headers, queue and exchange arguments).
///
/// Received values map as follows: every integer type becomes ``int(_:)`` (unsigned 64-bit values keep
/// their bit pattern), `float`, `double` and `decimal` become ``double(_:)``, a long string that is not
/// valid UTF-8 becomes ``bytes(_:)`` (so nothing is lost; ``stringValue`` is then `nil`), and an unknown
/// or `void` field becomes ``void``.
public enum AMQPValue: Sendable, Hashable, CustomStringConvertible {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case timestamp(Date)
    case table([String: AMQPValue])
    case array([AMQPValue])
    case void

    public var description: String {
        switch self {
        case .bool(let value): return "\(value)"
        case .int(let value): return "\(value)"
        case .double(let value): return "\(value)"
        case .string(let value): return value
        case .bytes(let value): return "<\(value.count) bytes>"
        case .timestamp(let value): return value.ISO8601Format()
        case .table(let value): return "\(value)"
        case .array(let value): return "\(value)"
        case .void: return "void"
        }
    }

    /// The string inside a `.string` (or UTF-8 `.bytes`) value.
    public var stringValue: String? {
        switch self {
        case .string(let value): return value
        case .bytes(let value): return String(validating: value, as: UTF8.self)
        default: return nil
        }
    }

    /// The integer inside an `.int` value.
    public var intValue: Int64? {
        if case .int(let value) = self { return value }
        return nil
    }
}

extension AMQPValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

/// The basic properties of a message. `nil` fields are not sent.
///
/// Short-string properties (`messageID`, `type`, ...) of a received message are decoded as UTF-8,
/// with invalid bytes replaced.
public struct AMQPProperties: Sendable, Hashable {
    /// How deeply received headers may nest: the headers table is level 1, a table or array inside it
    /// level 2. A delivery whose headers go deeper arrives with empty headers and
    /// ``AMQPDelivery/propertiesProblem`` set.
    public static let headerDepthLimit = 16

    /// How many values (table entries and array elements, at every level together) received headers
    /// may hold. A delivery whose headers hold more arrives with empty headers and
    /// ``AMQPDelivery/propertiesProblem`` set.
    public static let headerValueLimit = 4096

    public var contentType: String?
    public var contentEncoding: String?
    public var headers: [String: AMQPValue]
    /// `true` sends delivery mode 2 (persistent).
    public var persistent: Bool
    public var priority: UInt8?
    public var correlationID: String?
    public var replyTo: String?
    /// Per-message TTL in milliseconds, as AMQP's string property.
    public var expiration: String?
    public var messageID: String?
    /// Seconds since 1970 (AMQP timestamps have no fraction).
    public var timestamp: Date?
    public var type: String?
    public var userID: String?
    public var appID: String?

    public init(
        contentType: String? = nil, contentEncoding: String? = nil, headers: [String: AMQPValue] = [:],
        persistent: Bool = true, priority: UInt8? = nil, correlationID: String? = nil, replyTo: String? = nil,
        expiration: String? = nil, messageID: String? = nil, timestamp: Date? = nil, type: String? = nil,
        userID: String? = nil, appID: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.persistent = persistent
        self.priority = priority
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageID = messageID
        self.timestamp = timestamp
        self.type = type
        self.userID = userID
        self.appID = appID
    }
}

/// A message to publish.
public struct AMQPMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: Data
    public var properties: AMQPProperties
    /// Ask the broker to return the message when no queue receives it; the publish then fails with
    /// ``AMQPError/Code/unroutable``.
    public var mandatory: Bool

    public init(
        exchange: String, routingKey: String, body: Data, properties: AMQPProperties = .init(),
        mandatory: Bool = true
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
        self.mandatory = mandatory
    }
}
