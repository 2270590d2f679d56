import Foundation

// MARK: Evaluation

extension SOQLQuery {
    /// Parses `text` against the schemas of an org.
    static func parse(_ text: String, schemaLookup: @escaping (String) -> ObjectSchema?) throws(SalesforceError) -> SOQLQuery {
        var parser = SOQLParser(text, schemaLookup: schemaLookup)
        return try parser.parse()
    }

    /// The matching live records, ordered, offset and limited.
    func run(on records: [SandboxRecord], includeDeleted: Bool = false) -> [SandboxRecord] {
        var rows = records.filter { r in (includeDeleted || !r.isDeleted) && (condition.map { c in SOQLEval.matches(c, r) } ?? true) }
        if !orderBy.isEmpty {
            rows = rows.enumerated().sorted { a, b in
                for o in orderBy {
                    let r = SOQLEval.orderCompare(a.element.fields[o.field.name] ?? .null, b.element.fields[o.field.name] ?? .null, o)
                    if r != 0 { return r < 0 }
                }
                return a.offset < b.offset
            }.map { $0.element }
        }
        if let offset { rows = Array(rows.dropFirst(offset)) }
        if let limit { rows = Array(rows.prefix(limit)) }
        return rows
    }
}

enum SOQLEval {
    static func matches(_ c: SOQLCondition, _ r: SandboxRecord) -> Bool {
        switch c {
        case .and(let items): return items.allSatisfy { matches($0, r) }
        case .or(let items): return items.contains { matches($0, r) }
        case .not(let inner): return !matches(inner, r)
        case .compare(let f, let op, let lit): return compare(r.fields[f.name] ?? .null, op, lit, f)
        case .inList(let f, let values, let negated):
            let hit = values.contains { compare(r.fields[f.name] ?? .null, "=", $0, f) }
            return negated ? !hit : hit
        case .like(let f, let pattern):
            guard let s = r.fields[f.name]?.stringValue else { return false }
            return like(Array(s.lowercased()), pattern.map { if case .char(let c) = $0 { return .char(Character(c.lowercased())) } else { return $0 } })
        }
    }

    static func like(_ s: [Character], _ p: [LikeUnit]) -> Bool {
        // Iterative wildcard match with backtracking on the last `%`.
        var si = 0, pi = 0, star = -1, mark = 0
        while si < s.count {
            if pi < p.count, p[pi] == .anyOne || p[pi] == .char(s[si]) {
                si += 1; pi += 1
            } else if pi < p.count, p[pi] == .anyRun {
                star = pi; mark = si; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; si = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == .anyRun { pi += 1 }
        return pi == p.count
    }

    /// -1, 0, 1 comparing a stored value with a literal; nil when not comparable.
    static func order(_ v: JSONValue, _ lit: SOQLLiteral, _ f: FieldDescription) -> Int? {
        switch (v, lit) {
        case (.string(let s), .string(let l)):
            if f.type == .id || f.type == .reference, let a = SalesforceID.normalize(s), let b = SalesforceID.normalize(l) {
                return a == b ? 0 : (a < b ? -1 : 1)
            }
            let a = s.lowercased(), b = l.lowercased()
            return a == b ? 0 : (a < b ? -1 : 1)
        case (.number(let a), .number(let b)): return a == b ? 0 : (a < b ? -1 : 1)
        case (.bool(let a), .bool(let b)): return a == b ? 0 : (!a ? -1 : 1)
        case (.string(let s), .date(let d)): let a = String(s.prefix(10)); return a == d ? 0 : (a < d ? -1 : 1)
        case (.string(let s), .dateTime(let d)):
            guard let a = SalesforceDate.parseDateTime(s) else { return nil }
            return a == d ? 0 : (a < d ? -1 : 1)
        default: return nil
        }
    }

    static func compare(_ v: JSONValue, _ op: String, _ lit: SOQLLiteral, _ f: FieldDescription) -> Bool {
        if lit == .null { return op == "=" ? v == .null : (op == "!=" ? v != .null : false) }
        if v == .null { return op == "!=" }
        guard let o = order(v, lit, f) else { return op == "!=" }
        switch op {
        case "=": return o == 0
        case "!=": return o != 0
        case "<": return o < 0
        case "<=": return o <= 0
        case ">": return o > 0
        case ">=": return o >= 0
        default: return false
        }
    }

    static func orderCompare(_ a: JSONValue, _ b: JSONValue, _ o: SOQLOrder) -> Int {
        switch (a == .null, b == .null) {
        case (true, true): return 0
        case (true, false): return o.nullsLast ? 1 : -1
        case (false, true): return o.nullsLast ? -1 : 1
        default: break
        }
        var r = 0
        switch (a, b) {
        case (.string(let x), .string(let y)):
            let (lx, ly) = (x.lowercased(), y.lowercased())
            r = lx == ly ? 0 : (lx < ly ? -1 : 1)
        case (.number(let x), .number(let y)): r = x == y ? 0 : (x < y ? -1 : 1)
        case (.bool(let x), .bool(let y)): r = x == y ? 0 : (!x ? -1 : 1)
        default: r = 0
        }
        return o.descending ? -r : r
    }
}
