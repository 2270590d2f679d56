import Foundation

/// One DocSend activity event: the envelope (`id`, `type`, `version`, `occurred_at`, `team_id`) and its `data`.
///
/// Decode untrusted bytes with ``decode(from:)``, which checks the whole contract and reports the first
/// ``ContractViolation`` by field path; encode with ``encoded()``. The `Codable` conformance uses the same
/// wire format and the same checks, so an `Event` can be embedded in other `Codable` values.
public struct Event: Sendable, Hashable {
    /// Unique per event; the idempotency key (and the AMQP `message_id`).
    public var id: String
    /// When the activity happened (`occurred_at`).
    public var occurredAt: Date
    /// The DocSend team the activity belongs to (`team_id`).
    public var teamID: String
    /// The event's `data`, by type.
    public var payload: Payload

    /// The event's type, derived from its payload.
    public var type: EventType { payload.type }

    /// The envelope version this event is written with: always ``EventContract/version``.
    public var version: Int { EventContract.version }

    /// Creates an event.
    public init(id: String, occurredAt: Date, teamID: String, payload: Payload) {
        self.id = id
        self.occurredAt = occurredAt
        self.teamID = teamID
        self.payload = payload
    }

    /// The `data` of an event, one case per ``EventType``.
    public enum Payload: Sendable, Hashable {
        /// `visit.started`
        case visitStarted(VisitStarted)
        /// `visit.updated`
        case visitUpdated(VisitUpdated)
        /// `link.created`
        case linkCreated(LinkCreated)
        /// `space_link.created`
        case spaceLinkCreated(SpaceLinkCreated)

        /// The event type this payload is carried by.
        public var type: EventType {
            switch self {
            case .visitStarted: .visitStarted
            case .visitUpdated: .visitUpdated
            case .linkCreated: .linkCreated
            case .spaceLinkCreated: .spaceLinkCreated
            }
        }
    }
}

/// A DocSend document (`document {id, name, url}`).
public struct DocumentInfo: Sendable, Hashable {
    /// `id`
    public var id: String
    /// `name`, free text (may be empty).
    public var name: String
    /// `url`, an absolute http(s) URL.
    public var url: String

    /// Creates a document reference.
    public init(id: String, name: String, url: String) {
        self.id = id
        self.name = name
        self.url = url
    }
}

/// A DocSend account, the company a link is shared with (`account {id, name, salesforce_account_id?}`).
public struct AccountInfo: Sendable, Hashable {
    /// `id`, the DocSend account id.
    public var id: String
    /// `name`, free text (may be empty).
    public var name: String
    /// `salesforce_account_id`, the linked Salesforce Account, if any.
    public var salesforceAccountID: String?

    /// Creates an account reference.
    public init(id: String, name: String, salesforceAccountID: String? = nil) {
        self.id = id
        self.name = name
        self.salesforceAccountID = salesforceAccountID
    }
}

/// Who visited (`visitor {email?, name?}`).
///
/// Both fields are typed by the visitor: attacker-controlled free text, kept as given (not validated as an
/// email), only bounded in length and free of control characters. An empty `email` means no email.
public struct VisitorInfo: Sendable, Hashable {
    /// `email`, as typed by the visitor; `nil` when none was given.
    public var email: String?
    /// `name`, as typed by the visitor.
    public var name: String?

    /// Creates a visitor.
    public init(email: String? = nil, name: String? = nil) {
        self.email = email
        self.name = name
    }
}

/// A DocSend space, a set of documents shared by one link (`space {id, name, url}`).
public struct SpaceInfo: Sendable, Hashable {
    /// `id`
    public var id: String
    /// `name`, free text (may be empty).
    public var name: String
    /// `url`, an absolute http(s) URL.
    public var url: String

    /// Creates a space reference.
    public init(id: String, name: String, url: String) {
        self.id = id
        self.name = name
        self.url = url
    }
}

