import Foundation
import Jobs
import Logging
import Salesforce
import Store
import SyncCore

/// What the visit worker keeps per visit (the store's `visit` state).
struct StoredVisit: Codable, Sendable, Equatable {
    /// The timing rules' state.
    var sync: VisitSyncState
    /// The Task's id, once Salesforce returned it.
    var taskID: String?
    /// Why the visit is not synced, when it is not.
    var notSynced: NotSyncedRecord?
    /// A Lead is being made for the visitor (a `docsend-sync.lead.request` is out); the Task follows.
    var awaitingLead = false

    init(visitID: String) { sync = VisitSyncState(visitID: visitID) }

    /// Whether the next write updates the existing Task (its changing content, by its id). Not before the first
    /// write, nor while a Task a rep deleted waits for its Lead to be written again whole (its id forgotten).
    var updatesTask: Bool { sync.hasTask && !(awaitingLead && taskID == nil) }

    /// A rep deleted the visit's Task and the team leaves deleted Tasks deleted: nothing is written for it again.
    var taskLeftDeleted: Bool { notSynced?.code == NotSyncedReason.taskDeletedInSalesforce.code }
}

/// Why an activity was not synced, kept with its state and shown to operators.
struct NotSyncedRecord: Codable, Sendable, Equatable {
    /// ``NotSyncedReason/code``
    var code: String
    /// ``NotSyncedReason/description``
    var reason: String
    var at: Date

    init(_ reason: NotSyncedReason, at: Date) {
        code = reason.code
        self.reason = reason.description
        self.at = at
    }
}

/// The visit handler (`docsend-sync worker visits`): turns `visit.started` / `visit.updated` events and its own
/// re-sync ticks into one Task per visit (design §1 item 1).
///
/// - `visit.started`: resolve where the Task goes, write it, schedule re-sync tick 1 on the re-sync tier.
/// - `visit.updated`: keep the newest progress (``VisitSyncState``); a late update of a finished visit
///   writes again.
/// - A tick: write the same Task when duration or percent changed, schedule the next tick while the visit
///   is active, stop once it is over.
/// - An unmatched visitor with the team's lead option on: ask the lead worker for the Lead; its answer
///   (`docsend-sync.visit.lead-ready`) writes the Task on it.
///
/// A visit never gets two Tasks: the first write is an upsert on the visit's external-id field, so a write
/// repeated after a crash (SIGKILL between the write and the ack) updates the Task it made; re-syncs update that
/// Task by its Salesforce id, which never creates one. A Task a sales rep deleted is written again whole, or left
/// deleted, by the team's `deleted_tasks` setting (``DeletedTaskRule``), never half. Concurrent workers on one
/// visit are serialised by the state's version: the loser reloads and re-applies.
public struct VisitHandler: JobHandler {
    let orgs: TeamOrgs
    let policy: VisitTimingPolicy
    /// How late the awaited re-sync tick may be before it counts as lost: its delay through every retry tier,
    /// and one more interval.
    let tickGrace: TimeInterval

    /// A handler writing through `orgs`, re-syncing every `resyncInterval`; `retry` is the strategy a lost tick
    /// went through.
    public init(orgs: TeamOrgs, resyncInterval: Duration, retry: RetryStrategy) {
        self.orgs = orgs
        self.policy = VisitTimingPolicy(interval: resyncInterval.timeInterval)
        self.tickGrace = retry.delays.reduce(resyncInterval, +).timeInterval
    }

