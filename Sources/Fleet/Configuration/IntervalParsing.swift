import Foundation

/// Intervals as operators write them in configuration and as they appear in queue names:
/// `250ms`, `5s`, `1m`, `10m`, `2h`. One unit per value; whole numbers only.
public enum IntervalFormat {
    /// Parses `text`; `nil` when it is not a positive whole number followed by `ms`, `s`, `m` or `h`.
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(suffix: String, milliseconds: Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            let number = trimmed.dropLast(unit.suffix.count)
            // "5ms" also ends in "s": only accept a suffix when what is left is all digits.
            guard !number.isEmpty, number.allSatisfy(\.isASCII), number.allSatisfy(\.isNumber),
                let value = Int64(number), value > 0
            else { continue }
            let (total, overflow) = value.multipliedReportingOverflow(by: unit.milliseconds)
            return overflow ? nil : .milliseconds(total)
        }
        return nil
    }

    /// The shortest exact form: 600000 ms is `10m`, 90 s is `90s`, 1500 ms is `1500ms`.
    public static func format(_ duration: Duration) -> String {
        let milliseconds = wholeMilliseconds(duration)
        if milliseconds % 3_600_000 == 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }

    public static func wholeMilliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
