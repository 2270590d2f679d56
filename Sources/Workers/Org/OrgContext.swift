import Foundation
import Jobs
import Logging
import Salesforce
import Store
import SyncCore

/// One team's org for one job: its settings, what the org is set up with, and the reads the rules need, each one
/// SOQL round trip with every literal escaped. Writes are not here: inside a state update they go through
/// ``RepeatableWrites``; a Lead is created only under its lease (``createLead(fields:allowingDuplicates:logger:)``).
struct OrgContext: Sendable {
    let teamID: String
    /// The team's settings as stored when the job began.
    let settings: TeamSettings
    let metadata: OrgMetadata
    fileprivate let client: SalesforceClient
    fileprivate let store: any SyncStore
    fileprivate let cache: OrgMetadataCache

    init(
        teamID: String, client: SalesforceClient, settings: TeamSettings, metadata: OrgMetadata, store: any SyncStore,
        cache: OrgMetadataCache
    ) {
        self.teamID = teamID
        self.client = client
        self.settings = settings
        self.metadata = metadata
        self.store = store
        self.cache = cache
    }

    /// The Task context for a Task on `relations`.
    func taskContext(_ relations: TaskRelations, _ disposition: TaskDisposition, ownerID: String?) -> TaskContext {
        TaskContext(
            relations: relations, disposition: disposition, ownerID: ownerID, statuses: metadata.statuses,
            mapping: metadata.mapping, externalIDFields: settings.externalIDFields)
    }

    // MARK: Reads

    /// Contacts and unconverted Leads whose email is `email` (Salesforce compares emails case-insensitively).
    func people(email: String?, logger: Logger) async throws -> [SalesforcePerson] {
        guard let email = Matching.normalizedEmail(email) else { return [] }
        let contacts = try await client.query(
            .select(["Id", "Email", "AccountId", "LastModifiedDate"], from: "Contact")
                .where(.equals("Email", .string(email))).limit(50), logger: logger)
        let leads = try await client.query(
            .select(["Id", "Email", "IsConverted", "LastModifiedDate"], from: "Lead")
                .where(.equals("Email", .string(email)) && .equals("IsConverted", .bool(false))).limit(50),
            logger: logger)
        return contacts.compactMap { person($0, kind: .contact) } + leads.compactMap { person($0, kind: .lead) }
    }

    private func person(_ row: SObjectRecord, kind: SalesforcePerson.Kind) -> SalesforcePerson? {
        guard let id = row.id else { return nil }
        return SalesforcePerson(
            kind: kind, id: id, email: row["Email"]?.stringValue, isConverted: row["IsConverted"]?.boolValue ?? false,
            lastModifiedDate: SalesforceDateTime.parse(row["LastModifiedDate"]?.stringValue) ?? .distantPast,
            accountID: row["AccountId"]?.stringValue)
    }

    /// The DocSend account with its Salesforce link: the event's `salesforce_account_id`, else the link an
    /// admin stored for the DocSend account.
    func linkedAccount(_ account: AccountInfo?) async throws -> AccountInfo? {
        guard var account else { return nil }
        if account.salesforceAccountID?.trimmingCharacters(in: .whitespaces).isEmpty ?? true {
            account.salesforceAccountID = try await store.accountLink(teamID: teamID, docSendAccountID: account.id)
        }
        return account
    }

    /// Accounts named exactly like `account` when it has no Salesforce link (none needed otherwise).
    func accountCandidates(for account: AccountInfo?, logger: Logger) async throws -> [SalesforceAccount] {
        guard let account, account.salesforceAccountID == nil, !account.name.isEmpty else { return [] }
        let rows = try await client.query(
            .select(["Id", "Name", "LastModifiedDate"], from: "Account")
                .where(.equals("Name", .string(account.name))).limit(20), logger: logger)
        return rows.compactMap { row in
            guard let id = row.id else { return nil }
            return SalesforceAccount(
                id: id, name: row["Name"]?.stringValue ?? "",
                lastModifiedDate: SalesforceDateTime.parse(row["LastModifiedDate"]?.stringValue) ?? .distantPast)
        }
    }

    /// The active User with `email`, as a list for the rules (empty when there is none).
    func users(email: String?, logger: Logger) async throws -> [SalesforceUser] {
        try await cache.users(teamID: teamID, email: email, client: client, logger: logger)
    }

    // MARK: The one write that is not repeatable

    /// Creates a Lead and returns its id. Not repeatable: the lead worker calls it only under the email's lease,
    /// after checking the ledger and Salesforce (``LeadHandler``). `allowingDuplicates` saves despite an *alert*
    /// duplicate rule (`Sforce-Duplicate-Rule-Header: allowSave=true`).
    func createLead(fields: [String: FieldValue], allowingDuplicates: Bool, logger: Logger) async throws -> String {
        try await client.create(
            "Lead", fields: fields, headers: allowingDuplicates ? ["Sforce-Duplicate-Rule-Header": "allowSave=true"] : [:],
            logger: logger)
    }
}

/// What a state update's body may do besides changing the state (``SyncStateRepository``). The body runs again
/// when another worker saved the object first, and after a crash between its writes and the save, so every
/// operation here is repeatable by construction:
/// - Task writes are upserts on the object's external-id field (a repeat updates the Task it made);
/// - follow-up jobs are keyed (re-sync ticks numbered, refreshes tokened, lead answers per visit) and their
///   receivers ignore the ones their state no longer awaits.
struct RepeatableWrites: Sendable {
    /// The job's logger, with the object's metadata.
    var logger: Logger
    let context: JobContext

    /// Writes a Task by upsert on its external id and returns its id, recorded in the ledger for `kind`.
    /// (An upsert that updated may not say which record it updated: the id then comes from a query.)
    func upsertTask(_ task: RenderedTask, kind: SyncObjectKind, in org: OrgContext) async throws -> String {
        let result: UpsertResult
        do {
            result = try await org.client.upsert(
                "Task", externalIDField: task.externalIDField, value: task.externalID, fields: task.fields, logger: logger)
        } catch let error as SalesforceError where error.code == .duplicateValue {
            // Two upserts of one external id at once: both looked, found nothing, and the other inserted first.
            // The Task exists now, so the same upsert updates it.
            logger.debug(
                "a concurrent upsert created the Task first; upserting again", metadata: ["docsend-task": "\(task.externalID)"])
            result = try await org.client.upsert(
                "Task", externalIDField: task.externalIDField, value: task.externalID, fields: task.fields, logger: logger)
        }
        var id: String?
        switch result {
        case .created(let created): id = created
        case .updated(let updated): id = updated
        }
        if id == nil {
            id = try await org.client.query(
                .select(["Id"], from: "Task").where(.equals(task.externalIDField, .string(task.externalID))).limit(1),
                logger: logger
            ).first?.id
        }
        guard let id else {
            throw WorkFailure.retryable(
                code: "task_not_found", "Salesforce accepted the Task upsert but no Task has \(task.externalIDField) \(task.externalID)")
        }
        return try await org.store.recordLedgerEntry(
            teamID: org.teamID, kind: kind, objectID: task.externalID, salesforceType: "Task", salesforceID: id
        ).salesforceID
    }

    /// Updates an existing Task's changing content only (a rep may have edited status, owner or subject).
    func updateTask(_ task: RenderedTask, in org: OrgContext) async throws {
        _ = try await org.client.upsert(
            "Task", externalIDField: task.externalIDField, value: task.externalID, fields: task.updateFields,
            logger: logger)
    }

    /// Sends a follow-up job (``JobContext/send(_:)``).
    func send(_ job: Job) async throws { try await context.send(job) }
}
