import Foundation
import Jobs
import Logging
import Salesforce
import Store
import SyncCore
import Timing

/// The lead worker (`docsend-sync worker leads`): makes the Lead of an unmatched visitor email (team option
/// *Create new leads for unmatched emails*), then sends the visit back to the visit worker to write its Task
/// on it.
///
/// One email never gets two Leads, however many visits by the same new visitor arrive at once on however
/// many workers:
/// 1. the worker takes the store's lease `lead:<team>:<email>` (other workers wait for it);
/// 2. under the lease, a Lead already made for the email (the ledger), or a Lead or Contact that exists in
///    Salesforce by now (a fresh query), is used as it is;
/// 3. otherwise it creates the Lead (LastName, FirstName, Company, Email, LeadSource `DocSend` unless the org's
///    restricted picklist refuses it: ``LeadSourceChoice``) and records it in the ledger before giving the lease up.
///
/// Salesforce's duplicate rules: when a create is refused with `DUPLICATES_DETECTED`, the worker looks for
/// the duplicate by email and uses it; when there is none by email (a rule on other fields, with an *alert*
/// action), it saves with `Sforce-Duplicate-Rule-Header: allowSave=true`. A *block* rule the worker cannot
/// satisfy parks the request with Salesforce's error.
public struct LeadHandler: JobHandler {
    let orgs: TeamOrgs
    /// This worker's name in the leases it takes; each job's lease adds a unique suffix, so that two jobs in work
    /// in one process exclude each other too.
    let owner: String
    /// How long a lease lasts if its holder dies.
    let leaseDuration: Duration
    /// How long a worker waits for another's lease before retrying later.
    let leaseWait: Duration

