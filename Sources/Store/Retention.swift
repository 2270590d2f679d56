import Foundation

// The values of retention and erasure (schema version 8): what a search for a person's data finds, and how the
// bounded deletes are sized.

/// Identifies a sync state within a team: its kind and object id (the order of ``SyncStore/statesContaining(teamID:text:after:limit:)``).
public struct StateKey: Sendable, Hashable {
    /// The kind of DocSend object.
    public var kind: SyncObjectKind
    /// The DocSend object's id.
    public var objectID: String

    /// Creates a value.
    public init(kind: SyncObjectKind, objectID: String) {
        self.kind = kind
        self.objectID = objectID
    }
}

/// A DocSend object's sync state with its key.
public struct ObjectState: Sendable, Equatable {
    /// The object.
    public var key: StateKey
    /// Its state and version.
    public var record: StateRecord

    /// Creates a value.
    public init(key: StateKey, record: StateRecord) {
        self.key = key
        self.record = record
    }
}

/// A `LIKE` pattern (escape character `\\`) matching any text that contains `text` as a JSON encoder writes it:
/// characters it may escape (`"`, `\\`, `/`, control characters) and non-ASCII characters (which some encoders write
/// as `\\uXXXX`) become `%`, so the pattern may match more than `text`, never less.
func likePattern(containing text: String) -> String {
    var pattern = "%"
    for scalar in text.unicodeScalars {
        switch scalar {
        case "%", "_": pattern += "\\" + String(scalar)
        case "\"", "\\", "/": pattern += "%"
        case _ where !scalar.isASCII || scalar.value < 0x20: pattern += "%"
        default: pattern.unicodeScalars.append(scalar)
        }
    }
    return pattern.hasSuffix("%") ? pattern : pattern + "%"
}

extension Duration {
    /// Whole milliseconds (retention ages).
    var retentionMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }

    /// Seconds, as PostgreSQL's `make_interval(secs => …)` takes them.
    var retentionSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
