import Foundation
import JSON

/// One value of a Salesforce record's field, ready for the REST client to JSON-encode.
///
/// A rendered record is a plain `[String: FieldValue]` keyed by field API name. Dates encode as
/// `yyyy-MM-dd` strings, `null` clears a field.
public enum FieldValue: Sendable, Hashable, Encodable, CustomStringConvertible {
    /// A text, picklist, URL or id value.
    case string(String)
    /// A number (`double`, `int`, `percent` fields).
    case number(Double)
    /// A checkbox.
    case bool(Bool)
    /// A date-only value (`ActivityDate`).
    case date(SalesforceDate)
    /// Clears the field.
    case null

    /// The string, if this is a string value.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The number, if this is a number value.
    public var numberValue: Double? {
        if case .number(let number) = self { return number }
        return nil
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let text): try container.encode(text)
        case .number(let number): try container.encode(number)
        case .bool(let flag): try container.encode(flag)
        case .date(let date): try container.encode(date.description)
        case .null: try container.encodeNil()
        }
    }

    public var description: String {
        switch self {
        case .string(let text): "\"\(text)\""
        case .number(let number): JSONValue.format(number: number)
        case .bool(let flag): String(flag)
        case .date(let date): date.description
        case .null: "null"
        }
    }
}

/// A calendar date without time, as Salesforce's `date` fields hold it (`2026-11-24`).
public struct SalesforceDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The year, e.g. 2026.
    public var year: Int
    /// The month, 1…12.
    public var month: Int
    /// The day of the month, 1…31.
    public var day: Int

    /// A date from its parts (not checked).
    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The calendar day `instant` falls on in `timeZone` (UTC by default).
    public init(_ instant: Date, timeZone: TimeZone = .gmt) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        self.init(year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1)
    }

    /// `yyyy-MM-dd`.
    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (lhs: SalesforceDate, rhs: SalesforceDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), (1...31).contains(day)
        else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "expected yyyy-MM-dd, found \(quoted(text))"))
        }
        self.init(year: year, month: month, day: day)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
