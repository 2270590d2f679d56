import Foundation
import Logging
import Salesforce
import SyncCore
import Synchronization

/// One org's Salesforce lookups and Task writes as this process's jobs make them, gathered into few API calls
/// (``Gatherer``): the people of many visits in one `Email IN (…)` query per object, the Accounts of many names in
/// one `Name IN (…)`, and many Tasks in one sObject Collections upsert on their external id (200 a call,
/// `allOrNone` false). Each job gets its own rows and its own record's result: one record's validation error
/// fails that job only.
///
/// People found (or not) are kept for ``lookupLifetime`` (a burst of visits by one person makes one lookup); a
/// Lead this process creates drops its email from that memory at once (``forgetPerson(email:)``).
final class OrgBatches: Sendable {
    /// One Task write: the record with its external id, upserted on `externalIDField`.
    struct TaskWrite: Sendable {
        var externalIDField: String
        var externalID: String
        var record: [String: FieldValue]
    }

    /// The longest IN list sent, in bytes once percent-encoded in the query URL (Salesforce refuses request lines
    /// past 16 KiB).
    static let maxEncodedListLength = 12_000
    /// The `Email` field's length: a longer address matches nobody and is not sent.
    static let maxEmailLength = 80
    /// The `Account.Name` field's length.
    static let maxAccountNameLength = 255

    let client: SalesforceClient
    let lookupLifetime: Duration
    private let logger: Logger
    private let people: Gatherer<String, [SalesforcePerson]>
    private let accounts: Gatherer<String, [SalesforceAccount]>
    private let taskWrites: Gatherer<TaskWrite, SaveResult>
    private let peopleFound: SingleFlightCache<String, Bool, [SalesforcePerson]>

    /// Batches of `client`'s org gathered as ``Gatherer`` does with `window` and `maxWait`, people kept for
    /// `lookupLifetime`.
    init(client: SalesforceClient, window: Duration, maxWait: Duration, lookupLifetime: Duration, logger: Logger) {
        self.client = client
        self.lookupLifetime = lookupLifetime
        self.logger = logger
        peopleFound = SingleFlightCache(lifetime: lookupLifetime)
        let limit = SalesforceClient.maxCollectionRecords
        people = Gatherer(window: window, maxWait: maxWait, limit: limit) { emails in
            await Self.answer(emails) { try await Self.people(emails: $0, client: client, logger: logger) }
        }
        accounts = Gatherer(window: window, maxWait: maxWait, limit: limit) { names in
            await Self.answer(names) { try await Self.accounts(names: $0, client: client, logger: logger) }
        }
        taskWrites = Gatherer(window: window, maxWait: maxWait, limit: limit) { writes in
            await Self.upsert(writes, client: client, logger: logger)
        }
    }

    // MARK: What the jobs ask

    /// Contacts and unconverted Leads whose email is `email`, compared as Salesforce does (ignoring case); `fresh`
    /// asks Salesforce even when the answer is kept (before a write that cannot be repeated, such as a Lead).
    func people(email: String?, fresh: Bool) async throws -> [SalesforcePerson] {
        guard let email = Matching.normalizedEmail(email)?.lowercased() else { return [] }
        guard email.count <= Self.maxEmailLength else { return [] }
        if fresh { return try await people.submit(email) }
        return try await peopleFound.value(email, version: true) { [people] in try await people.submit(email) }
    }

    /// Forgets what was found for `email` (this process just created a Lead for it).
    func forgetPerson(email: String) {
        guard let email = Matching.normalizedEmail(email)?.lowercased() else { return }
        peopleFound.forget { $0 == email }
    }

    /// Accounts named `name` (Salesforce compares names ignoring case).
    func accounts(named name: String) async throws -> [SalesforceAccount] {
        guard !name.isEmpty, name.count <= Self.maxAccountNameLength else { return [] }
        return try await accounts.submit(name.lowercased())
    }

    /// Upserts one Task with the others gathered with it; its own record's result.
    func upsert(_ write: TaskWrite) async throws -> SaveResult { try await taskWrites.submit(write) }

    // MARK: The calls

    /// What one lookup found per key, and the keys Salesforce refused.
    private struct Lookup<Value> {
        var found: [String: [Value]] = [:]
        var failed: [String: any Error] = [:]
    }

    /// Answers each of `keys` from one lookup of the distinct ones.
    private static func answer<Value: Sendable>(
        _ keys: [String], lookup: ([String]) async throws -> Lookup<Value>
    ) async -> [Result<[Value], any Error>] {
        do {
            let result = try await lookup(Array(Set(keys)))
            return keys.map { key in result.failed[key].map { .failure($0) } ?? .success(result.found[key] ?? []) }
        } catch {
            return keys.map { _ in .failure(error) }
        }
    }

