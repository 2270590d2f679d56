import AMQP
import Fleet
import Foundation
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

/// The visit worker (`docsend-sync worker visits`): turns `visit.started` / `visit.updated` events and its own
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
/// A visit never gets two Tasks: every write is an upsert on the visit's external-id field, so a write
/// repeated after a crash (SIGKILL between the write and the ack) updates the Task it made. Concurrent
/// workers on one visit are serialised by the state's version: the loser reloads and re-applies.
public struct VisitWorker: MessageHandler {
    let orgs: TeamOrgs
    let connection: AMQPConnection
    let topology: SyncTopology
    let policy: VisitTimingPolicy
    /// How late the awaited re-sync tick may be before it counts as lost: its delay through every retry tier,
    /// and one more interval.
    let tickGrace: TimeInterval

    /// A worker writing through `orgs`, scheduling on the re-sync tier through `connection` (the process's
    /// publishing connection).
    public init(orgs: TeamOrgs, connection: AMQPConnection, topology: SyncTopology) {
        self.orgs = orgs
        self.connection = connection
        self.topology = topology
        self.policy = VisitTimingPolicy(interval: topology.resyncInterval.timeInterval)
        self.tickGrace = topology.retryIntervals.reduce(topology.resyncInterval, +).timeInterval
    }

    public func handle(_ delivery: AMQPDelivery, logger: Logger) async throws {
        switch delivery.properties.type {
        case InternalMessage.visitResyncType:
            let tick = try InternalMessage.decode(VisitResyncTick.self, from: delivery.body)
            try await update(teamID: tick.teamID, visitID: tick.visitID, logger: logger) { stored, logger in
                switch stored.sync.tick(tick.sequence, now: Date(), policy: policy) {
                case .ignore: break
                case .sync: try await sync(&stored, teamID: tick.teamID, logger: logger)
                case .next(let step): try await schedule(step, teamID: tick.teamID, visitID: tick.visitID)
                }
            }
        case InternalMessage.leadReadyType:
            let ready = try InternalMessage.decode(LeadReady.self, from: delivery.body)
            try await update(teamID: ready.teamID, visitID: ready.visitID, logger: logger) { stored, logger in
                guard stored.awaitingLead, !stored.sync.hasTask, !stored.sync.isFinished else { return }
                let person = SalesforcePerson(
                    kind: ready.personKind, id: ready.personID, email: stored.sync.started?.visitor.email,
                    isConverted: false, lastModifiedDate: Date())
                try await sync(&stored, teamID: ready.teamID, hint: person, logger: logger)
            }
        default:
            let event = try Event.decode(from: delivery.body)
            let visitID: String
            switch event.payload {
            case .visitStarted(let started): visitID = started.visitID
            case .visitUpdated(let updated): visitID = updated.visitID
            default:
                throw WorkFailure.badMessage(
                    code: "unexpected_event_type", "\(event.type) does not belong on \(topology.queue(.visits))")
            }
            try await orgs.requireConnection(teamID: event.teamID)
            try await update(teamID: event.teamID, visitID: visitID, logger: logger) { stored, logger in
                if stored.sync.apply(event.payload, policy: policy) == .syncNow {
                    try await sync(&stored, teamID: event.teamID, logger: logger)
                } else if let step = stored.sync.replaceOverdueTick(now: Date(), grace: tickGrace, policy: policy) {
                    logger.warning("the awaited re-sync tick is lost (parked or purged); scheduling another")
                    try await schedule(step, teamID: event.teamID, visitID: visitID)
                }
            }
        }
    }

    /// Loads the visit's state, lets `body` change it (and write to Salesforce), and saves it.
    private func update(
        teamID: String, visitID: String, logger: Logger,
        _ body: (inout StoredVisit, Logger) async throws -> Void
    ) async throws {
        var logger = logger
        logger[metadataKey: "team"] = .string(teamID)
        logger[metadataKey: "visit"] = .string(visitID)
        try await orgs.updateState(
            teamID: teamID, kind: .visit, objectID: visitID, initial: StoredVisit(visitID: visitID), logger: logger, body)
    }

