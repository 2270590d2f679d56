import Foundation
import JSON

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
