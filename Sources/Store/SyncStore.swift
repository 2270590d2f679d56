import Foundation
import ServiceLifecycle

/// Everything the stateless workers remember between messages: team settings, Salesforce connections, account
/// links, per-object sync state, the ledger of Salesforce writes and cross-worker claims.
///
/// Every operation is atomic on its own and safe when several worker processes use the same database at once
/// (PostgreSQL: many hosts; SQLite: several processes on one host). Implementations: ``SQLiteStore`` and
/// ``PostgresStore``; open one from a URL with ``openStore(url:encryptionKey:timeout:logger:)``.
///
/// A store is a `Service`: run it in the process's `ServiceGroup` next to the broker connections and the HTTP
/// client, and graceful shutdown (or cancellation) closes it once the services after it in the group have stopped.
/// A caller without a group (a CLI command, a test) uses it as it is and calls ``close()`` when done.
public protocol SyncStore: Service {
    // MARK: Team settings

    /// The team's settings document (JSON, opaque to the store), or `nil` when the team has none.
    func teamSettings(teamID: String) async throws -> StoredTeamSettings?
    /// Replaces the team's settings document; `json` must be valid JSON.
    func saveTeamSettings(teamID: String, json: Data) async throws

    // MARK: Salesforce connections

    /// The team's Salesforce connection with its refresh token decrypted (`nil` for a client-credentials
    /// connection), or `nil` when the team is not connected.
    ///
    /// Throws ``StoreError/Code/decryptionFailed`` when the stored token does not decrypt with the configured key.
    func connection(teamID: String) async throws -> SalesforceConnection?
    /// Creates or replaces the team's connection (after an OAuth login); clears nothing but what it is given.
    func saveConnection(_ connection: SalesforceConnection) async throws
    /// Replaces the refresh token only when the stored one is still `old` (compare-and-swap), so that two workers
    /// refreshing with rotating tokens cannot clobber each other. Returns whether it replaced the token: `false`
    /// when the team has no connection, or a connection without a refresh token (client-credentials flow).
    func rotateRefreshToken(teamID: String, old: String, new: String) async throws -> Bool
    /// Flags the team's connection as needing a new OAuth login, with a reason shown to its admins.
    /// Returns `false` when the team has no connection.
    @discardableResult
    func markNeedsReauthentication(teamID: String, reason: String) async throws -> Bool
    /// Flags the team's connection as needing a new OAuth login only while its stored refresh token is still
    /// `refreshToken` (the one Salesforce refused; `nil`: a client-credentials connection, which has none), so that a
    /// refusal of a token another worker has already rotated away, or of the previous login, flags nothing.
    /// Returns whether it flagged the connection.
    @discardableResult
    func markNeedsReauthentication(teamID: String, reason: String, refreshToken: String?) async throws -> Bool
    /// The teams whose connection is flagged as needing a new OAuth login, ordered by team id: one plain query that
    /// decrypts nothing, cheap enough for a gauge refreshed every few seconds.
    func teamsNeedingLogin() async throws -> [TeamNeedingLogin]

    // MARK: The shared Salesforce session

    /// Stores the session a token refresh produced (the newest access token and its instance URL, shared by every
    /// worker of the fleet, sealed like the refresh token) together with the refresh token the org rotated to
    /// (`rotatedTo`; `nil` when it did not rotate), in one atomic write, and only while the stored refresh token is
    /// still `refreshedWith` (the one the refresh used; `nil` for a client-credentials connection, which has none).
    /// Returns whether it stored: `false` when the team has no connection or its refresh token changed meanwhile
    /// (a new login).
    func saveSession(
        teamID: String, _ session: SalesforceSession, refreshedWith: String?, rotatedTo: String?
    ) async throws -> Bool

    // MARK: Account links

    /// The Salesforce Account id linked to a DocSend account, if any.
    func accountLink(teamID: String, docSendAccountID: String) async throws -> String?
    /// Links (or re-links) a DocSend account to a Salesforce Account id.
    func saveAccountLink(teamID: String, docSendAccountID: String, salesforceAccountID: String) async throws

    // MARK: Sync state

    /// A DocSend object's sync state and version, or `nil` when nothing was saved for it yet. Each kind has its
    /// own ids: the same `objectID` under two kinds names two objects.
    func loadState(teamID: String, kind: SyncObjectKind, objectID: String) async throws -> StateRecord?
    /// Saves a DocSend object's sync state (valid JSON) when its stored version is still `expectedVersion`
    /// (`nil`: no state may exist for it yet) and returns the new version, 1 for the first save. Throws
    /// ``StoreError/Code/versionConflict`` when someone saved first.
    func saveState(
        teamID: String,
        kind: SyncObjectKind,
        objectID: String,
        state: Data,
        expectedVersion: Int64?
    ) async throws -> Int64

