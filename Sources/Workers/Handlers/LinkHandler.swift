import Foundation
import Jobs
import Logging
import Salesforce
import Store
import SyncCore

/// What the link worker keeps per document link or space link (the store's `link` / `space_link` state).
struct StoredLink: Codable, Sendable, Equatable {
    /// The `link.created` / `space_link.created` event, in its wire form, once seen (the Task is re-rendered
    /// from it when visitors change).
    var creation: Data?
    /// The Task's id, once written.
    var taskID: String?
    /// The visitors the Task lists.
    var visitors = LinkVisitorList()
    /// Visitors seen since, not on the Task yet.
    var pending: [PendingVisitor] = []
    /// The token of the `docsend-sync.link.refresh` on its way; a refresh with another token (published by an
    /// attempt that lost a race, or a duplicate) is ignored, so one burst makes one update.
    var scheduledRefresh: String?
    /// When that refresh was published: one overdue by more than ``LinkHandler/refreshGrace`` was lost (parked
    /// after its retries, purged), and the next visitor schedules another.
    var refreshScheduledAt: Date?
    /// Why the link is not synced, when it is not.
    var notSynced: NotSyncedRecord?

    /// A rep deleted the link's Task and the team leaves deleted Tasks deleted: its visitors are no longer written.
    var taskLeftDeleted: Bool { notSynced?.code == NotSyncedReason.taskDeletedInSalesforce.code }

    /// How many pending visitors are kept at most (the list itself keeps ``LinkVisitorList/maximumCount``).
    static let pendingLimit = LinkVisitorList.maximumCount
}

/// A visitor of a link from a `visit.started`, waiting to be listed on the link's Task.
struct PendingVisitor: Codable, Sendable, Equatable {
    var visitID: String
    var email: String
    var name: String?
    var startedAt: Date
}

/// The link worker (`docsend-sync worker links`): a Task on the Salesforce Account for each document link and
/// space link created on a DocSend account associated with one (design §1 items 2 and 3), and the document
/// link Task's visitors list kept up to date.
///
/// New visitors come from `visit.started` events (the links queue is bound to them too). They are gathered
/// in the link's state, and the first one of a burst schedules one `docsend-sync.link.refresh` through the
/// visitor-refresh tier; when it comes back, the Task is updated once with everyone gathered meanwhile. A
/// visitor seen before the link's own `link.created` is listed when the Task is created.
public struct LinkHandler: JobHandler {
    let orgs: TeamOrgs
    /// How long a scheduled refresh may take before it counts as lost: its delay, its trip through every retry
    /// tier, and the delay once more.
    let refreshGrace: TimeInterval

    /// A handler writing through `orgs`; refreshes come back after `visitorRefreshDelay`, through `retry` when
    /// they fail.
    public init(orgs: TeamOrgs, visitorRefreshDelay: Duration, retry: RetryStrategy) {
        self.orgs = orgs
        self.refreshGrace = retry.delays.reduce(visitorRefreshDelay * 2, +).timeInterval
    }

