import Foundation
import Logging
import Synchronization

/// A log handler writing one JSON object per line, for log shippers (`DOCSEND_SYNC_LOG_FORMAT=json`):
///
/// ```json
/// {"timestamp":"2026-11-30T02:11:22.123Z","level":"info","label":"docsend-sync.worker","message":"parked",
///  "source":"Jobs","docsend-team":"team_1","docsend-event":"visit.started", …}
/// ```
///
/// `timestamp` (UTC, milliseconds), `level`, `label`, `message` and `source` always; then every metadata key at the
/// top level (the handler's, the metadata provider's, the call's, in that order of precedence, the call's last).
/// A metadata key that would hide one of the five is written as `metadata.KEY`. Nested metadata becomes JSON
/// objects and arrays. Every string is escaped, so a hostile value (a newline, a quote, a control character) can
/// never break a line or forge a key.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let write: @Sendable (String) -> Void

    static let reserved: Set<String> = ["timestamp", "level", "label", "message", "source"]

    /// A handler for `label` writing each line (with its newline) through `write`.
    public init(label: String, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.write = write
    }

    /// A handler for `label` writing to standard error.
    public static func standardError(label: String) -> JSONLogHandler {
        JSONLogHandler(label: label) { line in
            // One write per line, one line at a time: lines of concurrent tasks never interleave.
            standardErrorLock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
        }
    }

    private static let standardErrorLock = Mutex(())

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        var line = "{"
        Self.field("timestamp", .string(Self.timestamp(Date())), into: &line, first: true)
        Self.field("level", .string(event.level.rawValue), into: &line)
        Self.field("label", .string(label), into: &line)
        Self.field("message", .string(event.message.description), into: &line)
        Self.field("source", .string(event.source), into: &line)
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            Self.field(Self.reserved.contains(key) ? "metadata." + key : key, value, into: &line)
        }
        line += "}\n"
        write(line)
    }

    static func field(_ key: String, _ value: Logger.Metadata.Value, into line: inout String, first: Bool = false) {
        if !first { line += "," }
        escape(key, into: &line)
        line += ":"
        append(value, into: &line)
    }

    static func append(_ value: Logger.Metadata.Value, into line: inout String) {
        switch value {
        case .string(let string): escape(string, into: &line)
        case .stringConvertible(let convertible): escape(convertible.description, into: &line)
        case .array(let values):
            line += "["
            for (index, element) in values.enumerated() {
                if index > 0 { line += "," }
                append(element, into: &line)
            }
            line += "]"
        case .dictionary(let values):
            line += "{"
            for (index, (key, element)) in values.sorted(by: { $0.key < $1.key }).enumerated() {
                field(key, element, into: &line, first: index == 0)
            }
            line += "}"
        }
    }

    /// `string` as a JSON string literal: quotes, backslashes and every control character escaped.
    static func escape(_ string: String, into line: inout String) {
        line += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": line += "\\\""
            case "\\": line += "\\\\"
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            case "\u{2028}", "\u{2029}": line += scalar == "\u{2028}" ? "\\u2028" : "\\u2029"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    line += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    line.unicodeScalars.append(scalar)
                }
            }
        }
        line += "\""
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }
}
