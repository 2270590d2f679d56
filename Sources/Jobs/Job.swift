import Foundation
import SyncCore

/// Every message the fleet handles, typed: the four public events of the contract, and the four messages the
/// workers send each other.
///
/// | job | name (AMQP `type`) | goes to | when |
/// |---|---|---|---|
/// | ``event(_:)`` | `visit.started`, `visit.updated`, `link.created`, `space_link.created` | roles that consume it | published by DocSend |
/// | ``visitResync(_:)`` | `docsend-sync.visit.resync` | visits | after the re-sync interval |
/// | ``leadRequest(_:)`` | `docsend-sync.lead.request` | leads | at once |
/// | ``leadReady(_:)`` | `docsend-sync.visit.lead-ready` | visits | at once |
/// | ``linkRefresh(_:)`` | `docsend-sync.link.refresh` | links | after the visitor-refresh delay |
///
/// ``JobCoding`` is the one encoding of each.
public enum Job: Sendable, Hashable {
    case event(Event)
    case visitResync(VisitResyncTick)
    case leadRequest(LeadRequest)
    case leadReady(LeadReady)
    case linkRefresh(LinkVisitorRefresh)

    /// The team the job is about.
    public var teamID: String {
        switch self {
        case .event(let event): event.teamID
        case .visitResync(let tick): tick.teamID
        case .leadRequest(let request): request.teamID
        case .leadReady(let ready): ready.teamID
        case .linkRefresh(let refresh): refresh.teamID
        }
    }

    /// The job's name: the event type, or the internal message's type (its AMQP `type` property).
    public var name: String {
        switch self {
        case .event(let event): event.type.rawValue
        case .visitResync: JobName.visitResync
        case .leadRequest: JobName.leadRequest
        case .leadReady: JobName.leadReady
        case .linkRefresh: JobName.linkRefresh
        }
    }

    /// Where an internal job goes, and after which delay; `nil` for a public event (it goes to every role whose
    /// ``WorkerRole/eventBindings`` match its type).
    public var destination: (role: WorkerRole, delay: JobDelay)? {
        switch self {
        case .event: nil
        case .visitResync: (.visits, .resync)
        case .leadRequest: (.leads, .none)
        case .leadReady: (.visits, .none)
        case .linkRefresh: (.links, .visitorRefresh)
        }
    }

    /// A stable id for tracing duplicates (the AMQP `message_id`): the same follow-up sent twice has the same id.
    public var messageID: String {
        switch self {
        case .event(let event): event.id
        case .visitResync(let tick): "resync:\(tick.teamID):\(tick.visitID):\(tick.sequence)"
        case .leadRequest(let request): "lead-request:\(request.teamID):\(request.visitID)"
        case .leadReady(let ready): "lead-ready:\(ready.teamID):\(ready.visitID)"
        case .linkRefresh(let refresh): "link-refresh:\(refresh.teamID):\(refresh.linkID):\(refresh.token)"
        }
    }
}

/// The names of the internal jobs (their AMQP `type`).
public enum JobName {
    public static let visitResync = "docsend-sync.visit.resync"
    public static let leadRequest = "docsend-sync.lead.request"
    public static let leadReady = "docsend-sync.visit.lead-ready"
    public static let linkRefresh = "docsend-sync.link.refresh"

    /// Every internal name: a producer may not send these through the public exchange.
    public static let internalNames: Set<String> = [visitResync, leadRequest, leadReady, linkRefresh]

    /// Every name a job may have: the contract's event types and the internal names.
    public static let allNames: Set<String> = internalNames.union(EventType.allCases.map(\.rawValue))
}

/// When a follow-up job is delivered.
public enum JobDelay: Sendable, Hashable {
    /// At once.
    case none
    /// After the visit re-sync interval (`topology.resyncInterval`).
    case resync
    /// After the link visitor-refresh delay (`topology.visitorRefreshDelay`).
    case visitorRefresh
}

/// Re-sync tick `sequence` of a visit (``VisitSyncState/pendingTick``).
public struct VisitResyncTick: Codable, Sendable, Hashable {
    public var teamID: String
    public var visitID: String
    public var sequence: Int

    public init(teamID: String, visitID: String, sequence: Int) {
        self.teamID = teamID
        self.visitID = visitID
        self.sequence = sequence
    }

    enum CodingKeys: String, CodingKey {
        case teamID = "team_id", visitID = "visit_id", sequence
    }
}

/// A request to find or create the Lead of an unmatched visitor, then put the visit's Task on it. It carries
/// what the Lead is made from (``LeadDraft/make(visitor:accountName:)``), so the lead worker applies the same rules.
public struct LeadRequest: Codable, Sendable, Hashable {
    public var teamID: String
    public var visitID: String
    public var visitorEmail: String
    public var visitorName: String?
    public var accountName: String?
    public var ownerID: String?

    public init(
        teamID: String, visitID: String, visitorEmail: String, visitorName: String?, accountName: String?,
        ownerID: String?
    ) {
        self.teamID = teamID
        self.visitID = visitID
        self.visitorEmail = visitorEmail
        self.visitorName = visitorName
        self.accountName = accountName
        self.ownerID = ownerID
    }

    enum CodingKeys: String, CodingKey {
        case teamID = "team_id", visitID = "visit_id", visitorEmail = "visitor_email", visitorName = "visitor_name"
        case accountName = "account_name", ownerID = "owner_id"
    }

    public var visitor: VisitorInfo { VisitorInfo(email: visitorEmail, name: visitorName) }
}

/// The Lead (or, when someone created one meanwhile, the Contact) an unmatched visitor now has; or none, when the
/// team turned *create new leads* off before the request was handled (the visit is then routed again under the
/// current settings).
public struct LeadReady: Codable, Sendable, Hashable {
    public var teamID: String
    public var visitID: String
    /// `nil`: no Lead was made (the option is off now).
    public var personID: String?
    public var personKind: SalesforcePerson.Kind?

    public init(teamID: String, visitID: String, personID: String?, personKind: SalesforcePerson.Kind?) {
        self.teamID = teamID
        self.visitID = visitID
        self.personID = personID
        self.personKind = personKind
    }

    enum CodingKeys: String, CodingKey {
        case teamID = "team_id", visitID = "visit_id", personID = "person_id", personKind = "person_kind"
    }
}

/// Time to write the visitors gathered for a link onto its Task.
public struct LinkVisitorRefresh: Codable, Sendable, Hashable {
    public var teamID: String
    public var linkID: String
    /// Which scheduled refresh this is: a refresh whose token the link no longer awaits is ignored.
    public var token: String

    public init(teamID: String, linkID: String, token: String) {
        self.teamID = teamID
        self.linkID = linkID
        self.token = token
    }

    enum CodingKeys: String, CodingKey {
        case teamID = "team_id", linkID = "link_id", token
    }
}
