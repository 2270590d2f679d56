import Foundation

/// A JSON value as the sandbox stores and sends it. Objects keep their key order, so records come
/// back with `attributes` first and fields in the order asked for, as Salesforce sends them.
public enum JSONValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The string, when this is a string.
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    /// The boolean, when this is a boolean.
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    /// The number, when this is a number.
    public var numberValue: Double? { if case .number(let n) = self { return n } else { return nil } }
    /// The object, when this is an object.
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }
    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    /// `true` for JSON `null`.
    public var isNull: Bool { self == .null }

    /// Member `key` of an object (nil for other values or a missing key).
    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// Compact JSON text.
    public var description: String {
        var out = ""
        Self.write(self, into: &out)
        return out
    }

    /// Compact JSON text as UTF-8 data.
    public var data: Data { Data(description.utf8) }

    /// Parses JSON text.
    public static func parse(_ data: Data) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: Array(data))
        return try parser.parseDocument()
    }

    /// Parses JSON text.
    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Data(text.utf8))
    }

    static func write(_ value: JSONValue, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n):
            if n.isFinite, n == n.rounded(), abs(n) < 1e15 {
                out += String(Int64(n))
            } else if n.isFinite {
                out += "\(n)"
            } else {
                out += "null"
            }
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, into: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (i, key) in object.keys.enumerated() {
                if i > 0 { out += "," }
                writeString(key, into: &out)
                out += ":"
                write(object[key] ?? .null, into: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral
{
    /// Literal conversion.
    public init(stringLiteral value: String) { self = .string(value) }
    /// Literal conversion.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// Literal conversion.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    /// Literal conversion.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// Literal conversion.
    public init(nilLiteral: ()) { self = .null }
    /// Literal conversion.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// Literal conversion.
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
}

extension JSONValue: Codable {
    /// Literal conversion.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? container.decode(Double.self) {
            self = .number(n)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else {
            let o = try container.decode([String: JSONValue].self)
            self = .object(JSONObject(o.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
        }
    }

    /// Encodes as the JSON value it is.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .number(let n): try container.encode(n)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o.dictionary)
        }
    }
}

/// A JSON object that remembers the order its keys were first set in.
public struct JSONObject: Sendable, Equatable, Sequence {
    /// Keys in insertion order.
    public private(set) var keys: [String] = []
    /// Members by key.
    public private(set) var dictionary: [String: JSONValue] = [:]

    /// An empty object.
    public init() {}
    /// An object with these members, in this order (a repeated key keeps its last value).
    public init(_ pairs: [(String, JSONValue)]) {
        for (k, v) in pairs { self[k] = v }
    }

    /// Member `key`; setting nil removes it.
    public subscript(key: String) -> JSONValue? {
        get { dictionary[key] }
        set {
            if let newValue {
                if dictionary.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if dictionary.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// Number of members.
    public var count: Int { keys.count }

    /// Members in key order.
    public func makeIterator() -> some IteratorProtocol<(key: String, value: JSONValue)> {
        keys.compactMap { k in dictionary[k].map { (key: k, value: $0) } }.makeIterator()
    }

    /// Equal members, whatever the key order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool { lhs.dictionary == rhs.dictionary }
}

/// Why JSON text could not be parsed; `message` reads like Salesforce's JSON_PARSER_ERROR text.
public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    /// What was wrong.
    public let message: String
    /// Byte offset of the problem.
    public let offset: Int
    /// Message with position.
    public var description: String { "\(message) at [line:1, column:\(offset + 1)]" }
}

private struct JSONParser {
    let bytes: [UInt8]
    var i = 0
    var depth = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let v = try parseValue()
        skipWhitespace()
        if i != bytes.count { throw fail("Unexpected character ('\(charAt(i))')") }
        return v
    }

    func fail(_ message: String) -> JSONParseError { JSONParseError(message: message, offset: i) }
    func charAt(_ index: Int) -> String {
        index < bytes.count ? String(decoding: [bytes[index]], as: UTF8.self) : "end-of-input"
    }

    mutating func skipWhitespace() {
        while i < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[i]) { i += 1 }
    }

    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard i < bytes.count else { throw fail("Unexpected end-of-input") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return try parseNumber()
        }
    }

    mutating func literal(_ word: String) throws(JSONParseError) {
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else {
            throw fail("Unrecognized token")
        }
        i += w.count
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = i
        while i < bytes.count, "+-0123456789.eE".utf8.contains(bytes[i]) { i += 1 }
        guard i > start, let n = Double(String(decoding: bytes[start..<i], as: UTF8.self)) else {
            throw fail("Unexpected character ('\(charAt(start))')")
        }
        return .number(n)
    }

    mutating func parseString() throws(JSONParseError) -> String {
        i += 1
        var out = [UInt8]()
        while true {
            guard i < bytes.count else { throw fail("Unexpected end-of-input in string") }
            let c = bytes[i]
            i += 1
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") {
                guard i < bytes.count else { throw fail("Unexpected end-of-input in string") }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): out.append(e)
                case UInt8(ascii: "\\"): out.append(e)
                case UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"),
                        bytes[i + 1] == UInt8(ascii: "u")
                    {
                        i += 2
                        let low = try hex4()
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw fail("Unrecognized character escape")
                }
            } else {
                if c < 0x20 { throw fail("Illegal unquoted character in string") }
                out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16)
        else { throw fail("Bad unicode escape") }
        i += 4
        return v
    }

    mutating func parseArray() throws(JSONParseError) -> JSONValue {
        i += 1
        depth += 1
        if depth > 200 { throw fail("Nesting too deep") }
        defer { depth -= 1 }
        var items = [JSONValue]()
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            guard i < bytes.count else { throw fail("Unexpected end-of-input in array") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw fail("Unexpected character ('\(charAt(i))')")
        }
    }

    mutating func parseObject() throws(JSONParseError) -> JSONValue {
        i += 1
        depth += 1
        if depth > 200 { throw fail("Nesting too deep") }
        defer { depth -= 1 }
        var object = JSONObject()
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(object) }
        while true {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
                throw fail("Unexpected character ('\(charAt(i))'): was expecting double-quote to start field name")
            }
            let key = try parseString()
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("Unexpected character ('\(charAt(i))')") }
            i += 1
            skipWhitespace()
            object[key] = try parseValue()
            skipWhitespace()
            guard i < bytes.count else { throw fail("Unexpected end-of-input in object") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(object) }
            throw fail("Unexpected character ('\(charAt(i))')")
        }
    }
}
