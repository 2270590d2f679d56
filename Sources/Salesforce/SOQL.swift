import Foundation

/// A SOQL query built from values, never from concatenated text.
///
/// Every literal is escaped when rendered and every field and object name must be an identifier, so no
/// input (a visitor's email, say) can change what the query means:
///
/// ```swift
/// let query = SOQL.select(["Id", "Email", "LastModifiedDate"], from: "Contact")
///     .where(.equals("Email", .string(email)) && .equals("IsConverted", .bool(false)))
///     .orderBy("LastModifiedDate", .descending)
///     .limit(1)
/// let text = try query.render()
/// ```
///
/// Building never fails; ``render()`` validates and throws a ``SalesforceError`` with code
/// ``SalesforceError/Code/invalidArgument`` (classified permanent) for a bad identifier or value.
public struct SOQL: Sendable, Hashable {
    /// A literal value.
    public enum Value: Sendable, Hashable {
        /// A string literal: quoted and escaped.
        case string(String)
        case bool(Bool)
        case int(Int)
        /// A decimal number, rendered without exponent.
        case decimal(Decimal)
        /// A date field value, rendered `YYYY-MM-DD` in UTC.
        case date(Date)
        /// A datetime field value, rendered `YYYY-MM-DDThh:mm:ssZ` in UTC.
        case dateTime(Date)
        case null
    }

    /// A `WHERE` condition. Compose with `&&`, `||` and `!`; compositions are always parenthesised.
    public indirect enum Condition: Sendable, Hashable {
        case equals(String, Value)
        case notEquals(String, Value)
        case lessThan(String, Value)
        case lessThanOrEqual(String, Value)
        case greaterThan(String, Value)
        case greaterThanOrEqual(String, Value)
        /// `field IN (…)`; an empty list is refused at render time.
        case `in`(String, [Value])
        /// `field NOT IN (…)`; an empty list is refused at render time.
        case notIn(String, [Value])
        /// `field LIKE '…'`; see ``LikePattern``.
        case like(String, LikePattern)
        case and(Condition, Condition)
        case or(Condition, Condition)
        case not(Condition)

        /// Both conditions.
        public static func && (lhs: Condition, rhs: Condition) -> Condition { .and(lhs, rhs) }
        /// Either condition.
        public static func || (lhs: Condition, rhs: Condition) -> Condition { .or(lhs, rhs) }
        /// The negation.
        public static prefix func ! (condition: Condition) -> Condition { .not(condition) }
    }

    /// A `LIKE` pattern whose text parts are literal: `%` and `_` in them are escaped, so they only match
    /// themselves; the pattern's own wildcards come from the case.
    public enum LikePattern: Sendable, Hashable {
        case startsWith(String)
        case endsWith(String)
        case contains(String)
        /// Exact match through LIKE (case-insensitive, like `=` on text).
        case exactly(String)
    }

    /// Sort direction.
    public enum Direction: String, Sendable, Hashable {
        case ascending = "ASC"
        case descending = "DESC"
    }

    /// Where nulls sort.
    public enum Nulls: String, Sendable, Hashable {
        case first = "NULLS FIRST"
        case last = "NULLS LAST"
    }

    struct Ordering: Sendable, Hashable {
        var field: String
        var direction: Direction
        var nulls: Nulls?
    }

    var fields: [String]
    var object: String
    var condition: Condition?
    var orderings: [Ordering] = []
    var limitValue: Int?
    var offsetValue: Int?

    /// `SELECT fields FROM object`.
    public static func select(_ fields: [String], from object: String) -> SOQL {
        SOQL(fields: fields, object: object)
    }

    /// Adds a `WHERE` clause; a second call combines both with `AND`.
    public func `where`(_ condition: Condition) -> SOQL {
        var copy = self
        copy.condition = self.condition.map { .and($0, condition) } ?? condition
        return copy
    }

    /// Appends an `ORDER BY` key.
    public func orderBy(_ field: String, _ direction: Direction = .ascending, nulls: Nulls? = nil) -> SOQL {
        var copy = self
        copy.orderings.append(Ordering(field: field, direction: direction, nulls: nulls))
        return copy
    }

    /// `LIMIT n` (n ≥ 0).
    public func limit(_ count: Int) -> SOQL {
        var copy = self
        copy.limitValue = count
        return copy
    }

    /// `OFFSET n` (0 ≤ n ≤ 2000, Salesforce's maximum).
    public func offset(_ count: Int) -> SOQL {
        var copy = self
        copy.offsetValue = count
        return copy
    }

    /// The query text, ready to send. Throws for an invalid identifier, an empty `IN` list, a
    /// non-finite number or an out-of-range limit/offset.
    public func render() throws(SalesforceError) -> String {
        guard !fields.isEmpty else { throw .invalidArgument("SOQL: SELECT needs at least one field") }
        var text = "SELECT "
        text += try fields.map { name throws(SalesforceError) in try Self.identifier(name) }.joined(separator: ", ")
        text += " FROM " + (try Self.identifier(object, allowDots: false))
        if let condition {
            text += " WHERE " + (try Self.render(condition))
        }
        if !orderings.isEmpty {
            let keys = try orderings.map { ordering throws(SalesforceError) in
                var key = try Self.identifier(ordering.field) + " " + ordering.direction.rawValue
                if let nulls = ordering.nulls { key += " " + nulls.rawValue }
                return key
            }
            text += " ORDER BY " + keys.joined(separator: ", ")
        }
        if let limitValue {
            guard limitValue >= 0 else { throw .invalidArgument("SOQL: LIMIT must not be negative") }
            text += " LIMIT \(limitValue)"
        }
        if let offsetValue {
            guard (0...2000).contains(offsetValue) else { throw .invalidArgument("SOQL: OFFSET must be 0…2000") }
            text += " OFFSET \(offsetValue)"
        }
        return text
    }