    public func handle(_ job: Job, context: JobContext) async throws {
        let event: Event
        switch job {
        case .linkRefresh(let refresh):
            try await update(kind: .link, objectID: refresh.linkID, context) { stored, writes in
                guard stored.scheduledRefresh == refresh.token else { return }
                stored.scheduledRefresh = nil
                stored.refreshScheduledAt = nil
                try await writeVisitors(&stored, linkID: refresh.linkID, writes)
            }
            return
        case .event(let received): event = received
        case .visitResync, .leadRequest, .leadReady:
            throw WorkFailure.badMessage(code: "unexpected_message_type", "\(job.name) does not belong to the link worker")
        }
        if case .visitUpdated = event.payload { return }  // progress of a visit: the visit worker's business
        try await orgs.requireConnection(teamID: event.teamID)
        switch event.payload {
        case .linkCreated, .spaceLinkCreated:
            guard let activity = LinkActivity(event.payload) else { return }
            try await update(kind: activity.kind, objectID: activity.id, context) { stored, writes in
                guard stored.creation == nil else { return }  // a duplicate
                stored.creation = event.encoded()
                try await createTask(&stored, activity: activity, writes)
            }
        case .visitStarted(let visit):
            guard let email = Matching.normalizedEmail(visit.visitor.email) else { return }
            try await update(kind: .link, objectID: visit.linkID, context) { stored, writes in
                guard !stored.taskLeftDeleted else { return }
                let listed = stored.visitors.visitors.first { Matching.emailsMatch($0.email, email) }
                let addsNothing = listed != nil && (listed?.name != nil || visit.visitor.name == nil)
                if !addsNothing, stored.pending.count < StoredLink.pendingLimit,
                    !stored.pending.contains(where: { $0.visitID == visit.visitID })
                {
                    stored.pending.append(
                        PendingVisitor(
                            visitID: visit.visitID, email: email, name: visit.visitor.name, startedAt: visit.startedAt))
                }
                // Also when this visitor was already pending: a worker may have died before scheduling, or the
                // refresh was lost (parked after its retries).
                let now = Date()
                let lost = stored.refreshScheduledAt.map { now.timeIntervalSince($0) > refreshGrace } ?? true
                if stored.taskID != nil, stored.scheduledRefresh == nil || lost, !stored.pending.isEmpty {
                    // Document link sync off: gathered, but no refresh (every write to the Task honours the toggle).
                    if let reason = LinkRouting.visitorRefresh(settings: try await orgs.settings(teamID: event.teamID)) {
                        writes.context.report(.skipped(reason: reason.code))
                        return
                    }
                    if stored.scheduledRefresh != nil {
                        writes.logger.warning("the scheduled visitor refresh is lost (parked or purged); scheduling another")
                    }
                    let token = UUID().uuidString
                    try await writes.send(
                        .linkRefresh(LinkVisitorRefresh(teamID: event.teamID, linkID: visit.linkID, token: token)))
                    stored.scheduledRefresh = token
                    stored.refreshScheduledAt = now
                }
            }
        case .visitUpdated:
            return
        }
    }

    /// Routes and writes a link or space link Task whole (with the visitors already gathered): a new one, or
    /// (`replacingDeleted`) one written again because a rep deleted it.
    private func createTask(
        _ stored: inout StoredLink, activity: LinkActivity, replacingDeleted: Bool = false, _ writes: RepeatableWrites
    ) async throws {
        let logger = writes.logger
        let org = try await orgs.context(teamID: writes.context.teamID, logger: logger)
        var activity = activity
        activity.account = try await org.linkedAccount(activity.account)
        let accounts = try await org.accountCandidates(for: activity.account)
        let users = try await org.users(email: activity.creator, logger: logger)
        switch activity.route(settings: org.settings, accounts: accounts, users: users) {
        case .notSynced(let reason):
            stored.notSynced = NotSyncedRecord(reason, at: Date())
            writes.context.report(.skipped(reason: reason.code))
            logger.info("link not synced", metadata: ["docsend-reason": "\(reason.code)"])
        case .task(let accountID, let ownerID):
            let refreshed = stored.visitors.refreshed(
                with: Self.visits(stored.pending, linkID: activity.id), linkID: activity.id)
            let task = try activity.task(
                visitors: refreshed.list, context: try org.taskContext(activity.activityKind, .account(accountID), .logged, ownerID: ownerID))
            stored.taskID = try await writes.upsertTask(
                task, kind: activity.kind, replacingDeleted: replacingDeleted, in: org)
            stored.visitors = refreshed.list
            stored.pending = []
            logger.info(
                "link Task written", metadata: ["docsend-task": "\(stored.taskID ?? "?")", "docsend-account": "\(accountID)"])
        }
    }

    /// Writes the gathered visitors onto the link's Task, once, when they change its list; nothing while document
    /// link sync is off (the visitors stay gathered for when it is on again).
    private func writeVisitors(_ stored: inout StoredLink, linkID: String, _ writes: RepeatableWrites) async throws {
        guard let taskID = stored.taskID, !stored.taskLeftDeleted, !stored.pending.isEmpty, let creation = stored.creation,
            case .linkCreated(let link) = try Event.decode(from: creation).payload
        else { return }
        if let reason = LinkRouting.visitorRefresh(settings: try await orgs.settings(teamID: writes.context.teamID)) {
            writes.context.report(.skipped(reason: reason.code))
            writes.logger.info("link Task visitors not written", metadata: ["docsend-reason": "\(reason.code)"])
            return
        }
        let refreshed = stored.visitors.refreshed(with: Self.visits(stored.pending, linkID: linkID), linkID: linkID)
        if refreshed.needsUpdate {
            let org = try await orgs.context(teamID: writes.context.teamID, logger: writes.logger)
            let task = try TaskRendering.linkTask(
                link, visitors: refreshed.list, context: try org.taskContext(.documentLink, .unrelated, .logged, ownerID: nil))
            switch try await writes.updateTask(task, id: taskID, in: org) {
            case .updated:
                writes.logger.info(
                    "link Task visitors updated", metadata: ["docsend-visitors": "\(refreshed.list.visitors.count)"])
            case .gone(let createdID):
                switch DeletedTaskRule.action(settings: org.settings) {
                case .leave(let reason):
                    if let createdID { try await writes.deleteTask(id: createdID, in: org) }
                    stored.notSynced = NotSyncedRecord(reason, at: Date())
                    stored.pending = []
                    writes.context.report(.skipped(reason: reason.code))
                    writes.logger.info(
                        "link Task deleted in Salesforce; left deleted",
                        metadata: ["docsend-task": "\(taskID)", "docsend-reason": "\(reason.code)"])
                case .recreate:
                    // Routed again (the Account, the owner) and written whole with every visitor, as on creation.
                    stored.taskID = nil
                    try await createTask(&stored, activity: .document(link), replacingDeleted: true, writes)
                    writes.logger.info(
                        "link Task deleted in Salesforce; written again whole",
                        metadata: ["docsend-task": "\(stored.taskID ?? "?")", "docsend-deleted-task": "\(taskID)"])
                }
                return
            }
        }
        stored.visitors = refreshed.list
        stored.pending = []
    }