    private static func people(emails: [String], client: SalesforceClient, logger: Logger) async throws
        -> Lookup<SalesforcePerson>
    {
        let contacts = try await rows(
            of: "Contact", ["Id", "Email", "AccountId", "LastModifiedDate"], field: "Email", in: emails,
            client: client, logger: logger)
        let leads = try await rows(
            of: "Lead", ["Id", "Email", "IsConverted", "LastModifiedDate"], field: "Email", in: emails,
            and: .equals("IsConverted", .bool(false)), client: client, logger: logger)
        var people = Lookup<SalesforcePerson>()
        people.failed = contacts.failed.merging(leads.failed) { first, _ in first }
        for (rows, kind) in [(contacts.rows, SalesforcePerson.Kind.contact), (leads.rows, .lead)] {
            for row in rows {
                guard let id = row.id, let email = row["Email"]?.stringValue?.lowercased() else { continue }
                people.found[email, default: []].append(
                    SalesforcePerson(
                        kind: kind, id: id, email: row["Email"]?.stringValue,
                        isConverted: row["IsConverted"]?.boolValue ?? false,
                        lastModifiedDate: SalesforceDateTime.parse(row["LastModifiedDate"]?.stringValue) ?? .distantPast,
                        accountID: row["AccountId"]?.stringValue))
            }
        }
        return people
    }

    private static func accounts(names: [String], client: SalesforceClient, logger: Logger) async throws
        -> Lookup<SalesforceAccount>
    {
        let named = try await rows(
            of: "Account", ["Id", "Name", "LastModifiedDate"], field: "Name", in: names,
            client: client, logger: logger)
        var accounts = Lookup<SalesforceAccount>(failed: named.failed)
        for row in named.rows {
            guard let id = row.id, let name = row["Name"]?.stringValue else { continue }
            accounts.found[name.lowercased(), default: []].append(
                SalesforceAccount(
                    id: id, name: name,
                    lastModifiedDate: SalesforceDateTime.parse(row["LastModifiedDate"]?.stringValue) ?? .distantPast))
        }
        return accounts
    }

    /// The `fields` of the `object` rows whose `field` is one of `values`: one query per list that fits a request line. A list
    /// Salesforce refuses as a whole (a value it will not take) is asked again one value at a time, so that one
    /// hostile value fails only its own job (in `failed`); any other failure fails them all (thrown).
    private static func rows(
        of object: String, _ fields: [String], field: String, in values: [String], and condition: SOQL.Condition? = nil,
        client: SalesforceClient, logger: Logger
    ) async throws -> (rows: [SObjectRecord], failed: [String: any Error]) {
        func query(_ list: [String]) async throws -> [SObjectRecord] {
            let match = SOQL.Condition.in(field, list.map { .string($0) })
            let soql = SOQL.select(fields, from: object).where(condition.map { match && $0 } ?? match)
            return try await client.query(soql, logger: logger)
        }
        var rows: [SObjectRecord] = []
        var failed: [String: any Error] = [:]
        for list in chunks(values) {
            do {
                rows += try await query(list)
            } catch let error as SalesforceError where error.classification == .permanent {
                guard list.count > 1 else {
                    failed[list[0]] = error
                    continue
                }
                logger.warning(
                    "Salesforce refused a batched lookup; asking one value at a time",
                    metadata: ["docsend-sobject": "\(object)", "docsend-error": "\(error)"])
                for value in list {
                    do {
                        rows += try await query([value])
                    } catch let error as SalesforceError where error.classification == .permanent {
                        failed[value] = error
                    }
                }
            }
        }
        return (rows, failed)
    }

    /// `values` in lists of at most 200 whose percent-encoded literals fit ``maxEncodedListLength``.
    static func chunks(_ values: [String]) -> [[String]] {
        var chunks: [[String]] = []
        var current: [String] = []
        var length = 0
        for value in values {
            let encoded = value.utf8.reduce(9) { $0 + (isUnreserved($1) ? 1 : 3) }  // quotes and comma: 9 bytes
            if !current.isEmpty,
                current.count >= SalesforceClient.maxCollectionRecords || length + encoded > maxEncodedListLength
            {
                chunks.append(current)
                current = []
                length = 0
            }
            current.append(value)
            length += encoded
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Upserts `writes` by external-id field, 200 a call; a write whose external id is already in the call waits
    /// for the next one (Salesforce fails every record of a repeated external id).
    private static func upsert(_ writes: [TaskWrite], client: SalesforceClient, logger: Logger) async
        -> [Result<SaveResult, any Error>]
    {
        var results = [Result<SaveResult, any Error>?](repeating: nil, count: writes.count)
        var left = Array(writes.indices)
        while !left.isEmpty {
            var round: [Int] = []
            var later: [Int] = []
            var taken = Set<String>()
            for index in left {
                let key = writes[index].externalIDField + "\n" + writes[index].externalID.lowercased()
                if taken.insert(key).inserted { round.append(index) } else { later.append(index) }
            }
            for field in Set(round.map { writes[$0].externalIDField }).sorted() {
                let indices = round.filter { writes[$0].externalIDField == field }
                do {
                    let saved = try await client.upsertRecords(
                        "Task", externalIDField: field, records: indices.map { writes[$0].record }, logger: logger)
                    for (index, result) in zip(indices, saved) { results[index] = .success(result) }
                } catch {
                    for index in indices { results[index] = .failure(error) }
                }
            }
            left = later
        }
        return results.map { $0 ?? .failure(GathererError(message: "a Task write was left out of its batch")) }
    }
}