    /// Writes the visit's Task (or asks for its Lead, or records why it is not synced), then schedules what
    /// comes next.
    private func sync(_ stored: inout StoredVisit, teamID: String, hint: SalesforcePerson? = nil, logger: Logger)
        async throws
    {
        guard let started = stored.sync.started else { return }
        let org = try await orgs.org(teamID: teamID, logger: logger)
        let now = Date()
        guard org.settings.syncVisits else {
            stored.sync.finish()
            stored.notSynced = NotSyncedRecord(.syncDisabled(.visit), at: now)
            return
        }
        let values = stored.sync.currentValues
        if stored.sync.hasTask {
            // A re-sync: only the changing content; a rep may have edited status, owner or subject.
            let task = try TaskRendering.visitTask(
                started, values: values, context: org.taskContext(.unrelated, .logged, ownerID: nil))
            _ = try await org.client.upsert(
                "Task", externalIDField: task.externalIDField, value: task.externalID, fields: task.updateFields,
                logger: logger)
            logger.debug("visit Task updated", metadata: ["sync": "\(stored.sync.syncCount + 1)"])
        } else {
            var visit = started
            visit.account = try await org.linkedAccount(started.account)
            var people = try await org.people(email: visit.visitor.email, logger: logger)
            if let hint, !people.contains(where: { $0.id == hint.id }) { people.append(hint) }
            let accounts = try await org.accountCandidates(for: visit.account, logger: logger)
            let users = try await org.users(email: visit.linkOwnerEmail, logger: logger)
            switch VisitRouting.route(visit, settings: org.settings, people: people, accounts: accounts, users: users) {
            case .task(let relations, let disposition, let ownerID):
                let task = try TaskRendering.visitTask(
                    visit, values: values, context: org.taskContext(relations, disposition, ownerID: ownerID))
                stored.taskID = try await org.upsertTask(task, fields: task.fields, kind: .visit, logger: logger)
                stored.notSynced = nil
                logger.info(
                    "visit Task written",
                    metadata: [
                        "task": "\(stored.taskID ?? "?")", "who": "\(relations.whoID ?? "-")",
                        "what": "\(relations.whatID ?? "-")", "disposition": "\(disposition.rawValue)",
                    ])
            case .createLead(_, let ownerID):
                let request = LeadRequest(
                    teamID: teamID, visitID: visit.visitID, visitorEmail: visit.visitor.email ?? "",
                    visitorName: visit.visitor.name, accountName: visit.account?.name, ownerID: ownerID)
                try await connection.publish(
                    InternalMessage.message(
                        request, type: InternalMessage.leadRequestType, exchange: topology.workExchange,
                        routingKey: topology.queue(.leads), messageID: "lead-request:\(teamID):\(visit.visitID)"))
                stored.awaitingLead = true
                logger.info("asked for a Lead for the visitor")
                return
            case .notSynced(let reason):
                stored.sync.finish()
                stored.notSynced = NotSyncedRecord(reason, at: now)
                logger.info("visit not synced", metadata: ["reason": "\(reason.code)"])
                return
            }
        }
        stored.awaitingLead = false
        let step = stored.sync.recordSync(values, at: now, policy: policy)
        try await schedule(step, teamID: teamID, visitID: started.visitID)
    }

    /// Publishes the next re-sync tick, when there is one.
    private func schedule(_ step: VisitNextStep, teamID: String, visitID: String) async throws {
        guard case .tick(let sequence, _) = step else { return }
        let tick = VisitResyncTick(teamID: teamID, visitID: visitID, sequence: sequence)
        try await connection.publish(
            InternalMessage.message(
                tick, type: InternalMessage.visitResyncType, exchange: topology.delayExchange,
                routingKey: topology.resyncTier.queue, messageID: "resync:\(teamID):\(visitID):\(sequence)"))
    }
}

extension Duration {
    /// Seconds, with the fraction.
    var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
