import Foundation
import Jobs
import Logging
import Salesforce
import Store
import SyncCore

/// One team's org for one job: its settings, what the org is set up with, and the reads the rules need, gathered
/// with the other jobs' into few SOQL queries (``OrgBatches``), every literal escaped. Writes are not here: inside
/// a state update they go through ``RepeatableWrites``; a Lead is created only under its lease
/// (``createLead(fields:allowingDuplicates:logger:)``).
struct OrgContext: Sendable {
    let teamID: String
    /// The team's settings as stored when the job began.
    let settings: TeamSettings
    let metadata: OrgMetadata
    /// The Salesforce User who connected the org (``SalesforceConnection/connectedUserID``), when recorded.
    let connectedUserID: String?
    fileprivate let client: SalesforceClient
    fileprivate let store: any SyncStore
    fileprivate let cache: OrgMetadataCache
    fileprivate let batches: OrgBatches

    init(
        teamID: String, client: SalesforceClient, settings: TeamSettings, metadata: OrgMetadata, store: any SyncStore,
        cache: OrgMetadataCache, batches: OrgBatches, connectedUserID: String? = nil
    ) {
        self.teamID = teamID
        self.client = client
        self.settings = settings
        self.metadata = metadata
        self.store = store
        self.cache = cache
        self.batches = batches
        self.connectedUserID = connectedUserID
    }

    /// The Task context for a Task of `kind` on `relations`, dated in the team's time zone.
    ///
    /// - Throws: ``WorkFailure`` `field_mapping_invalid` when the fields Tasks of `kind` need do not fit the org
    ///   (``OrgMetadata/mapping(for:teamID:)``).
    func taskContext(
        _ kind: ActivityKind, _ relations: TaskRelations, _ disposition: TaskDisposition, ownerID: String?
    ) throws(WorkFailure) -> TaskContext {
        TaskContext(
            relations: relations, disposition: disposition, ownerID: ownerID, statuses: metadata.statuses,
            mapping: try metadata.mapping(for: kind, teamID: teamID), externalIDFields: settings.externalIDFields,
            timeZone: settings.activityTimeZone)
    }

    // MARK: Reads

    /// Contacts and unconverted Leads whose email is `email` (Salesforce compares emails case-insensitively),
    /// found a moment ago or now; `fresh` asks Salesforce now (``OrgBatches/people(email:fresh:)``).
    func people(email: String?, fresh: Bool = false) async throws -> [SalesforcePerson] {
        try await batches.people(email: email, fresh: fresh)
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
    func accountCandidates(for account: AccountInfo?) async throws -> [SalesforceAccount] {
        guard let account, account.salesforceAccountID == nil else { return [] }
        return try await batches.accounts(named: account.name)
    }

    /// The active User with `email`, as a list for the rules (empty when there is none).
    func users(email: String?, logger: Logger) async throws -> [SalesforceUser] {
        try await cache.users(teamID: teamID, email: email, client: client, logger: logger)
    }

    /// The owner of a follow-up Task whose link owner has no User: the User who connected the org, while active
    /// (an inactive owner would fail the write); `nil` otherwise.
    func followUpFallbackOwner(logger: Logger) async throws -> String? {
        guard let connectedUserID else { return nil }
        return try await cache.isActiveUser(teamID: teamID, id: connectedUserID, client: client, logger: logger)
            ? connectedUserID : nil
    }

    /// The `LeadSource` new Leads get (``LeadSourceChoice``).
    func leadSource(logger: Logger) async throws -> LeadSourceChoice {
        try await cache.leadSource(teamID: teamID, client: client, logger: logger)
    }

    /// Forgets the org's cached set-up (a write found it changed), for the next read to load it again.
    func forgetMetadata() { cache.forget(teamID: teamID) }

    // MARK: The one write that is not repeatable

    /// Creates a Lead and returns its id. Not repeatable: the lead worker calls it only under the email's lease,
    /// after checking the ledger and Salesforce (``LeadHandler``). `allowingDuplicates` saves despite an *alert*
    /// duplicate rule (`Sforce-Duplicate-Rule-Header: allowSave=true`).
    func createLead(fields: [String: FieldValue], allowingDuplicates: Bool, logger: Logger) async throws -> String {
        let id = try await client.create(
            "Lead", fields: fields, headers: allowingDuplicates ? ["Sforce-Duplicate-Rule-Header": "allowSave=true"] : [:],
            logger: logger)
        if case .string(let email)? = fields["Email"] { batches.forgetPerson(email: email) }
        return id
    }
}

/// What a state update's body may do besides changing the state (``SyncStateRepository``). The body runs again
/// when another worker saved the object first, and after a crash between its writes and the save, so every
/// operation here is repeatable by construction:
/// - a Task's first write is an upsert on the object's external-id field (a repeat updates the Task it made);
/// - later writes update the Task by its Salesforce id, which never creates one: a Task a rep deleted is reported
///   (``TaskUpdateOutcome/gone(createdID:)``), and written again whole by upsert, or left alone
///   (``DeletedTaskRule``);
/// - follow-up jobs are keyed (re-sync ticks numbered, refreshes tokened, lead answers per visit) and their
///   receivers ignore the ones their state no longer awaits.
struct RepeatableWrites: Sendable {
    /// The job's logger, with the object's metadata.
    var logger: Logger
    let context: JobContext

