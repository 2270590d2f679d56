import Foundation

/// A parsed SOQL query: the subset the project needs (field lists, `COUNT()`, `WHERE` with
/// comparisons / `IN` / `LIKE` / `AND` / `OR` / `NOT` / parentheses, `ORDER BY`, `LIMIT`, `OFFSET`).
public struct SOQLQuery: Sendable {
    /// The object queried, canonical name.
    public var object: String
    /// Selected fields, canonical names, in `SELECT` order (empty for `COUNT()`).
    public var fields: [String]
    /// `true` for `SELECT COUNT() …`.
    public var isCount: Bool
    var condition: SOQLCondition?
    var orderBy: [SOQLOrder]
    /// `LIMIT n`, if given.
    public var limit: Int?
    /// `OFFSET n`, if given.
    public var offset: Int?
}

enum SOQLLiteral: Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case date(String)
    case dateTime(Date)
}

enum LikeUnit: Sendable, Equatable {
    case char(Character)
    case anyRun
    case anyOne
}

indirect enum SOQLCondition: Sendable {
    case and([SOQLCondition])
    case or([SOQLCondition])
    case not(SOQLCondition)
    case compare(FieldDescription, String, SOQLLiteral)
    case inList(FieldDescription, [SOQLLiteral], negated: Bool)
    case like(FieldDescription, [LikeUnit])
}

struct SOQLOrder: Sendable {
    var field: FieldDescription
    var descending: Bool
    var nullsLast: Bool
}

private struct Token {
    enum Kind { case word, string, number, symbol, dateLiteral, end }
    var kind: Kind
    var text: String
    var offset: Int
    func isWord(_ w: String) -> Bool { kind == .word && text.caseInsensitiveCompare(w) == .orderedSame }
}

/// Parses SOQL against the org's schemas, producing Salesforce's errors (MALFORMED_QUERY, INVALID_FIELD,
/// INVALID_TYPE) with its `ERROR at Row:1:Column:N` messages.
struct SOQLParser {
    let text: String
    let schemaLookup: (String) -> ObjectSchema?
    private var tokens: [Token] = []
    private var p = 0
    private var schema: ObjectSchema?

    init(_ text: String, schemaLookup: @escaping (String) -> ObjectSchema?) {
        self.text = text
        self.schemaLookup = schemaLookup
    }

    private func error(_ code: String, _ detail: String, at offset: Int) -> SalesforceError {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        let caret = String(repeating: " ", count: max(0, offset)) + "^"
        return SalesforceError(status: 400, code, "\n\(line)\n\(caret)\nERROR at Row:1:Column:\(offset + 1)\n\(detail)")
    }

    private func malformed(_ token: Token) -> SalesforceError {
        error("MALFORMED_QUERY", token.kind == .end ? "unexpected token: <EOF>" : "unexpected token: \(token.text)", at: token.offset)
    }

    mutating func parse() throws(SalesforceError) -> SOQLQuery {
        try tokenize()
        try expectWord("SELECT")
        var selected: [Token] = []
        var isCount = false
        if peek.isWord("COUNT"), p + 1 < tokens.count, tokens[p + 1].text == "(" {
            p += 2
            try expectSymbol(")")
            isCount = true
        } else {
            repeat {
                let t = next()
                guard t.kind == .word, !t.isWord("FROM") else { throw malformed(t) }
                selected.append(t)
            } while acceptSymbol(",")
        }
        try expectWord("FROM")
        let objectToken = next()
        guard objectToken.kind == .word else { throw malformed(objectToken) }
        guard let schema = schemaLookup(objectToken.text) else {
            throw error(
                "INVALID_TYPE",
                "sObject type '\(objectToken.text)' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
                at: objectToken.offset)
        }
        self.schema = schema
        var fields: [String] = []
        for t in selected {
            let f = try resolveField(t)
            if fields.contains(f.name) {
                throw error("MALFORMED_QUERY", "duplicate field selected: \(f.name)", at: t.offset)
            }
            fields.append(f.name)
        }
        var condition: SOQLCondition?
        if acceptWord("WHERE") { condition = try parseCondition() }
        var orderBy: [SOQLOrder] = []
        if acceptWord("ORDER") {
            try expectWord("BY")
            repeat {
                let t = next()
                guard t.kind == .word else { throw malformed(t) }
                let f = try resolveField(t)
                var descending = false
                if acceptWord("DESC") { descending = true } else { _ = acceptWord("ASC") }
                var nullsLast = descending
                if acceptWord("NULLS") {
                    if acceptWord("LAST") { nullsLast = true } else { try expectWord("FIRST"); nullsLast = false }
                }
                orderBy.append(SOQLOrder(field: f, descending: descending, nullsLast: nullsLast))
            } while acceptSymbol(",")
        }
        var limit: Int?
        var offset: Int?
        if acceptWord("LIMIT") { limit = try parseCount() }
        if acceptWord("OFFSET") {
            offset = try parseCount()
            if let o = offset, o > 2000 {
                throw error("NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000", at: tokens[p - 1].offset)
            }
        }
        if peek.kind != .end { throw malformed(peek) }
        return SOQLQuery(object: schema.name, fields: fields, isCount: isCount, condition: condition, orderBy: orderBy, limit: limit, offset: offset)
    }