    public func handle(_ job: Job, context: JobContext) async throws {
        switch job {
        case .visitResync(let tick):
            try await update(visitID: tick.visitID, context) { stored, writes in
                switch stored.sync.tick(tick.sequence, now: Date(), policy: policy) {
                case .ignore: break
                case .sync: try await sync(&stored, writes)
                case .next(let step): try await schedule(step, visitID: tick.visitID, writes)
                }
            }
        case .leadReady(let ready):
            try await update(visitID: ready.visitID, context) { stored, writes in
                guard stored.awaitingLead, !stored.updatesTask, !stored.sync.isFinished else { return }
                // No person: the lead option was turned off meanwhile, and the visit is routed again without it.
                let person = ready.personID.map { id in
                    SalesforcePerson(
                        kind: ready.personKind ?? .lead, id: id, email: stored.sync.started?.visitor.email,
                        isConverted: false, lastModifiedDate: Date())
                }
                try await sync(&stored, hint: person, writes)
            }
        case .event(let event):
            let visitID: String
            switch event.payload {
            case .visitStarted(let started): visitID = started.visitID
            case .visitUpdated(let updated): visitID = updated.visitID
            default:
                throw WorkFailure.badMessage(code: "unexpected_event_type", "\(event.type) does not belong to the visit worker")
            }
            try await orgs.requireConnection(teamID: event.teamID)
            try await update(visitID: visitID, context) { stored, writes in
                if stored.sync.apply(event.payload, policy: policy) == .syncNow {
                    try await sync(&stored, writes)
                } else if let step = stored.sync.replaceOverdueTick(now: Date(), grace: tickGrace, policy: policy) {
                    writes.logger.warning("the awaited re-sync tick is lost (parked or purged); scheduling another")
                    try await schedule(step, visitID: visitID, writes)
                }
            }
        case .leadRequest, .linkRefresh:
            throw WorkFailure.badMessage(code: "unexpected_message_type", "\(job.name) does not belong to the visit worker")
        }
    }

    /// Loads the visit's state, lets `body` change it (and write to Salesforce), and saves it.
    private func update(
        visitID: String, _ context: JobContext, _ body: (inout StoredVisit, RepeatableWrites) async throws -> Void
    ) async throws {
        var logger = context.logger
        logger[metadataKey: "docsend-visit"] = .string(visitID)
        try await orgs.updateState(
            teamID: context.teamID, kind: .visit, objectID: visitID, initial: StoredVisit(visitID: visitID),
            writes: RepeatableWrites(logger: logger, context: context), body)
    }

    /// Writes the visit's Task (or asks for its Lead, or records why it is not synced), then schedules what
    /// comes next.
    private func sync(_ stored: inout StoredVisit, hint: SalesforcePerson? = nil, _ writes: RepeatableWrites) async throws {
        guard let started = stored.sync.started else { return }
        guard !stored.taskLeftDeleted else {
            // A late update reopened the visit: its Task stays deleted.
            stored.sync.finish()
            writes.context.report(.skipped(reason: NotSyncedReason.taskDeletedInSalesforce.code))
            return
        }
        let teamID = writes.context.teamID
        let logger = writes.logger
        let org = try await orgs.context(teamID: teamID, logger: logger)
        let now = Date()
        guard org.settings.syncVisits else {
            stored.sync.finish()
            stored.notSynced = NotSyncedRecord(.syncDisabled(.visit), at: now)
            writes.context.report(.skipped(reason: NotSyncedReason.syncDisabled(.visit).code))
            return
        }
        let values = stored.sync.currentValues
        if stored.updatesTask {
            // A re-sync: only the changing content; a rep may have edited status, owner or subject.
            let task = try TaskRendering.visitTask(
                started, values: values, context: try org.taskContext(.visit, .unrelated, .logged, ownerID: nil))
            switch try await writes.updateTask(task, id: stored.taskID, in: org) {
            case .updated:
                logger.debug("visit Task updated", metadata: ["docsend-sync": "\(stored.sync.syncCount + 1)"])
            case .gone(let createdID):
                switch DeletedTaskRule.action(settings: org.settings) {
                case .leave(let reason):
                    if let createdID { try await writes.deleteTask(id: createdID, in: org) }
                    stored.sync.finish()
                    stored.notSynced = NotSyncedRecord(reason, at: now)
                    writes.context.report(.skipped(reason: reason.code))
                    logger.info(
                        "visit Task deleted in Salesforce; left deleted",
                        metadata: ["docsend-task": "\(stored.taskID ?? createdID ?? "?")", "docsend-reason": "\(reason.code)"])
                    return
                case .recreate:
                    let deleted = stored.taskID
                    stored.taskID = nil
                    guard try await writeWhole(&stored, started, values: values, hint: hint, org: org, writes) else { return }
                    logger.info(
                        "visit Task deleted in Salesforce; written again whole",
                        metadata: ["docsend-task": "\(stored.taskID ?? "?")", "docsend-deleted-task": "\(deleted ?? "?")"])
                }
            }
        } else {
            guard try await writeWhole(&stored, started, values: values, hint: hint, org: org, writes) else { return }
        }
        stored.awaitingLead = false
        let step = stored.sync.recordSync(values, at: now, policy: policy)
        try await schedule(step, visitID: started.visitID, writes)
    }