    /// Writes a Task whole by upsert on its external id and returns its id, recorded in the ledger for `kind`.
    /// `replacingDeleted`: the Task recorded for the object was deleted in Salesforce, and this write made another
    /// (or completed the one a later write's upsert made): the ledger records the new id instead of the old.
    func upsertTask(
        _ task: RenderedTask, kind: SyncObjectKind, replacingDeleted: Bool = false, in org: OrgContext
    ) async throws -> String {
        let id = try savedID(of: try await write(task, record: task.recordWithExternalID, in: org), task)
        let entry: LedgerEntry
        if replacingDeleted,
            let recorded = try await org.store.ledgerEntry(teamID: org.teamID, kind: kind, objectID: task.externalID),
            recorded.salesforceID != id
        {
            entry = try await org.store.replaceLedgerEntry(
                teamID: org.teamID, kind: kind, objectID: task.externalID, salesforceType: "Task", salesforceID: id,
                replacing: recorded.salesforceID)
        } else {
            entry = try await org.store.recordLedgerEntry(
                teamID: org.teamID, kind: kind, objectID: task.externalID, salesforceType: "Task", salesforceID: id)
        }
        context.report(.synced)
        return entry.salesforceID
    }

    /// Writes an existing Task's changing content only (a rep may have edited status, owner or subject): by its
    /// Salesforce `id`, which never creates a Task. A state without the id (saved before it was kept) goes by
    /// upsert on the external id as before, and a Task that upsert created tells that the old one was deleted.
    func updateTask(_ task: RenderedTask, id: String?, in org: OrgContext) async throws -> TaskUpdateOutcome {
        guard let id else {
            let result = try await write(task, record: task.updateRecordWithExternalID, in: org)
            if result.created == true {
                return .gone(createdID: try savedID(of: result, task))
            }
            context.report(.updated)
            return .updated
        }
        let result = try await org.batches.update(OrgBatches.TaskUpdate(id: id, record: task.updateFields))
        guard result.success else {
            if let error = result.errors.first(where: { DeletedTaskRule.isGone(errorCode: $0.code.rawValue, fields: $0.fields) }) {
                logger.debug(
                    "Salesforce says the Task is gone", metadata: ["docsend-task": "\(id)", "sf-error-code": "\(error.code)"])
                return .gone(createdID: nil)
            }
            throw result.errors.first
                ?? WorkFailure.retryable(code: "task_not_saved", "Salesforce failed the Task update and said not why")
        }
        context.report(.updated)
        return .updated
    }

    /// Deletes a Task a later write's upsert created (only the changing fields: a rep had deleted the Task, and the
    /// team leaves deleted Tasks deleted). Repeatable: a Task already deleted counts as done.
    func deleteTask(id: String, in org: OrgContext) async throws {
        do {
            try await org.client.delete("Task", id: id, logger: logger)
        } catch let error as SalesforceError
            where DeletedTaskRule.isGone(errorCode: error.code.rawValue, fields: error.fields)
        {
            logger.debug("the Task to delete is already gone", metadata: ["docsend-task": "\(id)"])
        }
    }

    /// Upserts `record` on the task's external id, gathered with the org's other Task writes (one sObject
    /// Collections call for up to 200); this record's result, or its own error.
    private func write(_ task: RenderedTask, record: [String: FieldValue], in org: OrgContext) async throws -> SaveResult {
        let write = OrgBatches.TaskWrite(externalIDField: task.externalIDField, externalID: task.externalID, record: record)
        func upsert() async throws -> SaveResult {
            let result = try await org.batches.upsert(write)
            guard result.success else {
                throw result.errors.first
                    ?? WorkFailure.retryable(code: "task_not_saved", "Salesforce failed the Task upsert and said not why")
            }
            return result
        }
        do {
            return try await upsert()
        } catch let error as SalesforceError where error.code == .duplicateValue {
            // Two upserts of one external id at once (another process): both looked, found nothing, and the other
            // inserted first. The Task exists now, so the same upsert updates it.
            logger.debug(
                "a concurrent upsert created the Task first; upserting again", metadata: ["docsend-task": "\(task.externalID)"])
            return try await upsert()
        }
    }

    /// The Task id of an upsert's result.
    private func savedID(of result: SaveResult, _ task: RenderedTask) throws -> String {
        guard let id = result.id else {
            throw WorkFailure.retryable(
                code: "task_not_found", "Salesforce accepted the Task upsert of \(task.externalID) without its id")
        }
        return id
    }

    /// Sends a follow-up job (``JobContext/send(_:)``).
    func send(_ job: Job) async throws { try await context.send(job) }
}

/// What became of a later write of an existing Task.
enum TaskUpdateOutcome: Sendable, Equatable {
    /// Written.
    case updated
    /// Salesforce no longer has the Task: a sales rep deleted it. `createdID`: the Task the write created instead
    /// (only an upsert by external id, for a state without the Task's id, can), holding only the changing fields.
    case gone(createdID: String?)
}