    /// A handler creating Leads through `orgs`.
    public init(
        orgs: TeamOrgs,
        owner: String = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8))",
        leaseDuration: Duration = .seconds(60), leaseWait: Duration = .seconds(30)
    ) {
        self.orgs = orgs
        self.owner = owner
        self.leaseDuration = leaseDuration
        self.leaseWait = leaseWait
    }

    public func handle(_ job: Job, context: JobContext) async throws {
        guard case .leadRequest(let request) = job else {
            throw WorkFailure.badMessage(code: "unexpected_message_type", "\(job.name) does not belong to the lead worker")
        }
        guard let email = Matching.normalizedEmail(request.visitorEmail)?.lowercased() else {
            throw WorkFailure.badMessage(code: "lead_request_without_email", "the lead request has no visitor email")
        }
        var logger = context.logger
        logger[metadataKey: "docsend-visit"] = .string(request.visitID)
        do {
            let person = try await withLease("lead:\(request.teamID):\(email)") { [logger] in
                try await findOrCreateLead(request, email: email, context: context, logger: logger)
            }
            try await context.send(
                .leadReady(
                    LeadReady(teamID: request.teamID, visitID: request.visitID, personID: person?.id, personKind: person?.kind)))
        } catch {
            await orgs.noteFailure(error, teamID: request.teamID)
            throw WorkFailure.classify(error, teamID: request.teamID)
        }
    }

    /// The visitor's Lead (or Contact), made if need be; `nil` when none exists and the team no longer creates Leads.
    private func findOrCreateLead(_ request: LeadRequest, email: String, context: JobContext, logger: Logger) async throws
        -> SalesforcePerson?
    {
        let store = orgs.store
        if let entry = try await store.ledgerEntry(teamID: request.teamID, kind: .lead, objectID: email) {
            logger.debug("the visitor's Lead was made before", metadata: ["docsend-lead": "\(entry.salesforceID)"])
            return SalesforcePerson(kind: .lead, id: entry.salesforceID, email: email, isConverted: false, lastModifiedDate: entry.createdAt)
        }
        let org = try await orgs.context(teamID: request.teamID, logger: logger)
        if let existing = Matching.person(forEmail: email, among: try await org.people(email: email, fresh: true)) {
            logger.info("the visitor is in Salesforce by now", metadata: ["docsend-person": "\(existing.id)"])
            return existing
        }
        // The option may have been turned off since the visit asked (a request waiting in a retry tier, replayed from
        // the parking lot): no Lead, and the visit is routed again under the current settings.
        guard org.settings.createLeadsForUnmatchedEmails else {
            logger.info("the team no longer creates Leads for unmatched emails; no Lead made")
            context.report(.skipped(reason: "lead_option_off"))
            return nil
        }
        func makeDraft() async throws -> LeadDraft {
            let source = try await org.leadSource(logger: logger)
            switch LeadDraft.make(visitor: request.visitor, accountName: request.accountName, leadSource: source) {
            case .success(let made): return made
            case .failure(let failure):
                throw WorkFailure.permanent(code: "lead_not_creatable", "no Lead can be made from this visitor: \(failure)")
            }
        }
        var draft = try await makeDraft()
        let id: String
        do {
            do {
                id = try await org.createLead(fields: draft.fields, allowingDuplicates: false, logger: logger)
            } catch let error as SalesforceError
                where error.code == .invalidOrNullForRestrictedPicklist && draft.leadSource != nil
            {
                // The LeadSource picklist changed since it was read: read it again and create with what it takes now.
                logger.info("Salesforce refused the LeadSource; reading the Lead's picklist again")
                org.forgetMetadata()
                let fresh = try await makeDraft()
                guard fresh.leadSource != draft.leadSource else { throw error }
                draft = fresh
                id = try await org.createLead(fields: draft.fields, allowingDuplicates: false, logger: logger)
            }
        } catch let error as SalesforceError where error.code == .duplicatesDetected {
            if let duplicate = Matching.person(forEmail: email, among: try await org.people(email: email, fresh: true)) {
                logger.info("Salesforce's duplicate rule points at an existing record", metadata: ["docsend-person": "\(duplicate.id)"])
                return duplicate
            }
            logger.info("a duplicate rule matched on other fields; saving anyway (allowSave)")
            id = try await org.createLead(fields: draft.fields, allowingDuplicates: true, logger: logger)
        }
        let entry = try await store.recordLedgerEntry(
            teamID: request.teamID, kind: .lead, objectID: email, salesforceType: "Lead", salesforceID: id)
        context.report(.synced)
        logger.info("Lead created", metadata: ["docsend-lead": "\(entry.salesforceID)"])
        return SalesforcePerson(kind: .lead, id: entry.salesforceID, email: email, isConverted: false, lastModifiedDate: entry.createdAt)
    }

    /// Runs `body` holding the store's lease on `key`, waiting for another holder up to ``leaseWait``.
    ///
    /// The lease is renewed every third of ``leaseDuration`` while `body` runs (its Salesforce calls may
    /// together outlast one lease); when a renewal finds the lease taken over or cannot reach the store, `body`
    /// is cancelled and the message retried later, so two workers never create the same visitor's Lead.
    private func withLease<Result: Sendable>(_ key: String, _ body: @escaping @Sendable () async throws -> Result)
        async throws -> Result
    {
        let store = orgs.store
        let owner = "\(self.owner)/\(UUID().uuidString.prefix(8))"
        let deadline = ContinuousClock.now + leaseWait
        let backoff = Backoff(initial: .milliseconds(20), maximum: .milliseconds(500), jitter: .equal)
        var waits = 0
        while try await !store.claim(key: key, owner: owner, ttl: leaseDuration) {
            guard ContinuousClock.now < deadline else {
                throw WorkFailure.retryable(code: "lead_lease_busy", "another worker held \(key) for too long")
            }
            waits += 1
            try await Task.sleep(for: backoff.delay(attempt: waits))
        }
        let leaseDuration = self.leaseDuration
        do {
            let result = try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    while true {
                        try await Task.sleep(for: leaseDuration / 3)
                        guard try await store.claim(key: key, owner: owner, ttl: leaseDuration) else {
                            throw WorkFailure.retryable(
                                code: "lead_lease_lost", "the lease \(key) expired and another worker took it over")
                        }
                    }
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let result = first else {
                    throw CancellationError()
                }
                return result
            }
            try await store.release(key: key, owner: owner)
            return result
        } catch {
            _ = try? await store.release(key: key, owner: owner)
            throw error
        }
    }
}
