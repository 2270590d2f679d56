import Foundation
import Logging
import Salesforce
import SyncCore
import Synchronization

/// One org's Salesforce lookups and Task writes as this process's jobs make them, gathered into few API calls
/// (``Gatherer``): the people and Accounts many visits need in one composite request of `IN (…)` queries (Contacts
/// and Leads by `Email`, Accounts by `Name`: one API call), many first writes of Tasks in one sObject Collections
/// upsert on their external id, and many later writes of Tasks in one sObject Collections update by their Salesforce
/// id (200 a call, `allOrNone` false). Each job gets its own rows and its own record's result: one
/// record's validation error fails that job only.
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

    /// A later write of a Task: its changing fields, updated by its Salesforce id (an update never creates a Task).
    struct TaskUpdate: Sendable {
        var id: String
        var record: [String: FieldValue]
    }

    /// What a job looks up: the people with an email, or the Accounts with a name (both lowercased).
    enum Lookup: Hashable, Sendable {
        case email(String)
        case accountName(String)
    }

    /// What a lookup found.
    enum Found: Sendable {
        case people([SalesforcePerson])
        case accounts([SalesforceAccount])
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
    private let lookups: Gatherer<Lookup, Found>
    private let taskWrites: Gatherer<TaskWrite, SaveResult>
    private let taskUpdates: Gatherer<TaskUpdate, SaveResult>
    private let peopleFound: SingleFlightCache<String, Bool, [SalesforcePerson]>

    /// Batches of `client`'s org gathered as ``Gatherer`` does with `window` and `maxWait`, people kept for
    /// `lookupLifetime`.
    init(client: SalesforceClient, window: Duration, maxWait: Duration, lookupLifetime: Duration, logger: Logger) {
        self.client = client
        self.lookupLifetime = lookupLifetime
        peopleFound = SingleFlightCache(lifetime: lookupLifetime)
        let limit = SalesforceClient.maxCollectionRecords
        lookups = Gatherer(window: window, maxWait: maxWait, limit: limit) { keys in
            await Self.look(up: keys, client: client, logger: logger)
        }
        taskWrites = Gatherer(window: window, maxWait: maxWait, limit: limit) { writes in
            await Self.upsert(writes, client: client, logger: logger)
        }
        taskUpdates = Gatherer(window: window, maxWait: maxWait, limit: limit) { updates in
            await Self.update(updates, client: client, logger: logger)
        }
    }

    // MARK: What the jobs ask

    /// Contacts and unconverted Leads whose email is `email`, compared as Salesforce does (ignoring case); `fresh`
    /// asks Salesforce even when the answer is kept (before a write that cannot be repeated, such as a Lead).
    func people(email: String?, fresh: Bool) async throws -> [SalesforcePerson] {
        guard let email = Matching.normalizedEmail(email)?.lowercased() else { return [] }
        guard email.count <= Self.maxEmailLength else { return [] }
        let lookups = lookups
        @Sendable func ask() async throws -> [SalesforcePerson] {
            guard case .people(let people) = try await lookups.submit(.email(email)) else { return [] }
            return people
        }
        if fresh { return try await ask() }
        return try await peopleFound.value(email, version: true) { try await ask() }
    }

    /// Forgets what was found for `email` (this process just created a Lead for it).
    func forgetPerson(email: String) {
        guard let email = Matching.normalizedEmail(email)?.lowercased() else { return }
        peopleFound.forget { $0 == email }
    }

    /// Accounts named `name` (Salesforce compares names ignoring case).
    func accounts(named name: String) async throws -> [SalesforceAccount] {
        guard !name.isEmpty, name.count <= Self.maxAccountNameLength else { return [] }
        guard case .accounts(let accounts) = try await lookups.submit(.accountName(name.lowercased())) else { return [] }
        return accounts
    }

    /// Upserts one Task with the others gathered with it; its own record's result.
    func upsert(_ write: TaskWrite) async throws -> SaveResult { try await taskWrites.submit(write) }

    /// Updates one Task by its id with the others gathered with it; its own record's result.
    func update(_ update: TaskUpdate) async throws -> SaveResult { try await taskUpdates.submit(update) }

    // MARK: The calls

    /// One query of the lookups: `fields` of `object` rows whose `field` is in `values`.
    private struct ListQuery {
        var object: String
        var fields: [String]
        var field: String
        var values: [String]
        var condition: SOQL.Condition?

        func soql(_ values: [String]) -> SOQL {
            let match = SOQL.Condition.in(field, values.map { .string($0) })
            return SOQL.select(fields, from: object).where(condition.map { match && $0 } ?? match)
        }
    }

    /// Answers every key from composite requests of IN queries (five queries, one API call, each).
    private static func look(up keys: [Lookup], client: SalesforceClient, logger: Logger) async -> [Result<Found, any Error>] {
        var emails = Set<String>()
        var names = Set<String>()
        for key in keys {
            switch key {
            case .email(let email): emails.insert(email)
            case .accountName(let name): names.insert(name)
            }
        }
        var queries: [ListQuery] = []
        for list in chunks(emails.sorted()) {
            queries.append(ListQuery(object: "Contact", fields: ["Id", "Email", "AccountId", "LastModifiedDate"], field: "Email", values: list))
            queries.append(
                ListQuery(
                    object: "Lead", fields: ["Id", "Email", "IsConverted", "LastModifiedDate"], field: "Email", values: list,
                    condition: .equals("IsConverted", .bool(false))))
        }
        for list in chunks(names.sorted()) {
            queries.append(ListQuery(object: "Account", fields: ["Id", "Name", "LastModifiedDate"], field: "Name", values: list))
        }
        var people: [String: [SalesforcePerson]] = [:]
        var accounts: [String: [SalesforceAccount]] = [:]
        var failed: [Lookup: any Error] = [:]
        do {
            for start in stride(from: 0, to: queries.count, by: SalesforceClient.maxCompositeQueries) {
                let group = Array(queries[start..<min(queries.count, start + SalesforceClient.maxCompositeQueries)])
                let results = try await client.queries(group.map { $0.soql($0.values) }, logger: logger)
                for (query, result) in zip(group, results) {
                    let rows: [SObjectRecord]
                    switch result {
                    case .success(let found): rows = found
                    case .failure(let error):
                        // Refused as a whole (a value Salesforce will not take): each value on its own, so that one
                        // hostile value fails only its own job.
                        logger.warning(
                            "Salesforce refused a batched lookup; asking one value at a time",
                            metadata: ["docsend-sobject": "\(query.object)", "docsend-error": "\(error)"])
                        var found: [SObjectRecord] = []
                        for value in query.values {
                            do {
                                found += try await client.query(query.soql([value]), logger: logger)
                            } catch let error as SalesforceError where error.classification == .permanent {
                                failed[query.object == "Account" ? .accountName(value) : .email(value)] = error
                            }
                        }
                        rows = found
                    }
                    collect(rows, of: query.object, people: &people, accounts: &accounts)
                }
            }
        } catch {
            return keys.map { _ in .failure(error) }
        }
        return keys.map { key in
            if let error = failed[key] { return .failure(error) }
            switch key {
            case .email(let email): return .success(.people(people[email] ?? []))
            case .accountName(let name): return .success(.accounts(accounts[name] ?? []))
            }
        }
    }

    /// Files `rows` of `object` under their lowercased email or name.
    private static func collect(
        _ rows: [SObjectRecord], of object: String, people: inout [String: [SalesforcePerson]],
        accounts: inout [String: [SalesforceAccount]]
    ) {
        for row in rows {
            guard let id = row.id else { continue }
            let modified = SalesforceDateTime.parse(row["LastModifiedDate"]?.stringValue) ?? .distantPast
            if object == "Account" {
                guard let name = row["Name"]?.stringValue else { continue }
                accounts[name.lowercased(), default: []].append(SalesforceAccount(id: id, name: name, lastModifiedDate: modified))
            } else {
                guard let email = row["Email"]?.stringValue else { continue }
                people[email.lowercased(), default: []].append(
                    SalesforcePerson(
                        kind: object == "Contact" ? .contact : .lead, id: id, email: email,
                        isConverted: row["IsConverted"]?.boolValue ?? false, lastModifiedDate: modified,
                        accountID: row["AccountId"]?.stringValue))
            }
        }
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

    /// Updates `updates` by Task id, 200 a call; an id already in the call waits for the next one (a collection
    /// names each record once).
    private static func update(_ updates: [TaskUpdate], client: SalesforceClient, logger: Logger) async
        -> [Result<SaveResult, any Error>]
    {
        var results = [Result<SaveResult, any Error>?](repeating: nil, count: updates.count)
        var left = Array(updates.indices)
        while !left.isEmpty {
            var round: [Int] = []
            var later: [Int] = []
            var taken = Set<String>()
            for index in left {
                if taken.insert(updates[index].id).inserted { round.append(index) } else { later.append(index) }
            }
            do {
                let saved = try await client.updateRecords(
                    "Task", ids: round.map { updates[$0].id }, records: round.map { updates[$0].record }, logger: logger)
                for (index, result) in zip(round, saved) { results[index] = .success(result) }
            } catch {
                for index in round { results[index] = .failure(error) }
            }
            left = later
        }
        return results.map { $0 ?? .failure(GathererError(message: "a Task update was left out of its batch")) }
    }
}