    private mutating func parseCount() throws(SalesforceError) -> Int {
        let t = next()
        guard t.kind == .number, let n = Int(t.text), n >= 0 else { throw malformed(t) }
        return n
    }

    private func resolveField(_ t: Token) throws(SalesforceError) -> FieldDescription {
        guard let schema else { throw malformed(t) }
        if t.text.contains(".") {
            let rel = t.text.split(separator: ".").first.map(String.init) ?? t.text
            throw error(
                "INVALID_FIELD",
                "Didn't understand relationship '\(rel)' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.",
                at: t.offset)
        }
        guard let f = schema.field(t.text) else {
            throw error(
                "INVALID_FIELD",
                "No such column '\(t.text)' on entity '\(schema.name)'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                at: t.offset)
        }
        return f
    }

    // MARK: Conditions

    private mutating func parseCondition() throws(SalesforceError) -> SOQLCondition {
        let first = try parseUnary()
        var items = [first]
        var connective: String?
        while peek.isWord("AND") || peek.isWord("OR") {
            let t = next()
            let word = t.text.uppercased()
            // Salesforce refuses AND and OR mixed at one level without parentheses.
            if let connective, connective != word { throw malformed(t) }
            connective = word
            items.append(try parseUnary())
        }
        guard let connective else { return first }
        return connective == "AND" ? .and(items) : .or(items)
    }

    private mutating func parseUnary() throws(SalesforceError) -> SOQLCondition {
        if acceptWord("NOT") { return .not(try parseUnary()) }
        if acceptSymbol("(") {
            let c = try parseCondition()
            try expectSymbol(")")
            return c
        }
        let ft = next()
        guard ft.kind == .word, !isKeyword(ft) else { throw malformed(ft) }
        let field = try resolveField(ft)
        if acceptWord("NOT") {
            try expectWord("IN")
            return .inList(field, try parseList(field: field), negated: true)
        }
        if acceptWord("IN") { return .inList(field, try parseList(field: field), negated: false) }
        if acceptWord("LIKE") {
            let t = next()
            guard t.kind == .string else { throw malformed(t) }
            guard field.type.isText else {
                throw error("INVALID_QUERY_FILTER_OPERATOR", "invalid operator on \(field.type.rawValue) field: LIKE", at: t.offset)
            }
            return .like(field, try decodeString(t, like: true))
        }
        let op = next()
        guard op.kind == .symbol, ["=", "!=", "<>", "<", "<=", ">", ">="].contains(op.text) else { throw malformed(op) }
        let value = try parseLiteral(field: field)
        return .compare(field, op.text == "<>" ? "!=" : op.text, value)
    }

    private mutating func parseList(field: FieldDescription) throws(SalesforceError) -> [SOQLLiteral] {
        try expectSymbol("(")
        var values: [SOQLLiteral] = []
        repeat { values.append(try parseLiteral(field: field)) } while acceptSymbol(",")
        try expectSymbol(")")
        return values
    }

    private mutating func parseLiteral(field: FieldDescription) throws(SalesforceError) -> SOQLLiteral {
        let t = next()
        func typeError(_ expected: String, quoted: Bool) -> SalesforceError {
            error(
                "INVALID_QUERY_FILTER_OPERATOR",
                "value of filter criterion for field '\(field.name)' must be of type \(expected) and should \(quoted ? "" : "not ")be enclosed in quotes",
                at: t.offset)
        }
        if t.isWord("null") { return .null }
        switch field.type {
        case .boolean:
            if t.isWord("true") { return .bool(true) }
            if t.isWord("false") { return .bool(false) }
            throw t.kind == .end ? malformed(t) : typeError("boolean", quoted: false)
        case .double, .int:
            guard t.kind == .number, let n = Double(t.text) else { throw t.kind == .end ? malformed(t) : typeError("double", quoted: false) }
            return .number(n)
        case .date:
            guard t.kind == .dateLiteral, SalesforceDate.isDate(t.text) else { throw t.kind == .end ? malformed(t) : typeError("date", quoted: false) }
            return .date(t.text)
        case .datetime:
            guard t.kind == .dateLiteral, let d = SalesforceDate.parseDateTime(t.text) else {
                throw t.kind == .end ? malformed(t) : typeError("dateTime", quoted: false)
            }
            return .dateTime(d)
        default:
            guard t.kind == .string else { throw t.kind == .end ? malformed(t) : typeError("string", quoted: true) }
            let units = try decodeString(t, like: false)
            var s = ""
            for u in units { if case .char(let c) = u { s.append(c) } }
            return .string(s)
        }
    }

    /// Decodes a string literal's escapes: `\' \" \\ \n \r \t \b \f \uXXXX`; `\%` `\_` only in LIKE.
    private func decodeString(_ t: Token, like: Bool) throws(SalesforceError) -> [LikeUnit] {
        var out: [LikeUnit] = []
        var chars = Array(t.text)[...]
        func illegal(_ seq: String) -> SalesforceError {
            error("MALFORMED_QUERY", "Invalid string literal '\(t.text)'. Illegal character sequence '\(seq)' in string literal.", at: t.offset)
        }
        while let c = chars.popFirst() {
            if c == "\\" {
                guard let e = chars.popFirst() else { throw illegal("\\") }
                switch e {
                case "'", "\"", "\\": out.append(.char(e))
                case "n": out.append(.char("\n"))
                case "r": out.append(.char("\r"))
                case "t": out.append(.char("\t"))
                case "b": out.append(.char("\u{08}"))
                case "f": out.append(.char("\u{0C}"))
                case "u":
                    let hex = String(chars.prefix(4))
                    guard hex.count == 4, let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else { throw illegal("\\u\(hex)") }
                    chars = chars.dropFirst(4)
                    out.append(.char(Character(scalar)))
                case "%", "_":
                    guard like else { throw illegal("\\\(e)") }
                    out.append(.char(e))
                default: throw illegal("\\\(e)")
                }
            } else if like && c == "%" {
                out.append(.anyRun)
            } else if like && c == "_" {
                out.append(.anyOne)
            } else {
                out.append(.char(c))
            }
        }
        return out
    }

    // MARK: Tokens

    private var peek: Token { tokens[min(p, tokens.count - 1)] }
    private mutating func next() -> Token {
        let t = peek
        if p < tokens.count - 1 { p += 1 }
        return t
    }
    private mutating func acceptWord(_ w: String) -> Bool {
        if peek.isWord(w) { p += 1; return true }
        return false
    }
    private mutating func acceptSymbol(_ s: String) -> Bool {
        if peek.kind == .symbol && peek.text == s { p += 1; return true }
        return false
    }
    private mutating func expectWord(_ w: String) throws(SalesforceError) {
        guard acceptWord(w) else { throw malformed(peek) }
    }
    private mutating func expectSymbol(_ s: String) throws(SalesforceError) {
        guard acceptSymbol(s) else { throw malformed(peek) }
    }
    private func isKeyword(_ t: Token) -> Bool {
        ["AND", "OR", "NOT", "FROM", "WHERE", "ORDER", "LIMIT", "OFFSET", "SELECT"].contains(t.text.uppercased())
    }

    private mutating func tokenize() throws(SalesforceError) {
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { i += 1; continue }
            let start = i
            if c == "'" {
                i += 1
                var raw = ""
                var closed = false
                while i < chars.count {
                    if chars[i] == "\\", i + 1 < chars.count {
                        raw.append(chars[i]); raw.append(chars[i + 1]); i += 2; continue
                    }
                    if chars[i] == "'" { closed = true; i += 1; break }
                    raw.append(chars[i]); i += 1
                }
                guard closed else { throw error("MALFORMED_QUERY", "line 1:\(start) mismatched character '<EOF>' expecting '''", at: start) }
                tokens.append(Token(kind: .string, text: raw, offset: start))
            } else if c.isNumber || (c == "-" && i + 1 < chars.count && chars[i + 1].isNumber) {
                i += 1
                while i < chars.count, chars[i].isNumber || chars[i] == "." { i += 1 }
                if i < chars.count, chars[i] == "-", i - start == 4 {
                    while i < chars.count, chars[i].isNumber || "-:T.Z+".contains(chars[i]) { i += 1 }
                    tokens.append(Token(kind: .dateLiteral, text: String(chars[start..<i]), offset: start))
                } else {
                    tokens.append(Token(kind: .number, text: String(chars[start..<i]), offset: start))
                }
            } else if c.isLetter || c == "_" {
                while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == "." { i += 1 }
                tokens.append(Token(kind: .word, text: String(chars[start..<i]), offset: start))
            } else if "(),".contains(c) || c == "=" {
                i += 1
                tokens.append(Token(kind: .symbol, text: String(c), offset: start))
            } else if c == "!" || c == "<" || c == ">" {
                i += 1
                if i < chars.count, chars[i] == "=" || (c == "<" && chars[i] == ">") { i += 1 }
                let s = String(chars[start..<i])
                guard s != "!" else { throw error("MALFORMED_QUERY", "unexpected token: !", at: start) }
                tokens.append(Token(kind: .symbol, text: s, offset: start))
            } else {
                throw error("MALFORMED_QUERY", "line 1:\(start) no viable alternative at character '\(c)'", at: start)
            }
        }
        tokens.append(Token(kind: .end, text: "", offset: chars.count))
    }
}
