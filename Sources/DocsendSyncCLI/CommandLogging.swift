import Logging

/// The one place the commands get their loggers, and the log handler the executable bootstraps.
///
/// Lines about a message carry one key set, in both formats: `docsend-team`, `docsend-message-id`,
/// `docsend-event` (the event type or internal message type), `docsend-queue` and `docsend-role`.
///
/// swift-log is bootstrapped once, by the `docsend-sync` executable before it parses the command line
/// (`LoggingSystem.bootstrap { CommandLogging.handler(label: $0, environment: …) }`); library code, which
/// tests run in-process, never bootstraps it.
public enum CommandLogging {
    /// The environment variable holding the level, a swift-log level name (`trace` … `critical`).
    public static let levelVariable = "DOCSEND_SYNC_LOG_LEVEL"

    /// The level `environment` asks for: DOCSEND_SYNC_LOG_LEVEL, `info` when unset or not a level name.
    public static func level(environment: [String: String]) -> Logger.Level {
        environment[levelVariable].flatMap(Logger.Level.init(rawValue:)) ?? .info
    }

    /// The environment variable holding the format: `text` (the default) or `json` (``JSONLogHandler``).
    public static let formatVariable = "DOCSEND_SYNC_LOG_FORMAT"

    /// The log line formats.
    public enum Format: String, Sendable, CaseIterable {
        /// swift-log's own lines: `TIMESTAMP LEVEL LABEL: KEY=VALUE … [SOURCE] MESSAGE`.
        case text
        /// One JSON object per line (``JSONLogHandler``).
        case json
    }

    /// The format `environment` asks for (DOCSEND_SYNC_LOG_FORMAT), `text` when unset; `nil` when it names none.
    public static func format(environment: [String: String]) -> Format? {
        guard let name = environment[formatVariable], !name.isEmpty else { return .text }
        return Format(rawValue: name)
    }

    /// A handler writing to standard error at the level and in the format of `environment` (text when the format
    /// is not one: the executable says so once at start).
    public static func handler(label: String, environment: [String: String]) -> any LogHandler {
        let level = level(environment: environment)
        switch format(environment: environment) ?? .text {
        case .text:
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        case .json:
            var handler = JSONLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// The logger of a command, labelled `docsend-sync.COMMAND` (e.g. `docsend-sync.worker`).
    static func logger(_ command: String) -> Logger {
        Logger(label: "docsend-sync.\(command)")
    }
}