    // MARK: Rendering pieces

    static func render(_ condition: Condition) throws(SalesforceError) -> String {
        switch condition {
        case .equals(let field, let value): return try comparison(field, "=", value)
        case .notEquals(let field, let value): return try comparison(field, "!=", value)
        case .lessThan(let field, let value): return try comparison(field, "<", value)
        case .lessThanOrEqual(let field, let value): return try comparison(field, "<=", value)
        case .greaterThan(let field, let value): return try comparison(field, ">", value)
        case .greaterThanOrEqual(let field, let value): return try comparison(field, ">=", value)
        case .in(let field, let values): return try membership(field, "IN", values)
        case .notIn(let field, let values): return try membership(field, "NOT IN", values)
        case .like(let field, let pattern):
            let literal: String
            switch pattern {
            case .startsWith(let text): literal = escapeLike(text) + "%"
            case .endsWith(let text): literal = "%" + escapeLike(text)
            case .contains(let text): literal = "%" + escapeLike(text) + "%"
            case .exactly(let text): literal = escapeLike(text)
            }
            return try identifier(field) + " LIKE '" + literal + "'"
        case .and(let lhs, let rhs): return "(" + (try render(lhs)) + " AND " + (try render(rhs)) + ")"
        case .or(let lhs, let rhs): return "(" + (try render(lhs)) + " OR " + (try render(rhs)) + ")"
        case .not(let inner): return "(NOT " + (try render(inner)) + ")"
        }
    }

    static func comparison(_ field: String, _ op: String, _ value: Value) throws(SalesforceError) -> String {
        try identifier(field) + " " + op + " " + literal(value)
    }

    static func membership(_ field: String, _ op: String, _ values: [Value]) throws(SalesforceError) -> String {
        guard !values.isEmpty else { throw .invalidArgument("SOQL: \(op) needs at least one value") }
        let list = try values.map { value throws(SalesforceError) in try literal(value) }
        return try identifier(field) + " " + op + " (" + list.joined(separator: ", ") + ")"
    }

    /// Renders one literal.
    public static func literal(_ value: Value) throws(SalesforceError) -> String {
        switch value {
        case .string(let text): return "'" + escape(text) + "'"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .decimal(let number):
            guard number.isFinite else { throw .invalidArgument("SOQL: a number literal must be finite") }
            return number.description
        case .date(let date): return format(date, withTime: false)
        case .dateTime(let date): return format(date, withTime: true)
        case .null: return "null"
        }
    }

    /// Escapes text for the inside of a quoted SOQL string literal: `\` → `\\`, `'` → `\'`, `"` → `\"`,
    /// newline → `\n`, carriage return → `\r`, tab → `\t`, backspace → `\b`, form feed → `\f`, any other
    /// control character → `\uXXXX`. Everything else, Unicode included, is kept as is.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\u" + String(format: "%04X", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// ``escape(_:)`` plus `%` → `\%` and `_` → `\_`, valid only inside `LIKE`.
    static func escapeLike(_ text: String) -> String {
        var out = ""
        for character in escape(text) {
            switch character {
            case "%": out += "\\%"
            case "_": out += "\\_"
            default: out.append(character)
            }
        }
        return out
    }

    static let reservedWords: Set<String> = [
        "AND", "ASC", "DESC", "EXCLUDES", "FIRST", "FROM", "GROUP", "HAVING", "IN", "INCLUDES", "LAST", "LIKE",
        "LIMIT", "NOT", "NULL", "NULLS", "OR", "SELECT", "WHERE", "WITH", "ORDER", "BY", "OFFSET", "TRUE", "FALSE",
        "USING", "SCOPE", "TYPEOF", "WHEN", "THEN", "ELSE", "END", "FOR", "UPDATE", "VIEW", "REFERENCE",
        "TRACKING", "VIEWSTAT", "ROLLUP", "CUBE", "FORMAT", "ABOVE", "BELOW", "AT", "ABOVE_OR_BELOW", "DATA",
        "CATEGORY", "GROUPING", "CONVERTCURRENCY", "TOLABEL",
    ]

    /// Validates a field (`Email`, `Account.Name`, `ns__Field__c`) or object name: ASCII letters, digits
    /// and underscores, starting with a letter, dots between parts for fields, no reserved word.
    public static func identifier(_ name: String, allowDots: Bool = true) throws(SalesforceError) -> String {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !parts.isEmpty, allowDots || parts.count == 1 else {
            throw .invalidArgument("SOQL: invalid identifier")
        }
        for part in parts {
            guard let first = part.unicodeScalars.first, first.isASCIILetter,
                part.unicodeScalars.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" }),
                part.count <= 255,
                !reservedWords.contains(part.uppercased())
            else {
                // The offending text is not echoed: it may be visitor input.
                throw .invalidArgument("SOQL: invalid identifier")
            }
        }
        return name
    }

    private static func format(_ date: Date, withTime: Bool) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = String(
            format: "%04d-%02d-%02d", parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1)
        guard withTime else { return day }
        return day + String(format: "T%02d:%02d:%02dZ", parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
    }
}

extension SOQL: CustomStringConvertible {
    /// The rendered query, or a marker when it does not render. Contains literals: do not log it above debug.
    public var description: String { (try? render()) ?? "<invalid SOQL>" }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
