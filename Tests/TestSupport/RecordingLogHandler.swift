import Logging
import Synchronization

/// A log handler that keeps every record, for tests of what a library logs (level, message, metadata keys).
public struct RecordingLogHandler: LogHandler {
    public struct Record: Sendable {
        public let level: Logger.Level
        public let message: String
        public let metadata: Logger.Metadata
    }

    /// The records of every handler made from one ``Recording``.
    public final class Recording: Sendable {
        private let records = Mutex<[Record]>([])
        public init() {}
        public var all: [Record] { records.withLock { $0 } }
        func append(_ record: Record) { records.withLock { $0.append(record) } }

        /// A logger at `trace` that records here.
        public func logger(label: String = "recorded") -> Logger {
            var logger = Logger(label: label, factory: { _ in RecordingLogHandler(recording: self) })
            logger.logLevel = .trace
            return logger
        }
    }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace
    private let recording: Recording

    public init(recording: Recording) { self.recording = recording }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        recording.append(
            Record(level: event.level, message: event.message.description, metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
    }
}
