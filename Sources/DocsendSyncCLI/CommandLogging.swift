import Logging

/// The one place the commands get their loggers, and the log handler the executable bootstraps.
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

    /// A handler writing to standard error at the level of `environment`.
    public static func handler(label: String, environment: [String: String]) -> any LogHandler {
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level(environment: environment)
        return handler
    }

    /// The logger of a command, labelled `docsend-sync.COMMAND` (e.g. `docsend-sync.worker`).
    static func logger(_ command: String) -> Logger {
        Logger(label: "docsend-sync.\(command)")
    }
}
