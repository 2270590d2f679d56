/// Why a message body is not a valid event: the offending field by path and a reason an operator can act on.
///
/// The path uses the wire's snake_case names (`data.visitor.email`, `occurred_at`), or `body` for the message
/// as a whole. ``description`` reads `data.percent_viewed: 130 is outside 0…100`; it is the reason a parked
/// message carries. Values quoted in a reason are truncated and escaped, so a hostile body never makes a huge
/// or multi-line reason.
public struct ContractViolation: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of violation, stable enough for metric labels.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case bodyTooLarge = "body_too_large"
            case invalidJSON = "invalid_json"
            case missingKey = "missing_key"
            case wrongType = "wrong_type"
            case invalidValue = "invalid_value"
            case outOfRange = "out_of_range"
            case unknownEventType = "unknown_event_type"
            case unsupportedVersion = "unsupported_version"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The body is larger than ``EventContract/maximumBodySize``.
        public static let bodyTooLarge = Kind(.bodyTooLarge)
        /// The body is not JSON (or not UTF-8), or not a JSON object.
        public static let invalidJSON = Kind(.invalidJSON)
        /// A required key is absent.
        public static let missingKey = Kind(.missingKey)
        /// A value has the wrong JSON type (including `null` for a required key).
        public static let wrongType = Kind(.wrongType)
        /// A value has the right type but is not acceptable (empty id, bad timestamp, control characters, …).
        public static let invalidValue = Kind(.invalidValue)
        /// A number is outside its range.
        public static let outOfRange = Kind(.outOfRange)
        /// `type` is not one of ``EventType``.
        public static let unknownEventType = Kind(.unknownEventType)
        /// `version` is not ``EventContract/version``.
        public static let unsupportedVersion = Kind(.unsupportedVersion)

        /// A snake_case label, e.g. `missing_key`.
        public var description: String { base.rawValue }
    }

    /// The kind of violation.
    public var kind: Kind
    /// The offending field, e.g. `data.visitor.email`, or `body`.
    public var path: String
    /// What is wrong with it, e.g. `expected a string, found a number`.
    public var reason: String

    /// Creates a violation.
    public init(kind: Kind, path: String, reason: String) {
        self.kind = kind
        self.path = path
        self.reason = reason
    }

    /// `path: reason`.
    public var description: String { "\(path): \(reason)" }
}
