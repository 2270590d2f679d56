import Foundation

// The values of the admin service's part of the store (schema version 5): the audit trail, OAuth flows in progress,
// the org each team's data belongs to, and what a change of org clears.

/// One change made through the admin service: who, when, what. `details` never holds a secret.
public struct AuditEntry: Sendable, Equatable {
    /// Assigned by the store (increasing); `nil` before it is recorded.
    public var id: Int64?
    /// The DocSend team whose settings or connection changed.
    public var teamID: String
    /// Who made the change: `api:<team>` for the DocSend application's token, `session:<id>` for a browser session.
    public var actor: String
    /// What was done, e.g. `settings.update`, `connection.connect`, `connection.disconnect`.
    public var action: String
    /// The details, as JSON (an object).
    public var details: Data
    /// When it was recorded (set by the store; ignored on record).
    public var at: Date?

    /// Creates a value.
    public init(id: Int64? = nil, teamID: String, actor: String, action: String, details: Data, at: Date? = nil) {
        self.id = id
        self.teamID = teamID
        self.actor = actor
        self.action = action
        self.details = details
        self.at = at
    }
}

/// A DocSend account linked to a Salesforce Account.
public struct AccountLink: Sendable, Equatable {
    /// The DocSend account id.
    public var docSendAccountID: String
    /// The Salesforce Account id.
    public var salesforceAccountID: String
    /// When the link was last saved.
    public var updatedAt: Date

    /// Creates a value.
    public init(docSendAccountID: String, salesforceAccountID: String, updatedAt: Date) {
        self.docSendAccountID = docSendAccountID
        self.salesforceAccountID = salesforceAccountID
        self.updatedAt = updatedAt
    }
}

/// A step of an admin's OAuth login that must survive between two HTTP requests, possibly served by two admin
/// processes: the `state` of an authorization in progress (with its PKCE verifier), or a login awaiting the admin's
/// confirmation (with its tokens). Single use: ``SyncStore/takeOAuthFlow(id:)`` removes it.
///
/// Its description never shows the secret. The store keeps only a keyed digest of the id and seals the secret.
public struct OAuthFlow: Sendable, Equatable, CustomStringConvertible {
    /// The random id the browser carries (the OAuth `state`, or a confirmation id).
    public var id: String
    /// The team it is for.
    public var teamID: String
    /// The browser session that started it; only that session may finish it.
    public var sessionID: String
    /// What it is, e.g. `authorize` or `confirm` (the admin service's names).
    public var kind: String
    /// What must stay secret (PKCE verifier, tokens), as the admin service encodes it; sealed at rest.
    public var secret: String
    /// After this, it is refused as expired.
    public var expiresAt: Date

    /// Creates a value.
    public init(id: String, teamID: String, sessionID: String, kind: String, secret: String, expiresAt: Date) {
        self.id = id
        self.teamID = teamID
        self.sessionID = sessionID
        self.kind = kind
        self.secret = secret
        self.expiresAt = expiresAt
    }

    public var description: String {
        "OAuthFlow(teamID: \(teamID), sessionID: \(sessionID), kind: \(kind), secret: <redacted>, expiresAt: \(expiresAt))"
    }
}

/// The Salesforce org a team's org-specific state (ledger, account links, sync state) belongs to, kept when the team
/// disconnects so that a later login to another org is noticed.
public struct TeamOrg: Sendable, Equatable {
    /// The DocSend team.
    public var teamID: String
    /// The org id (`00D…`), from the login's identity.
    public var organizationID: String
    /// The org's instance URL at that login.
    public var instanceURL: String
    /// The Salesforce user who logged in, when known.
    public var username: String?
    /// When it was last saved (set by the store; ignored on save).
    public var updatedAt: Date?

    /// Creates a value.
    public init(teamID: String, organizationID: String, instanceURL: String, username: String?, updatedAt: Date? = nil) {
        self.teamID = teamID
        self.organizationID = organizationID
        self.instanceURL = instanceURL
        self.username = username
        self.updatedAt = updatedAt
    }
}

/// How many rows ``SyncStore/clearOrgState(teamID:)`` removed, per kind.
public struct ClearedOrgState: Sendable, Equatable {
    public var ledgerEntries: Int
    public var accountLinks: Int
    public var syncStates: Int
    /// Whether a shared Salesforce session was forgotten.
    public var session: Bool

    /// Creates a value.
    public init(ledgerEntries: Int, accountLinks: Int, syncStates: Int, session: Bool) {
        self.ledgerEntries = ledgerEntries
        self.accountLinks = accountLinks
        self.syncStates = syncStates
        self.session = session
    }
}

/// An org a worker process paused (its API budget spent to the reserve, or its Salesforce failing), for
/// `docsend-sync status`.
public struct OrgPause: Sendable, Equatable {
    /// The DocSend team.
    public var teamID: String
    /// The process that paused it (host and pid).
    public var process: String
    /// Why: `api_budget` or `circuit_open`.
    public var reason: String
    /// When the pause ends (a probe then resumes the org or pauses it again).
    public var until: Date

    /// Creates a value.
    public init(teamID: String, process: String, reason: String, until: Date) {
        self.teamID = teamID
        self.process = process
        self.reason = reason
        self.until = until
    }
}