    // MARK: Ledger of Salesforce writes

    /// The Salesforce object written for a DocSend object, if any.
    func ledgerEntry(teamID: String, kind: SyncObjectKind, objectID: String) async throws -> LedgerEntry?
    /// Records the Salesforce object written for a DocSend object unless one is already recorded, and returns the
    /// entry that is stored: the caller's when it was first, the earlier one otherwise. Two workers racing on the
    /// same visit both get the same Task id back.
    func recordLedgerEntry(
        teamID: String,
        kind: SyncObjectKind,
        objectID: String,
        salesforceType: String,
        salesforceID: String
    ) async throws -> LedgerEntry
    /// Records `salesforceID` for a DocSend object whose recorded object was `replacing` (a Task a sales rep
    /// deleted, written again), or that has none, and returns the entry that is stored: the caller's when it
    /// replaced or inserted, the stored one otherwise (another worker already recorded the object written again).
    func replaceLedgerEntry(
        teamID: String,
        kind: SyncObjectKind,
        objectID: String,
        salesforceType: String,
        salesforceID: String,
        replacing: String
    ) async throws -> LedgerEntry

    // MARK: Administration (the admin service)

    /// Removes the team's connection (after its refresh token was revoked); returns whether there was one. The
    /// team's settings, ledger and links stay (``clearOrgState(teamID:)`` removes the org-specific ones).
    @discardableResult
    func deleteConnection(teamID: String) async throws -> Bool
    /// Removes what belongs to the team's current org, in one transaction: its ledger, account links, sync states
    /// and the shared session of its connection (the connection itself and the settings stay).
    @discardableResult
    func clearOrgState(teamID: String) async throws -> ClearedOrgState
    /// The team's account links, ordered by DocSend account id.
    func accountLinks(teamID: String) async throws -> [AccountLink]
    /// Removes an account link; returns whether there was one.
    @discardableResult
    func deleteAccountLink(teamID: String, docSendAccountID: String) async throws -> Bool
    /// The team's ledger entries, newest first, at most `limit`.
    func recentLedgerEntries(teamID: String, limit: Int) async throws -> [LedgerEntry]
    /// Records a change (who, what, when); the store sets its id and time.
    func recordAudit(_ entry: AuditEntry) async throws
    /// The team's audit entries, newest first, at most `limit`.
    func auditEntries(teamID: String, limit: Int) async throws -> [AuditEntry]
    /// Stores a step of an OAuth login in progress (the secret sealed, the id as a keyed digest); forgets steps
    /// expired for more than an hour.
    func saveOAuthFlow(_ flow: OAuthFlow) async throws
    /// Removes and returns the step with this id, expired or not (the caller says which), in one statement: a
    /// second take of the same id gets `nil`, whichever process asks.
    func takeOAuthFlow(id: String) async throws -> OAuthFlow?
    /// The org the team's org-specific state belongs to, if known.
    func teamOrg(teamID: String) async throws -> TeamOrg?
    /// Creates or replaces the team's org.
    func saveTeamOrg(_ org: TeamOrg) async throws

    // MARK: Org pauses

    /// Records (or moves the end of) `pause`, one per team and process.
    func saveOrgPause(_ pause: OrgPause) async throws
    /// Removes `process`'s pause of the team (it resumed the org).
    func deleteOrgPause(teamID: String, process: String) async throws
    /// The pauses not yet over, by team.
    func orgPauses() async throws -> [OrgPause]

    // MARK: Retention (the workers' pruning passes)

    /// Removes at most `limit` sync states of `kinds` (any team) not saved for `age` or longer, oldest first, and
    /// returns how many it removed. Several processes pruning at once neither wait for one another nor remove a row
    /// twice (PostgreSQL skips rows another pass has locked; SQLite writes one at a time), and a state saved again
    /// meanwhile is kept.
    func pruneStates(kinds: [SyncObjectKind], unchangedFor age: Duration, limit: Int) async throws -> Int
    /// Removes at most `limit` ledger entries (any team, any kind) recorded `age` ago or earlier, oldest first;
    /// returns how many. Concurrent passes as for ``pruneStates(kinds:unchangedFor:limit:)``.
    func pruneLedger(olderThan age: Duration, limit: Int) async throws -> Int
    /// Removes at most `limit` leases that expired `age` ago or earlier (a lease left by a process that died holding
    /// it); returns how many. An expired lease already counts as free, so removing it changes no outcome.
    func pruneClaims(expiredFor age: Duration, limit: Int) async throws -> Int

