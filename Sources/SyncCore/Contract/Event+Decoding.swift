import Foundation
import JSON

extension Event {
    /// Decodes and checks a message body against the contract.
    ///
    /// The size is checked before parsing. Unknown keys are ignored at every level. `null` counts as absent
    /// for optional keys. The first violation found is reported, by field path.
    ///
    /// - Throws: ``ContractViolation`` naming the offending field, e.g.
    ///   `data.visitor.email: expected a string, found a number`.
    public static func decode(from body: Data) throws(ContractViolation) -> Event {
        guard body.count <= EventContract.maximumBodySize else {
            throw ContractViolation(
                kind: .bodyTooLarge, path: "body",
                reason:
                    "\(formatByteCount(body.count)) exceeds the \(formatByteCount(EventContract.maximumBodySize)) limit"
            )
        }
        guard let json = JSONValue.parse(body) else {
            throw ContractViolation(kind: .invalidJSON, path: "body", reason: "not valid JSON")
        }
        return try Event(validating: json)
    }

    /// Checks that this event satisfies the contract, exactly as a consumer will: encodes it and decodes the
    /// result. Producers call this before publishing.
    public func validate() throws(ContractViolation) {
        _ = try Event.decode(from: encoded())
    }

    init(validating json: JSONValue) throws(ContractViolation) {
        guard case .object(let fields) = json else {
            throw ContractViolation(
                kind: .invalidJSON, path: "body", reason: "expected a JSON object, found \(json.kindDescription)")
        }
        let envelope = FieldReader(fields: fields, path: "")
        let id = try envelope.string("id", .identifier)
        let typeString = try envelope.string("type", .text)
        guard let type = EventType(rawValue: typeString) else {
            throw ContractViolation(
                kind: .unknownEventType, path: "type", reason: "unknown event type \(quoted(typeString))")
        }
        let version = try envelope.integer("version")
        guard version == EventContract.version else {
            throw ContractViolation(
                kind: .unsupportedVersion, path: "version",
                reason: "unsupported version \(version) (this consumer understands \(EventContract.version))")
        }
        let occurredAt = try envelope.timestamp("occurred_at")
        let teamID = try envelope.string("team_id", .identifier)
        let data = try envelope.object("data")

        let payload: Payload
        switch type {
        case .visitStarted: payload = .visitStarted(try VisitStarted(data))
        case .visitUpdated: payload = .visitUpdated(try VisitUpdated(data))
        case .linkCreated: payload = .linkCreated(try LinkCreated(data))
        case .spaceLinkCreated: payload = .spaceLinkCreated(try SpaceLinkCreated(data))
        }
        self.init(id: id, occurredAt: occurredAt, teamID: teamID, payload: payload)
    }
}

extension Event: Codable {
    /// Decodes an event with the same checks as ``decode(from:)`` (except the body size); a violation surfaces
    /// as `DecodingError.dataCorrupted` whose underlying error is the ``ContractViolation``.
    public init(from decoder: any Decoder) throws {
        let json = try JSONValue(from: decoder)
        do {
            try self.init(validating: json)
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.description, underlyingError: error))
        }
    }

    /// Encodes the event in its wire form.
    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }
}

// MARK: - Payloads

extension DocumentInfo {
    init(_ reader: FieldReader) throws(ContractViolation) {
        self.init(
            id: try reader.string("id", .identifier),
            name: try reader.string("name", .name),
            url: try reader.string("url", .url))
    }
}

extension AccountInfo {
    init(_ reader: FieldReader) throws(ContractViolation) {
        self.init(
            id: try reader.string("id", .identifier),
            name: try reader.string("name", .name),
            salesforceAccountID: try reader.optionalString("salesforce_account_id", .identifier))
    }
}

extension VisitorInfo {
    init(_ reader: FieldReader) throws(ContractViolation) {
        let email = try reader.optionalString("email", .freeEmail)
        self.init(
            email: email?.isEmpty == true ? nil : email,
            name: try reader.optionalString("name", .name))
    }
}

extension SpaceInfo {
    init(_ reader: FieldReader) throws(ContractViolation) {
        self.init(
            id: try reader.string("id", .identifier),
            name: try reader.string("name", .name),
            url: try reader.string("url", .url))
    }
}

extension VisitStarted {
    init(_ reader: FieldReader) throws(ContractViolation) {
        self.init(
            visitID: try reader.string("visit_id", .identifier),
            linkID: try reader.string("link_id", .identifier),
            linkOwnerEmail: try reader.string("link_owner_email", .email),
            document: try DocumentInfo(reader.object("document")),
            account: try reader.optionalObject("account").map { reader throws(ContractViolation) in
                try AccountInfo(reader)
            },
            visitor: try VisitorInfo(reader.object("visitor")),
            analyticsURL: try reader.string("analytics_url", .url),
            startedAt: try reader.timestamp("started_at"))
    }
}