/// `visit.started`: a visitor opened a link.
public struct VisitStarted: Sendable, Hashable {
    /// `visit_id`
    public var visitID: String
    /// `link_id`, the link (or space link) that was opened.
    public var linkID: String
    /// `link_owner_email`, the DocSend user who owns the link.
    public var linkOwnerEmail: String
    /// `document`
    public var document: DocumentInfo
    /// `account`, the DocSend account the link belongs to, if any.
    public var account: AccountInfo?
    /// `visitor`
    public var visitor: VisitorInfo
    /// `analytics_url`, the visit's full analytics.
    public var analyticsURL: String
    /// `started_at`
    public var startedAt: Date

    /// Creates a `visit.started` payload.
    public init(
        visitID: String, linkID: String, linkOwnerEmail: String, document: DocumentInfo, account: AccountInfo?,
        visitor: VisitorInfo, analyticsURL: String, startedAt: Date
    ) {
        self.visitID = visitID
        self.linkID = linkID
        self.linkOwnerEmail = linkOwnerEmail
        self.document = document
        self.account = account
        self.visitor = visitor
        self.analyticsURL = analyticsURL
        self.startedAt = startedAt
    }
}

/// `visit.updated`: a visit progressed or ended. May arrive before its `visit.started`.
public struct VisitUpdated: Sendable, Hashable {
    /// `visit_id`
    public var visitID: String
    /// `duration_seconds`, an integer ≥ 0.
    public var durationSeconds: Int
    /// `percent_viewed`, a number in 0…100.
    public var percentViewed: Double
    /// `last_activity_at`
    public var lastActivityAt: Date
    /// `ended`: the visitor closed the document.
    public var ended: Bool

    /// Creates a `visit.updated` payload.
    public init(visitID: String, durationSeconds: Int, percentViewed: Double, lastActivityAt: Date, ended: Bool) {
        self.visitID = visitID
        self.durationSeconds = durationSeconds
        self.percentViewed = percentViewed
        self.lastActivityAt = lastActivityAt
        self.ended = ended
    }
}

/// `link.created`: a document link was created.
public struct LinkCreated: Sendable, Hashable {
    /// `link_id`
    public var linkID: String
    /// `link_name`, if the creator named the link.
    public var linkName: String?
    /// `creator_email`, the DocSend user who created the link.
    public var creatorEmail: String
    /// `document`
    public var document: DocumentInfo
    /// `account`, the DocSend account the link belongs to, if any.
    public var account: AccountInfo?
    /// `internal_url`, the link's page in DocSend.
    public var internalURL: String
    /// `external_url`, the URL visitors open.
    public var externalURL: String
    /// `created_at`
    public var createdAt: Date

    /// Creates a `link.created` payload.
    public init(
        linkID: String, linkName: String?, creatorEmail: String, document: DocumentInfo, account: AccountInfo?,
        internalURL: String, externalURL: String, createdAt: Date
    ) {
        self.linkID = linkID
        self.linkName = linkName
        self.creatorEmail = creatorEmail
        self.document = document
        self.account = account
        self.internalURL = internalURL
        self.externalURL = externalURL
        self.createdAt = createdAt
    }
}

/// `space_link.created`: a space link was created.
public struct SpaceLinkCreated: Sendable, Hashable {
    /// `space_link_id`
    public var spaceLinkID: String
    /// `creator_email`, the DocSend user who created the space link.
    public var creatorEmail: String
    /// `space`
    public var space: SpaceInfo
    /// `account`, the DocSend account the space link belongs to, if any.
    public var account: AccountInfo?
    /// `internal_url`, the space link's page in DocSend.
    public var internalURL: String
    /// `created_at`
    public var createdAt: Date

    /// Creates a `space_link.created` payload.
    public init(
        spaceLinkID: String, creatorEmail: String, space: SpaceInfo, account: AccountInfo?, internalURL: String,
        createdAt: Date
    ) {
        self.spaceLinkID = spaceLinkID
        self.creatorEmail = creatorEmail
        self.space = space
        self.account = account
        self.internalURL = internalURL
        self.createdAt = createdAt
    }
}
