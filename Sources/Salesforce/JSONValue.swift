import Foundation

/// Any JSON value: the dynamic representation of records, composite bodies and unknown shapes.
public enum JSONValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let list = try? container.decode([JSONValue].self) {
            self = .array(list)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .number(let number): try container.encode(number)
        case .string(let text): try container.encode(text)
        case .array(let list): try container.encode(list)
        case .object(let object): try container.encode(object)
        }
    }

    /// The member `key` of an object; `nil` otherwise.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// The element at `index` of an array; `nil` otherwise or out of range.
    public subscript(index: Int) -> JSONValue? {
        if case .array(let list) = self, list.indices.contains(index) { return list[index] }
        return nil
    }

    /// The text of a string; `nil` otherwise.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The value of a boolean; `nil` otherwise.
    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    /// The value of a number; `nil` otherwise.
    public var numberValue: Double? {
        if case .number(let number) = self { return number }
        return nil
    }

    /// The elements of an array; `nil` otherwise.
    public var arrayValue: [JSONValue]? {
        if case .array(let list) = self { return list }
        return nil
    }

    /// The members of an object; `nil` otherwise.
    public var objectValue: [String: JSONValue]? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// Whether this is JSON `null`.
    public var isNull: Bool { self == .null }

    public var description: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self), let text = String(data: data, encoding: .utf8) else {
            return "<unencodable JSON>"
        }
        return text
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// Literals build the matching case (integers become numbers).
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

/// A record of any sObject type, as Salesforce sends it: its fields plus `attributes` (`type`, `url`).
///
/// Used for dynamic queries and for sObject Collections, which need each record's type.
public struct SObjectRecord: Sendable, Hashable, Codable {
    /// The sObject type (`attributes.type`), when known.
    public var type: String?
    /// The record's fields, `attributes` excluded.
    public var fields: [String: JSONValue]

    /// A record of `type` with `fields`.
    public init(type: String?, fields: [String: JSONValue]) {
        self.type = type
        self.fields = fields
    }

    /// The value of `field`; `nil` when absent.
    public subscript(field: String) -> JSONValue? {
        get { fields[field] }
        set { fields[field] = newValue }
    }

    /// The record's `Id`, when present.
    public var id: String? { fields["Id"]?.stringValue }

    struct DynamicKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: DynamicKey.self)
        var fields: [String: JSONValue] = [:]
        var type: String?
        for key in container.allKeys {
            let value = try container.decode(JSONValue.self, forKey: key)
            if key.stringValue == "attributes" {
                type = value["type"]?.stringValue
            } else {
                fields[key.stringValue] = value
            }
        }
        self.type = type
        self.fields = fields
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: DynamicKey.self)
        if let type {
            try container.encode(JSONValue.object(["type": .string(type)]), forKey: DynamicKey(stringValue: "attributes"))
        }
        for (name, value) in fields {
            try container.encode(value, forKey: DynamicKey(stringValue: name))
        }
    }
}