    /// Routes the visit and writes its Task whole (relations, status, owner, subject, content), as its first sync
    /// does and as a Task a rep deleted is written again; or asks for its Lead, or records why it is not synced.
    /// Returns whether the Task was written (then the caller records the sync).
    private func writeWhole(
        _ stored: inout StoredVisit, _ started: VisitStarted, values: SyncedVisitValues, hint: SalesforcePerson?,
        org: OrgContext, _ writes: RepeatableWrites
    ) async throws -> Bool {
        let logger = writes.logger
        var visit = started
        visit.account = try await org.linkedAccount(started.account)
        // Asked together, so that both join one batch of lookups (one API call).
        let email = visit.visitor.email
        let account = visit.account
        async let foundPeople = org.people(email: email)
        async let foundAccounts = org.accountCandidates(for: account)
        var people = try await foundPeople
        if let hint, !people.contains(where: { $0.id == hint.id }) { people.append(hint) }
        let accounts = try await foundAccounts
        let users = try await org.users(email: visit.linkOwnerEmail, logger: logger)
        // The follow-up owner of last resort, read only when a follow-up Task could need it.
        let fallbackOwnerID =
            org.settings.createOpenTasksForUnmatchedRecords && users.isEmpty
            ? try await org.followUpFallbackOwner(logger: logger) : nil
        switch VisitRouting.route(
            visit, settings: org.settings, people: people, accounts: accounts, users: users,
            fallbackOwnerID: fallbackOwnerID)
        {
        case .task(let relations, let disposition, let ownerID):
            let task = try TaskRendering.visitTask(
                visit, values: values, context: try org.taskContext(.visit, relations, disposition, ownerID: ownerID))
            // A Task existed before: a rep deleted it, and this one replaces it in the ledger.
            stored.taskID = try await writes.upsertTask(task, kind: .visit, replacingDeleted: stored.sync.hasTask, in: org)
            stored.notSynced = nil
            logger.info(
                "visit Task written",
                metadata: [
                    "docsend-task": "\(stored.taskID ?? "?")", "docsend-who": "\(relations.whoID ?? "-")",
                    "docsend-what": "\(relations.whatID ?? "-")", "docsend-disposition": "\(disposition.rawValue)",
                ])
            return true
        case .createLead(_, let ownerID):
            try await writes.send(
                .leadRequest(
                    LeadRequest(
                        teamID: writes.context.teamID, visitID: visit.visitID, visitorEmail: visit.visitor.email ?? "",
                        visitorName: visit.visitor.name, accountName: visit.account?.name, ownerID: ownerID)))
            stored.awaitingLead = true
            logger.info("asked for a Lead for the visitor")
            return false
        case .notSynced(let reason):
            stored.sync.finish()
            stored.awaitingLead = false
            stored.notSynced = NotSyncedRecord(reason, at: Date())
            writes.context.report(.skipped(reason: reason.code))
            logger.info("visit not synced", metadata: ["docsend-reason": "\(reason.code)"])
            return false
        }
    }

    /// Sends the next re-sync tick, when there is one.
    private func schedule(_ step: VisitNextStep, visitID: String, _ writes: RepeatableWrites) async throws {
        guard case .tick(let sequence, _) = step else { return }
        try await writes.send(
            .visitResync(VisitResyncTick(teamID: writes.context.teamID, visitID: visitID, sequence: sequence)))
    }
}

extension Duration {
    /// Seconds, with the fraction.
    var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