    /// Pending visitors as the `visit.started` values ``LinkVisitorList/refreshed(with:linkID:limit:)`` takes.
    private static func visits(_ pending: [PendingVisitor], linkID: String) -> [VisitStarted] {
        pending.map {
            VisitStarted(
                visitID: $0.visitID, linkID: linkID, linkOwnerEmail: "", document: DocumentInfo(id: "", name: "", url: ""),
                account: nil, visitor: VisitorInfo(email: $0.email, name: $0.name), analyticsURL: "",
                startedAt: $0.startedAt)
        }
    }

    /// Loads the link's state, lets `body` change it, saves it when nobody saved first (else starts over).
    private func update(
        kind: SyncObjectKind, objectID: String, _ context: JobContext,
        _ body: (inout StoredLink, RepeatableWrites) async throws -> Void
    ) async throws {
        var logger = context.logger
        logger[metadataKey: kind == .spaceLink ? "docsend-space-link" : "docsend-link"] = .string(objectID)
        try await orgs.updateState(
            teamID: context.teamID, kind: kind, objectID: objectID, initial: StoredLink(),
            writes: RepeatableWrites(logger: logger, context: context), body)
    }
}

/// A document link or a space link creation: what the link worker does alike for both.
enum LinkActivity: Sendable {
    case document(LinkCreated)
    case space(SpaceLinkCreated)

    init?(_ payload: Event.Payload) {
        switch payload {
        case .linkCreated(let link): self = .document(link)
        case .spaceLinkCreated(let spaceLink): self = .space(spaceLink)
        default: return nil
        }
    }

    /// The link's or space link's id.
    var id: String {
        switch self {
        case .document(let link): link.linkID
        case .space(let spaceLink): spaceLink.spaceLinkID
        }
    }

    /// The kind its state and ledger entry are kept under.
    var kind: SyncObjectKind {
        switch self {
        case .document: .link
        case .space: .spaceLink
        }
    }

    /// The kind of its Task (which fields it needs).
    var activityKind: ActivityKind {
        switch self {
        case .document: .documentLink
        case .space: .spaceLink
        }
    }

    var creator: String {
        switch self {
        case .document(let link): link.creatorEmail
        case .space(let spaceLink): spaceLink.creatorEmail
        }
    }

    /// The DocSend account it was created on.
    var account: AccountInfo? {
        get {
            switch self {
            case .document(let link): link.account
            case .space(let spaceLink): spaceLink.account
            }
        }
        set {
            switch self {
            case .document(var link):
                link.account = newValue
                self = .document(link)
            case .space(var spaceLink):
                spaceLink.account = newValue
                self = .space(spaceLink)
            }
        }
    }

    func route(settings: TeamSettings, accounts: [SalesforceAccount], users: [SalesforceUser]) -> LinkRoute {
        switch self {
        case .document(let link): LinkRouting.route(link, settings: settings, accounts: accounts, users: users)
        case .space(let spaceLink): LinkRouting.route(spaceLink, settings: settings, accounts: accounts, users: users)
        }
    }

    func task(visitors: LinkVisitorList, context: TaskContext) throws -> RenderedTask {
        switch self {
        case .document(let link): try TaskRendering.linkTask(link, visitors: visitors, context: context)
        case .space(let spaceLink): try TaskRendering.spaceLinkTask(spaceLink, context: context)
        }
    }
}
