import AMQP
import Fleet
import Foundation
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
    /// When that refresh was published: one overdue by more than ``LinkWorker/refreshGrace`` was lost (parked
    /// after its retries, purged), and the next visitor schedules another.
    var refreshScheduledAt: Date?
    /// Why the link is not synced, when it is not.
    var notSynced: NotSyncedRecord?

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
public struct LinkWorker: MessageHandler {
    let orgs: TeamOrgs
    let connection: AMQPConnection
    let topology: SyncTopology
    /// How long a scheduled refresh may take before it counts as lost: its delay, its trip through every retry
    /// tier, and the delay once more.
    let refreshGrace: TimeInterval

    /// A worker writing through `orgs`, scheduling refreshes through `connection` (the process's publishing
    /// connection).
    public init(orgs: TeamOrgs, connection: AMQPConnection, topology: SyncTopology) {
        self.orgs = orgs
        self.connection = connection
        self.topology = topology
        self.refreshGrace =
            topology.retryIntervals.reduce(topology.visitorRefreshDelay * 2, +).timeInterval
    }

    public func handle(_ delivery: AMQPDelivery, logger: Logger) async throws {
        if delivery.properties.type == InternalMessage.linkRefreshType {
            let refresh = try InternalMessage.decode(LinkVisitorRefresh.self, from: delivery.body)
            try await update(teamID: refresh.teamID, kind: .link, objectID: refresh.linkID, logger: logger) {
                stored, logger in
                guard stored.scheduledRefresh == refresh.token else { return }
                stored.scheduledRefresh = nil
                stored.refreshScheduledAt = nil
                try await writeVisitors(&stored, teamID: refresh.teamID, linkID: refresh.linkID, logger: logger)
            }
            return
        }
        let event = try Event.decode(from: delivery.body)
        if case .visitUpdated = event.payload { return }  // progress of a visit: the visit worker's business
        try await orgs.requireConnection(teamID: event.teamID)
        switch event.payload {
        case .linkCreated, .spaceLinkCreated:
            guard let activity = LinkActivity(event.payload) else { return }
            try await update(teamID: event.teamID, kind: activity.kind, objectID: activity.id, logger: logger) {
                stored, logger in
                guard stored.creation == nil else { return }  // a duplicate
                stored.creation = event.encoded()
                try await createTask(&stored, teamID: event.teamID, activity: activity, logger: logger)
            }
        case .visitStarted(let visit):
            guard let email = Matching.normalizedEmail(visit.visitor.email) else { return }
            try await update(teamID: event.teamID, kind: .link, objectID: visit.linkID, logger: logger) { stored, logger in
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
                    if stored.scheduledRefresh != nil {
                        logger.warning("the scheduled visitor refresh is lost (parked or purged); scheduling another")
                    }
                    stored.scheduledRefresh = try await scheduleRefresh(teamID: event.teamID, linkID: visit.linkID)
                    stored.refreshScheduledAt = now
                }
            }
        case .visitUpdated:
            return
        }
    }

    /// Routes and writes a new link or space link Task (with the visitors already gathered).
    private func createTask(_ stored: inout StoredLink, teamID: String, activity: LinkActivity, logger: Logger)
        async throws
    {
        let org = try await orgs.org(teamID: teamID, logger: logger)
        var activity = activity
        activity.account = try await org.linkedAccount(activity.account)
        let accounts = try await org.accountCandidates(for: activity.account, logger: logger)
        let users = try await org.users(email: activity.creator, logger: logger)
        switch activity.route(settings: org.settings, accounts: accounts, users: users) {
        case .notSynced(let reason):
            stored.notSynced = NotSyncedRecord(reason, at: Date())
            logger.info("link not synced", metadata: ["reason": "\(reason.code)"])
        case .task(let accountID, let ownerID):
            let refreshed = stored.visitors.refreshed(
                with: Self.visits(stored.pending, linkID: activity.id), linkID: activity.id)
            let task = try activity.task(
                visitors: refreshed.list, context: org.taskContext(.account(accountID), .logged, ownerID: ownerID))
            stored.taskID = try await org.upsertTask(task, fields: task.fields, kind: activity.kind, logger: logger)
            stored.visitors = refreshed.list
            stored.pending = []
            logger.info("link Task written", metadata: ["task": "\(stored.taskID ?? "?")", "account": "\(accountID)"])
        }
    }

    /// Writes the gathered visitors onto the link's Task, once, when they change its list.
    private func writeVisitors(_ stored: inout StoredLink, teamID: String, linkID: String, logger: Logger) async throws {
        guard stored.taskID != nil, !stored.pending.isEmpty, let creation = stored.creation,
            case .linkCreated(let link) = try Event.decode(from: creation).payload
        else { return }
        let refreshed = stored.visitors.refreshed(with: Self.visits(stored.pending, linkID: linkID), linkID: linkID)
        if refreshed.needsUpdate {
            let org = try await orgs.org(teamID: teamID, logger: logger)
            let task = try TaskRendering.linkTask(
                link, visitors: refreshed.list, context: org.taskContext(.unrelated, .logged, ownerID: nil))
            _ = try await org.client.upsert(
                "Task", externalIDField: task.externalIDField, value: task.externalID, fields: task.updateFields,
                logger: logger)
            logger.info("link Task visitors updated", metadata: ["visitors": "\(refreshed.list.visitors.count)"])
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

    /// Publishes a refresh through the visitor-refresh tier; returns its token.
    private func scheduleRefresh(teamID: String, linkID: String) async throws -> String {
        let token = UUID().uuidString
        try await connection.publish(
            InternalMessage.message(
                LinkVisitorRefresh(teamID: teamID, linkID: linkID, token: token), type: InternalMessage.linkRefreshType,
                exchange: topology.delayExchange, routingKey: topology.visitorRefreshTier.queue,
                messageID: "link-refresh:\(teamID):\(linkID):\(token)"))
        return token
    }

    /// Loads the link's state, lets `body` change it, saves it when nobody saved first (else starts over).
    private func update(
        teamID: String, kind: SyncObjectKind, objectID: String, logger: Logger,
        _ body: (inout StoredLink, Logger) async throws -> Void
    ) async throws {
        var logger = logger
        logger[metadataKey: "team"] = .string(teamID)
        logger[metadataKey: kind == .spaceLink ? "space_link" : "link"] = .string(objectID)
        try await orgs.updateState(teamID: teamID, kind: kind, objectID: objectID, initial: StoredLink(), logger: logger, body)
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