extension VisitUpdated {
    init(_ reader: FieldReader) throws(ContractViolation) {
        let visitID = try reader.string("visit_id", .identifier)
        let duration = try reader.integer("duration_seconds")
        guard duration >= 0 else {
            throw ContractViolation(
                kind: .outOfRange, path: reader.path("duration_seconds"), reason: "\(duration) is negative")
        }
        let percent = try reader.number("percent_viewed")
        guard (0...100).contains(percent) else {
            throw ContractViolation(
                kind: .outOfRange, path: reader.path("percent_viewed"),
                reason: "\(JSONValue.format(number: percent)) is outside 0…100")
        }
        self.init(
            visitID: visitID, durationSeconds: duration, percentViewed: percent,
            lastActivityAt: try reader.timestamp("last_activity_at"), ended: try reader.bool("ended"))
    }
}

extension LinkCreated {
    init(_ reader: FieldReader) throws(ContractViolation) {
        self.init(
            linkID: try reader.string("link_id", .identifier),
            linkName: try reader.optionalString("link_name", .name),
            creatorEmail: try reader.string("creator_email", .email),
            document: try DocumentInfo(reader.object("document")),
            account: try reader.optionalObject("account").map { reader throws(ContractViolation) in
                try AccountInfo(reader)
            },
            internalURL: try reader.string("internal_url", .url),
            externalURL: try reader.string("external_url", .url),
            createdAt: try reader.timestamp("created_at"))
    }
}

extension SpaceLinkCreated {
    init(_ reader: FieldReader) throws(ContractViolation) {
        self.init(
            spaceLinkID: try reader.string("space_link_id", .identifier),
            creatorEmail: try reader.string("creator_email", .email),
            space: try SpaceInfo(reader.object("space")),
            account: try reader.optionalObject("account").map { reader throws(ContractViolation) in
                try AccountInfo(reader)
            },
            internalURL: try reader.string("internal_url", .url),
            createdAt: try reader.timestamp("created_at"))
    }
}

// MARK: - Reading fields

/// What a string field must look like.
enum StringRule {
    /// Non-empty, at most 255 UTF-8 bytes, no control characters.
    case identifier
    /// A DocSend user's email: non-empty, at most 320 scalars, no control characters (not otherwise checked).
    case email
    /// A visitor's email, typed by the visitor: may be empty, at most 320 scalars, no control characters.
    case freeEmail
    /// Free text: at most 1024 scalars; anything else goes (control characters included).
    case name
    /// An absolute `http` or `https` URL, at most 4096 scalars, no whitespace or control characters.
    case url
    /// Any string (checked by the caller).
    case text
}

/// Reads the fields of one JSON object, naming each violation by its path.
struct FieldReader {
    let fields: [String: JSONValue]
    /// Path of this object (`""` for the envelope, `data`, `data.document`, …).
    let prefix: String

    init(fields: [String: JSONValue], path: String) {
        self.fields = fields
        self.prefix = path
    }

    func path(_ key: String) -> String { prefix.isEmpty ? key : prefix + "." + key }

    /// The value for `key`, or `nil` if absent or `null`.
    private func optionalValue(_ key: String) -> JSONValue? {
        switch fields[key] {
        case .none, .null?: nil
        case let value?: value
        }
    }

    private func requiredValue(_ key: String, expected: String) throws(ContractViolation) -> JSONValue {
        guard let value = fields[key] else {
            throw ContractViolation(kind: .missingKey, path: path(key), reason: "required key is missing")
        }
        if case .null = value {
            throw ContractViolation(kind: .wrongType, path: path(key), reason: "expected \(expected), found null")
        }
        return value
    }

    private func mismatch(_ key: String, expected: String, found: JSONValue) -> ContractViolation {
        ContractViolation(
            kind: .wrongType, path: path(key), reason: "expected \(expected), found \(found.kindDescription)")
    }

    func string(_ key: String, _ rule: StringRule) throws(ContractViolation) -> String {
        let value = try requiredValue(key, expected: "a string")
        return try checkedString(key, value, rule)
    }

    func optionalString(_ key: String, _ rule: StringRule) throws(ContractViolation) -> String? {
        guard let value = optionalValue(key) else { return nil }
        return try checkedString(key, value, rule)
    }