    // MARK: Erasure (`docsend-sync team forget`)

    /// The team's sync states whose JSON text contains `text` (ASCII letters compared ignoring case; characters a
    /// JSON encoder may escape, and any non-ASCII character, match anything: the caller checks each state it gets),
    /// ordered by kind then object id, at most `limit` of them after `cursor` (`nil`: from the start).
    func statesContaining(teamID: String, text: String, after cursor: StateKey?, limit: Int) async throws -> [ObjectState]
    /// Removes an object's sync state while its version is still `expectedVersion`; returns whether it did
    /// (`false`: it is gone, or a worker saved it meanwhile: reload and decide again).
    func deleteState(teamID: String, kind: SyncObjectKind, objectID: String, expectedVersion: Int64) async throws -> Bool
    /// Removes a ledger entry; returns whether there was one.
    @discardableResult
    func deleteLedgerEntry(teamID: String, kind: SyncObjectKind, objectID: String) async throws -> Bool
    /// Removes a lease whoever holds it (its key names a person); returns whether there was one.
    @discardableResult
    func deleteClaim(key: String) async throws -> Bool

    // MARK: Claims

    /// Takes (or renews) a lease on `key` for `owner` for `ttl`; `true` when `owner` holds it now. A lease held by
    /// another owner is only taken over once it has expired.
    func claim(key: String, owner: String, ttl: Duration) async throws -> Bool
    /// Gives up `owner`'s lease on `key`; returns whether `owner` held it.
    @discardableResult
    func release(key: String, owner: String) async throws -> Bool

    // MARK: Lifecycle

    /// Serves until graceful shutdown is triggered, the task is cancelled or ``close()`` is called, then closes
    /// the store (`Service`). PostgreSQL runs its connection pool here; SQLite only waits.
    func run() async throws

    /// Closes the database connections (and ends ``run()``); later calls throw ``StoreError/Code/closed``.
    /// Calling it again does nothing.
    func close() async throws
}

/// A team's settings document as stored.
public struct StoredTeamSettings: Sendable, Equatable {
    /// The settings, as JSON (the shape belongs to SyncCore).
    public var json: Data
    /// When they were last saved.
    public var updatedAt: Date

    /// Creates a value.
    public init(json: Data, updatedAt: Date) {
        self.json = json
        self.updatedAt = updatedAt
    }
}

/// A team's connection to its Salesforce org. Its descriptions never show the refresh token.
public struct SalesforceConnection: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The DocSend team.
    public var teamID: String
    /// The org's instance URL (REST calls go there).
    public var instanceURL: String
    /// The login URL that issued the tokens (token refreshes go there).
    public var loginURL: String
    /// The connected app's client id.
    public var clientID: String
    /// The OAuth refresh token (encrypted at rest); `nil` for a connection made with the OAuth client-credentials
    /// flow, which has no refresh token (a worker requests a new access token with the client's credentials).
    public var refreshToken: String?
    /// Whether an admin must log in again (refresh token revoked or expired, client credentials refused).
    public var needsReauthentication: Bool
    /// Why, when ``needsReauthentication`` is set.
    public var reauthenticationReason: String?
    /// When the connection was last changed (set by the store; ignored on save).
    public var updatedAt: Date?
    /// The newest access token a worker obtained for the org, shared by the fleet (``SyncStore/saveSession(teamID:_:refreshedWith:rotatedTo:)``);
    /// `nil` before the first refresh. Saving a connection (a new login) stores this value too: usually `nil`,
    /// which forgets the previous login's session.
    public var session: SalesforceSession?
    /// The Salesforce User who authorized the connection (the admin who logged in; the end of the token response's
    /// identity URL, `…/id/<orgId>/<userId>`): follow-up Tasks whose link owner has no User are assigned to them.
    /// `nil` for connections stored before it was recorded, until the next login.
    public var connectedUserID: String?

    /// Creates a value.
    public init(
        teamID: String,
        instanceURL: String,
        loginURL: String,
        clientID: String,
        refreshToken: String?,
        needsReauthentication: Bool = false,
        reauthenticationReason: String? = nil,
        updatedAt: Date? = nil,
        session: SalesforceSession? = nil,
        connectedUserID: String? = nil
    ) {
        self.teamID = teamID
        self.instanceURL = instanceURL
        self.loginURL = loginURL
        self.clientID = clientID
        self.refreshToken = refreshToken
        self.needsReauthentication = needsReauthentication
        self.reauthenticationReason = reauthenticationReason
        self.updatedAt = updatedAt
        self.session = session
        self.connectedUserID = connectedUserID
    }

    public var description: String {
        "SalesforceConnection(teamID: \(self.teamID), instanceURL: \(self.instanceURL), loginURL: \(self.loginURL), "
            + "clientID: \(self.clientID), refreshToken: \(self.refreshToken == nil ? "nil" : "<redacted>"), "
            + "needsReauthentication: \(self.needsReauthentication), session: \(self.session.map(\.description) ?? "nil"), "
            + "connectedUserID: \(self.connectedUserID ?? "nil"))"
    }

    public var debugDescription: String { self.description }
}

