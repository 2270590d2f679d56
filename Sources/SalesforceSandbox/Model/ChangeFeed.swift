import Foundation

/// The kind of a record write in the change feed.
public enum SandboxChangeOperation: String, Sendable, Codable, Equatable {
    /// `POST sobjects/{type}`, a composite or sObject Collections create.
    case create
    /// `PATCH sobjects/{type}/{id}`, a composite or sObject Collections update.
    case update
    /// An upsert (`PATCH sobjects/{type}/{field}/{value}`) that created the record.
    case upsertCreate = "upsert-create"
    /// An upsert that updated an existing record.
    case upsertUpdate = "upsert-update"
    /// A delete (by id, by external id, or through sObject Collections).
    case delete
}

/// One successful record write through the Salesforce routes, as `GET /_sandbox/changes` lists it.
public struct SandboxChange: Sendable, Codable, Equatable {
    /// 1, 2, 3… in write order (restarts at 1 after a reset).
    public var seq: Int
    /// When it was written, Salesforce datetime format.
    public var at: String
    /// What was done.
    public var operation: SandboxChangeOperation
    /// The object, e.g. `Task`.
    public var sobject: String
    /// The record's 18-character id.
    public var id: String
    /// The record's `Subject`, else its `Name`, else empty (for a delete: as it was).
    public var summary: String

    /// Creates a value.
    public init(seq: Int, at: String, operation: SandboxChangeOperation, sobject: String, id: String, summary: String) {
        self.seq = seq
        self.at = at
        self.operation = operation
        self.sobject = sobject
        self.id = id
        self.summary = summary
    }

    var json: JSONValue {
        .object(JSONObject([
            ("seq", .number(Double(seq))), ("at", .string(at)), ("operation", .string(operation.rawValue)),
            ("sobject", .string(sobject)), ("id", .string(id)), ("summary", .string(summary)),
        ]))
    }
}

/// The writes of the org in order, bounded (the oldest entries go first; `seq` keeps counting).
struct ChangeFeed: Sendable {
    static let capacity = 100_000
    /// Most entries one `GET /_sandbox/changes` answers.
    static let pageSize = 500

    private(set) var entries: [SandboxChange] = []
    private(set) var lastSeq = 0

    mutating func append(_ operation: SandboxChangeOperation, record: SandboxRecord, at date: Date) {
        lastSeq += 1
        let summary = [record["Subject"], record["Name"]].lazy.compactMap { $0?.stringValue }.first { !$0.isEmpty } ?? ""
        entries.append(SandboxChange(
            seq: lastSeq, at: SalesforceDate.dateTimeString(date), operation: operation, sobject: record.type, id: record.id,
            summary: summary))
        if entries.count > Self.capacity { entries.removeFirst(entries.count - Self.capacity) }
    }

    /// Forgets the entries after `seq` (a rolled-back transaction's writes) and continues numbering from it.
    mutating func rollBack(to seq: Int) {
        entries.removeAll { $0.seq > seq }
        lastSeq = min(lastSeq, seq)
    }

    /// Up to `limit` entries with `seq > after`, oldest first, and whether more follow.
    func page(after: Int, limit: Int = pageSize) -> (changes: [SandboxChange], more: Bool) {
        let start = entries.firstIndex { $0.seq > after } ?? entries.endIndex
        let end = min(entries.endIndex, start + limit)
        return (Array(entries[start..<end]), end < entries.endIndex)
    }
}
