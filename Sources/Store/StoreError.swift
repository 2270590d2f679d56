/// The one error type of the store: a code to branch on and a message an operator can act on.
///
/// Codes follow the extensible-enum pattern, so that new codes do not break exhaustive switches downstream.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, to branch on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum _Code: Hashable, Sendable {
            case invalidConfiguration, invalidEncryptionKey, decryptionFailed, versionConflict
            case invalidData, migrationFailed, backend, closed, timedOut
        }

        private let code: _Code
        private init(_ code: _Code) { self.code = code }

        /// The store URL or an option is malformed or names an unsupported backend.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The configured encryption key is not 32 bytes of base64.
        public static let invalidEncryptionKey = Code(.invalidEncryptionKey)
        /// A stored secret does not decrypt with the configured key (usually: the key changed).
        public static let decryptionFailed = Code(.decryptionFailed)
        /// An optimistic write lost: someone else saved a newer version first. Reload and retry.
        public static let versionConflict = Code(.versionConflict)
        /// A value read from or written to the database is not what the store expects (for example, invalid JSON).
        public static let invalidData = Code(.invalidData)
        /// A schema migration failed; the database was left at the previous version.
        public static let migrationFailed = Code(.migrationFailed)
        /// The database reported an error (connection lost, disk full, lock timeout, ...).
        public static let backend = Code(.backend)
        /// The store was used after ``SyncStore/close()``.
        public static let closed = Code(.closed)
        /// The database did not answer within the store's time limit (`store.timeout`). The operation may still
        /// complete later: every write the workers make is idempotent or a compare-and-swap, so retrying is safe.
        public static let timedOut = Code(.timedOut)

        public var description: String {
            switch self.code {
            case .invalidConfiguration: "invalid configuration"
            case .invalidEncryptionKey: "invalid encryption key"
            case .decryptionFailed: "decryption failed"
            case .versionConflict: "version conflict"
            case .invalidData: "invalid data"
            case .migrationFailed: "migration failed"
            case .backend: "database error"
            case .closed: "store closed"
            case .timedOut: "timed out"
            }
        }
    }

    /// What went wrong.
    public var code: Code
    /// A human-readable explanation; never contains secrets.
    public var message: String
    /// The error reported by the database driver, when there was one.
    public var underlying: (any Error)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        // The driver's plain description: its debug description may carry query parameters (emails, reasons).
        if let underlying {
            return "StoreError(\(self.code)): \(self.message) (\(underlying))"
        }
        return "StoreError(\(self.code)): \(self.message)"
    }
}