/// A team whose Salesforce connection needs a new OAuth login (``SyncStore/teamsNeedingLogin()``).
public struct TeamNeedingLogin: Sendable, Equatable {
    /// The DocSend team.
    public var teamID: String
    /// Why, as the worker that flagged the connection said it (`nil` when none was recorded).
    public var reason: String?
    /// When the connection last changed: the moment it was flagged, unless it was flagged again since.
    public var since: Date

    /// Creates a value.
    public init(teamID: String, reason: String?, since: Date) {
        self.teamID = teamID
        self.reason = reason
        self.since = since
    }
}

/// A Salesforce session shared by the workers of a fleet: an access token and the instance it is valid for. Its
/// descriptions never show the token.
public struct SalesforceSession: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The bearer token (encrypted at rest).
    public var accessToken: String
    /// The org's instance URL, as the token response named it.
    public var instanceURL: String
    /// When it was stored (set by the store; ignored on save).
    public var updatedAt: Date?

    /// Creates a value.
    public init(accessToken: String, instanceURL: String, updatedAt: Date? = nil) {
        self.accessToken = accessToken
        self.instanceURL = instanceURL
        self.updatedAt = updatedAt
    }

    public var description: String { "SalesforceSession(instanceURL: \(self.instanceURL), accessToken: <redacted>)" }
    public var debugDescription: String { self.description }
}

/// A DocSend object's opaque sync state (JSON) and its version for optimistic concurrency.
public struct StateRecord: Sendable, Equatable {
    /// The state, as JSON (the shape belongs to the worker that syncs the object).
    public var state: Data
    /// Starts at 1 and grows by one with every save.
    public var version: Int64
    /// When it was last saved.
    public var updatedAt: Date

    /// Creates a value.
    public init(state: Data, version: Int64, updatedAt: Date) {
        self.state = state
        self.version = version
        self.updatedAt = updatedAt
    }
}

/// Names the kind of DocSend object, both for the ledger (which Salesforce object was written for it) and for the
/// sync state (what a worker keeps about it): an object is identified by its team, kind and id.
public struct SyncObjectKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The stored name.
    public var rawValue: String
    /// Creates a kind from its stored name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A visit (ledger: its Task).
    public static let visit = SyncObjectKind(rawValue: "visit")
    /// A document link (ledger: its Task).
    public static let link = SyncObjectKind(rawValue: "link")
    /// A space link (ledger: its Task).
    public static let spaceLink = SyncObjectKind(rawValue: "space_link")
    /// An unmatched visitor email (object id: the lowercased email; ledger: the Lead created for it).
    public static let lead = SyncObjectKind(rawValue: "lead")

    public var description: String { self.rawValue }
}

/// A Salesforce write recorded for a DocSend object.
public struct LedgerEntry: Sendable, Equatable {
    /// The DocSend team.
    public var teamID: String
    /// The kind of DocSend object.
    public var kind: SyncObjectKind
    /// The DocSend object's id.
    public var objectID: String
    /// The Salesforce object type (`Task`, `Lead`, ...).
    public var salesforceType: String
    /// The Salesforce object id.
    public var salesforceID: String
    /// When the entry was recorded.
    public var createdAt: Date

    /// Creates a value.
    public init(
        teamID: String,
        kind: SyncObjectKind,
        objectID: String,
        salesforceType: String,
        salesforceID: String,
        createdAt: Date
    ) {
        self.teamID = teamID
        self.kind = kind
        self.objectID = objectID
        self.salesforceType = salesforceType
        self.salesforceID = salesforceID
        self.createdAt = createdAt
    }
}

extension Data {
    /// Checks that stored documents are JSON, so that a bad write fails at the writer rather than at a reader.
    func validatedJSON(_ what: String) throws -> String {
        guard (try? JSONSerialization.jsonObject(with: self, options: [.fragmentsAllowed])) != nil,
            let text = String(data: self, encoding: .utf8)
        else {
            throw StoreError(.invalidData, "\(what) is not valid UTF-8 JSON")
        }
        return text
    }
}