    private func checkedString(_ key: String, _ value: JSONValue, _ rule: StringRule) throws(ContractViolation)
        -> String
    {
        guard case .string(let string) = value else { throw mismatch(key, expected: "a string", found: value) }
        func invalid(_ reason: String) -> ContractViolation {
            ContractViolation(kind: .invalidValue, path: path(key), reason: reason)
        }
        let hasControl = string.unicodeScalars.contains { $0.properties.generalCategory == .control }
        switch rule {
        case .identifier:
            guard !string.isEmpty else { throw invalid("must not be empty") }
            guard string.utf8.count <= EventContract.maximumIdentifierLength else {
                throw invalid(
                    "\(string.utf8.count) bytes exceeds the \(EventContract.maximumIdentifierLength)-byte limit")
            }
            guard !hasControl else { throw invalid("contains control characters") }
        case .email, .freeEmail:
            if rule == .email, string.isEmpty { throw invalid("must not be empty") }
            let length = string.unicodeScalars.count
            guard length <= EventContract.maximumEmailLength else {
                throw invalid("\(length) characters exceeds the \(EventContract.maximumEmailLength)-character limit")
            }
            guard !hasControl else { throw invalid("contains control characters") }
        case .name:
            let length = string.unicodeScalars.count
            guard length <= EventContract.maximumNameLength else {
                throw invalid("\(length) characters exceeds the \(EventContract.maximumNameLength)-character limit")
            }
        case .url:
            let length = string.unicodeScalars.count
            guard length <= EventContract.maximumURLLength else {
                throw invalid("\(length) characters exceeds the \(EventContract.maximumURLLength)-character limit")
            }
            let lowercased = string.lowercased()
            guard lowercased.hasPrefix("https://") || lowercased.hasPrefix("http://"),
                !hasControl, !string.unicodeScalars.contains(where: { $0.properties.isWhitespace })
            else { throw invalid("not an absolute http(s) URL: \(quoted(string))") }
        case .text:
            break
        }
        return string
    }

    func number(_ key: String) throws(ContractViolation) -> Double {
        let value = try requiredValue(key, expected: "a number")
        guard case .number(let number) = value else { throw mismatch(key, expected: "a number", found: value) }
        return number
    }

    func integer(_ key: String) throws(ContractViolation) -> Int {
        let value = try requiredValue(key, expected: "an integer")
        guard case .number(let number) = value else { throw mismatch(key, expected: "an integer", found: value) }
        guard number == number.rounded(), abs(number) < 9_007_199_254_740_992 else {
            throw ContractViolation(
                kind: .wrongType, path: path(key),
                reason: "expected an integer, found \(JSONValue.format(number: number))")
        }
        return Int(number)
    }

    func bool(_ key: String) throws(ContractViolation) -> Bool {
        let value = try requiredValue(key, expected: "a boolean")
        guard case .bool(let bool) = value else { throw mismatch(key, expected: "a boolean", found: value) }
        return bool
    }

    func timestamp(_ key: String) throws(ContractViolation) -> Date {
        let value = try requiredValue(key, expected: "an RFC 3339 timestamp string")
        guard case .string(let string) = value else {
            throw mismatch(key, expected: "an RFC 3339 timestamp string", found: value)
        }
        guard let date = RFC3339.parse(string) else {
            throw ContractViolation(
                kind: .invalidValue, path: path(key), reason: "not an RFC 3339 timestamp: \(quoted(string))")
        }
        return date
    }

    func object(_ key: String) throws(ContractViolation) -> FieldReader {
        let value = try requiredValue(key, expected: "an object")
        guard case .object(let fields) = value else { throw mismatch(key, expected: "an object", found: value) }
        return FieldReader(fields: fields, path: path(key))
    }

    func optionalObject(_ key: String) throws(ContractViolation) -> FieldReader? {
        guard let value = optionalValue(key) else { return nil }
        guard case .object(let fields) = value else { throw mismatch(key, expected: "an object", found: value) }
        return FieldReader(fields: fields, path: path(key))
    }
}

/// A value quoted for a reason: at most 64 scalars, control characters and quotes escaped.
func quoted(_ string: String) -> String {
    let limit = 64
    let scalars = string.unicodeScalars
    let head = String(String.UnicodeScalarView(scalars.prefix(limit)))
    let escaped = JSONValue.string(head).serialized
    return scalars.count > limit ? String(escaped.dropLast()) + "…\"" : escaped
}

/// `300 bytes`, `12.5 KiB`, `2.1 MiB`.
func formatByteCount(_ count: Int) -> String {
    func oneDecimal(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
    if count < 1024 { return "\(count) bytes" }
    if count < 1024 * 1024 { return "\(oneDecimal(Double(count) / 1024)) KiB" }
    return "\(oneDecimal(Double(count) / (1024 * 1024))) MiB"
}
