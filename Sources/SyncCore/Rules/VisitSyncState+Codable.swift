import Foundation

// The store keeps a visit's state as JSON. The contract's `VisitStarted` is not `Codable` itself (its wire form
// belongs to `Event`), so the state encodes it through a private mirror.
extension VisitSyncState: Codable {
    private enum CodingKeys: String, CodingKey {
        case visitID = "visit_id"
        case started, latest
        case lastSynced = "last_synced"
        case syncCount = "sync_count"
        case lastSyncAt = "last_sync_at"
        case pendingTick = "pending_tick"
        case nextTickAt = "next_tick_at"
        case ticksScheduled = "ticks_scheduled"
        case isFinished = "is_finished"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(visitID: try c.decode(String.self, forKey: .visitID))
        started = try c.decodeIfPresent(StartedRecord.self, forKey: .started)?.value
        latest = try c.decodeIfPresent(VisitProgress.self, forKey: .latest)
        lastSynced = try c.decodeIfPresent(SyncedVisitValues.self, forKey: .lastSynced)
        syncCount = try c.decode(Int.self, forKey: .syncCount)
        lastSyncAt = try c.decodeIfPresent(Date.self, forKey: .lastSyncAt)
        pendingTick = try c.decodeIfPresent(Int.self, forKey: .pendingTick)
        nextTickAt = try c.decodeIfPresent(Date.self, forKey: .nextTickAt)
        ticksScheduled = try c.decode(Int.self, forKey: .ticksScheduled)
        isFinished = try c.decode(Bool.self, forKey: .isFinished)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(visitID, forKey: .visitID)
        try c.encodeIfPresent(started.map(StartedRecord.init), forKey: .started)
        try c.encodeIfPresent(latest, forKey: .latest)
        try c.encodeIfPresent(lastSynced, forKey: .lastSynced)
        try c.encode(syncCount, forKey: .syncCount)
        try c.encodeIfPresent(lastSyncAt, forKey: .lastSyncAt)
        try c.encodeIfPresent(pendingTick, forKey: .pendingTick)
        try c.encodeIfPresent(nextTickAt, forKey: .nextTickAt)
        try c.encode(ticksScheduled, forKey: .ticksScheduled)
        try c.encode(isFinished, forKey: .isFinished)
    }
}

private struct StartedRecord: Codable {
    struct Named: Codable {
        var id: String
        var name: String
        var url: String?
        var salesforceAccountID: String?
    }
    var visitID: String
    var linkID: String
    var linkOwnerEmail: String
    var document: Named
    var account: Named?
    var visitorEmail: String?
    var visitorName: String?
    var analyticsURL: String
    var startedAt: Date

    init(_ started: VisitStarted) {
        visitID = started.visitID
        linkID = started.linkID
        linkOwnerEmail = started.linkOwnerEmail
        document = Named(id: started.document.id, name: started.document.name, url: started.document.url)
        account = started.account.map {
            Named(id: $0.id, name: $0.name, salesforceAccountID: $0.salesforceAccountID)
        }
        visitorEmail = started.visitor.email
        visitorName = started.visitor.name
        analyticsURL = started.analyticsURL
        startedAt = started.startedAt
    }

    var value: VisitStarted {
        VisitStarted(
            visitID: visitID, linkID: linkID, linkOwnerEmail: linkOwnerEmail,
            document: DocumentInfo(id: document.id, name: document.name, url: document.url ?? ""),
            account: account.map { AccountInfo(id: $0.id, name: $0.name, salesforceAccountID: $0.salesforceAccountID) },
            visitor: VisitorInfo(email: visitorEmail, name: visitorName), analyticsURL: analyticsURL,
            startedAt: startedAt)
    }
}
