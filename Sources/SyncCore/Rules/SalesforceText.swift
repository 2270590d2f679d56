/// Text as Salesforce stores it: lengths, safe cuts and clean-up of attacker-controlled strings.
///
/// Salesforce counts a text field's length in characters as Java does, that is in UTF-16 code units: an emoji
/// outside the Basic Multilingual Plane counts 2. Every cut here measures in UTF-16 code units (the strictest
/// count, never above what Salesforce accepts) and only ever drops whole grapheme clusters, so a cut never
/// splits a surrogate pair, a combining sequence, a flag or a ZWJ emoji.
public enum SalesforceText {
    /// The length Salesforce checks a text value against: its UTF-16 code units.
    public static func length(_ text: String) -> Int { text.utf16.count }

    /// `text` cut to at most `limit` UTF-16 code units, on a grapheme boundary.
    ///
    /// With `ellipsis`, a cut text ends with `…` (counted in the limit). A text that fits is returned unchanged.
    /// A limit of 0 or less gives an empty string.
    public static func cut(_ text: String, to limit: Int, ellipsis: Bool = false) -> String {
        guard limit > 0 else { return "" }
        if text.utf16.count <= limit { return text }
        let marker = ellipsis ? "…" : ""
        let budget = limit - marker.utf16.count
        var result = ""
        var used = 0
        for character in text {
            let size = character.utf16.count
            if used + size > budget { break }
            result.append(character)
            used += size
        }
        return result + marker
    }

    /// `text` on one line: control characters, line and paragraph separators become spaces, runs of whitespace
    /// collapse to one space, and the ends are trimmed.
    ///
    /// Used for every value that goes into a one-line field (Subject, Lead names) or onto one line of a Comments
    /// block, so that a hostile name cannot forge extra lines (`"Deck\nPercent viewed: 100%"`).
    public static func singleLine(_ text: String) -> String {
        var output = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            let category = scalar.properties.generalCategory
            let isBreak =
                category == .control || category == .lineSeparator || category == .paragraphSeparator
                || scalar.properties.isWhitespace
            if isBreak {
                pendingSpace = !output.isEmpty
                continue
            }
            if pendingSpace {
                output.append(" ")
                pendingSpace = false
            }
            output.append(scalar)
        }
        return String(output)
    }

    /// `text` cleaned with ``singleLine(_:)`` then cut to `limit` with an ellipsis.
    public static func singleLine(_ text: String, limit: Int) -> String {
        cut(singleLine(text), to: limit, ellipsis: true)
    }
}
