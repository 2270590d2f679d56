import Foundation

/// Salesforce record ids: 15 case-sensitive characters (a 3-character key prefix naming the object,
/// then instance and serial characters) plus a 3-character case-safe checksum, 18 in all.
public enum SalesforceID {
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    /// The 3-character suffix that makes a 15-character id case-insensitively unique.
    public static func checksum(_ id15: String) -> String {
        let chars = Array(id15)
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345")
        var suffix = ""
        for chunk in 0..<3 {
            var bits = 0
            for j in 0..<5 {
                let index = chunk * 5 + j
                if index < chars.count, chars[index].isASCII, chars[index].isUppercase { bits |= 1 << j }
            }
            suffix.append(table[bits])
        }
        return suffix
    }

    /// `true` if `value` has the shape of an id: 15 alphanumerics, or 18 with a matching checksum.
    public static func isWellFormed(_ value: String) -> Bool { normalize(value) != nil }

    /// The 18-character form of a 15- or 18-character id; nil if `value` is not id-shaped.
    public static func normalize(_ value: String) -> String? {
        guard value.count == 15 || value.count == 18,
            value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else { return nil }
        let id15 = String(value.prefix(15))
        let suffix = checksum(id15)
        if value.count == 18, value.suffix(3).uppercased() != suffix { return nil }
        return id15 + suffix
    }

    /// The 3-character key prefix (`001` Account, `003` Contact, `00Q` Lead, `005` User, `00T` Task…).
    public static func keyPrefix(_ id: String) -> String { String(id.prefix(3)) }

    /// Builds the id number `serial` for an object with `keyPrefix` (deterministic: the same inputs give
    /// the same id, which keeps seeded orgs stable across runs).
    public static func make(keyPrefix: String, serial: Int) -> String {
        var n = serial
        var digits = [Character]()
        for _ in 0..<9 {
            digits.append(alphabet[n % 62])
            n /= 62
        }
        let id15 = keyPrefix + "5g" + "0" + String(digits.reversed())
        return id15 + checksum(id15)
    }
}

/// Salesforce's datetime text: `2026-11-24T10:00:00.000+0000`.
public enum SalesforceDate {
    static let calendar: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC") ?? TimeZone.current
        return c
    }()

    /// Formats a datetime as Salesforce sends it.
    public static func dateTimeString(_ date: Date) -> String {
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        let ms = (c.nanosecond ?? 0) / 1_000_000
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03d+0000", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0,
            c.minute ?? 0, c.second ?? 0, ms)
    }

    /// Parses `YYYY-MM-DDThh:mm:ss[.SSS](Z|±hh:mm|±hhmm)`.
    public static func parseDateTime(_ text: String) -> Date? {
        let s = Array(text)
        guard s.count >= 19, s[4] == "-", s[7] == "-", s[10] == "T" || s[10] == " ", s[13] == ":", s[16] == ":",
            let y = Int(String(s[0..<4])), let mo = Int(String(s[5..<7])), let d = Int(String(s[8..<10])),
            let h = Int(String(s[11..<13])), let mi = Int(String(s[14..<16])), let se = Int(String(s[17..<19]))
        else { return nil }
        var i = 19
        var ms = 0
        if i < s.count, s[i] == "." {
            i += 1
            let start = i
            while i < s.count, s[i].isNumber { i += 1 }
            let frac = String(s[start..<i])
            guard !frac.isEmpty else { return nil }
            ms = Int((Double("0." + frac) ?? 0) * 1000)
        }
        var offset = 0
        if i < s.count {
            let rest = String(s[i...])
            if rest == "Z" {
                offset = 0
            } else if let sign = rest.first, sign == "+" || sign == "-" {
                let digits = rest.dropFirst().filter { $0 != ":" }
                guard digits.count == 4, let hh = Int(digits.prefix(2)), let mm = Int(digits.suffix(2)) else { return nil }
                offset = (hh * 3600 + mm * 60) * (sign == "-" ? -1 : 1)
            } else {
                return nil
            }
        }
        var comps = DateComponents()
        (comps.year, comps.month, comps.day, comps.hour, comps.minute, comps.second) = (y, mo, d, h, mi, se)
        guard (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, se < 61,
            let base = calendar.date(from: comps)
        else { return nil }
        return base.addingTimeInterval(Double(ms) / 1000 - Double(offset))
    }

    /// `true` for a `YYYY-MM-DD` date.
    public static func isDate(_ text: String) -> Bool {
        let s = Array(text)
        guard s.count == 10, s[4] == "-", s[7] == "-", let mo = Int(String(s[5..<7])), let d = Int(String(s[8..<10])),
            Int(String(s[0..<4])) != nil
        else { return false }
        return (1...12).contains(mo) && (1...31).contains(d)
    }
}
