import Foundation
import HTTP
import Logging
import Salesforce
import Store
import SyncCore
import Synchronization

/// The connected app the fleet uses for every team's org (the per-team parts, instance and login URL and
/// refresh token, come from the store).
public struct SalesforceAppSettings: Sendable {
    /// The OAuth host `team connect` uses when none is given: `https://login.salesforce.com`, a My Domain URL,
    /// or the sandbox's base URL.
    public var loginURL: String
    /// The connected app's consumer key.
    public var clientID: String?
    /// The consumer secret.
    public var clientSecret: String?
    /// The pinned REST API version.
    public var apiVersion: String
    /// The limit for one HTTP exchange with Salesforce.
    public var requestTimeout: Duration
    /// Concurrent REST requests per org and process.
    public var maxRequestsInFlight: Int

    /// Creates settings; the defaults are Salesforce's production login and the client's defaults.
    public init(
        loginURL: String = "https://login.salesforce.com", clientID: String? = nil, clientSecret: String? = nil,
        apiVersion: String = "v62.0", requestTimeout: Duration = .seconds(30), maxRequestsInFlight: Int = 10
    ) {
        self.loginURL = loginURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.apiVersion = apiVersion
        self.requestTimeout = requestTimeout
        self.maxRequestsInFlight = maxRequestsInFlight
    }
}

/// One team's org as a handler uses it: a signed-in client, the team's settings and what the org is set up with.
struct TeamOrg: Sendable {
    let teamID: String
    let client: SalesforceClient
    let settings: TeamSettings
    let metadata: OrgMetadata
    let orgs: TeamOrgs

    /// The Task context for a Task on `relations`.
    func taskContext(_ relations: TaskRelations, _ disposition: TaskDisposition, ownerID: String?) -> TaskContext {
        TaskContext(
            relations: relations, disposition: disposition, ownerID: ownerID, statuses: metadata.statuses,
            mapping: metadata.mapping, externalIDFields: settings.externalIDFields)
    }
}

/// What the workers need to know of an org's set-up: Task statuses and the field mapping checked against the
/// Task's fields.
struct OrgMetadata: Sendable {
    var statuses: [TaskStatusRecord]
    var mapping: ResolvedFieldMapping
}

/// Every team's Salesforce client, settings and org metadata, shared by the handlers of one process.
///
/// - Clients are made from the team's stored connection and kept. Their session is the fleet's
///   (``StoreSessionStore``): the newest access token lives in the store, one process at a time refreshes it under
///   the `refresh:<team>` lease, and the rotated refresh token is stored with the new access token in one write.
/// - A connection flagged as needing a new login fails fast. A refusal from Salesforce flags it only while the
///   refresh token it refused is still the stored one: a token another process rotated away is no reason for a
///   new login.
/// - Settings are read from the store on every message (an admin's change applies at once); Task statuses and
///   the Task's fields are cached for ``metadataLifetime``, and forgotten when Salesforce says a field is gone.
public final class TeamOrgs: Sendable {
    private struct Entry {
        var client: SalesforceClient
        var connectionKey: String
        /// The refresh token this process last saw stored (nil: client credentials).
        var refreshToken: TokenBox
        var metadata: (value: OrgMetadata, mapping: FieldMapping, loadedAt: ContinuousClock.Instant)?
        var users: [String: (user: SalesforceUser?, loadedAt: ContinuousClock.Instant)] = [:]
    }

    let store: any SyncStore
    let app: SalesforceAppSettings
    let http: HTTPClient
    let logger: Logger
    let metadataLifetime: Duration
    /// Updates of one object take turns within the process (``updateState``).
    let objectTurns = KeyedTurns()
    /// How many times an update starts over after losing a race with another process.
    static let stateAttempts = 12
    /// Names this process as the holder of a refresh lease.
    let leaseOwner = "\(ProcessInfo.processInfo.processIdentifier)/\(UUID().uuidString)"
    private let entries = Mutex<[String: Entry]>([:])

    /// Orgs over `store`'s connections, through `http`.
    public init(
        store: any SyncStore, app: SalesforceAppSettings, http: HTTPClient, logger: Logger,
        metadataLifetime: Duration = .seconds(300)
    ) {
        self.store = store
        self.app = app
        self.http = http
        self.logger = logger
        self.metadataLifetime = metadataLifetime
    }

    /// The team's settings as stored, or the defaults of a newly connected team.
    func settings(teamID: String) async throws -> TeamSettings {
        guard let stored = try await store.teamSettings(teamID: teamID) else { return TeamSettings() }
        do {
            return try JSONDecoder().decode(TeamSettings.self, from: stored.json)
        } catch {
            throw WorkFailure.permanent(code: "team_settings_invalid", "the settings of team \(teamID) do not decode: \(error)")
        }
    }

    /// The team's org, signed in and described.
    func org(teamID: String, logger: Logger) async throws -> TeamOrg {
        let settings = try await settings(teamID: teamID)
        let client = try await client(teamID: teamID)
        let metadata = try await metadata(teamID: teamID, client: client, settings: settings, logger: logger)
        return TeamOrg(teamID: teamID, client: client, settings: settings, metadata: metadata, orgs: self)
    }

    /// The team's client, made (or re-made) from its stored connection.
    func client(teamID: String) async throws -> SalesforceClient {
        guard let connection = try await store.connection(teamID: teamID) else {
            throw WorkFailure.teamNotConnected(teamID)
        }
        if connection.needsReauthentication {
            throw WorkFailure.needsLogin(teamID, reason: connection.reauthenticationReason)
        }
        let key = [connection.instanceURL, connection.loginURL, connection.clientID].joined(separator: "\n")
        return entries.withLock { entries in
            if let entry = entries[teamID], entry.connectionKey == key {
                let known = entry.refreshToken.value.withLock { $0 }
                if known != connection.refreshToken {
                    // Another process rotated the token, or an admin connected again: forget the cached session (and
                    // a refusal of the old token); the client reads the stored one on its next call.
                    entry.refreshToken.value.withLock { $0 = connection.refreshToken }
                    entry.client.reset()
                }
                return entry.client
            }
            let entry = makeEntry(connection, key: key)
            entries[teamID] = entry
            return entry.client
        }
    }

    private func makeEntry(_ connection: SalesforceConnection, key: String) -> Entry {
        let known = TokenBox(connection.refreshToken)
        let configuration = SalesforceConfiguration(
            loginURL: connection.loginURL, clientID: connection.clientID, clientSecret: app.clientSecret,
            apiVersion: app.apiVersion, requestTimeout: app.requestTimeout,
            maxRequestsInFlight: app.maxRequestsInFlight)
        let sessions = StoreSessionStore(
            teamID: connection.teamID, store: store, owner: leaseOwner, known: known, logger: logger)
        let client = SalesforceClient(
            configuration: configuration, sharing: SalesforceSessionSharing(store: sessions), httpClient: http,
            backgroundActivityLogger: logger)
        return Entry(client: client, connectionKey: key, refreshToken: known)
    }

    /// Records what a Salesforce failure says about the team's connection: a refused refresh flags it for a
    /// new login, a missing field makes the metadata be read again.
    func noteFailure(_ error: any Error, teamID: String) async {
        guard let error = error as? SalesforceError else { return }
        if error.classification == .needsReauthentication {
            // Only while the refresh token this process last saw is still stored: if another process rotated it or
            // an admin connected again meanwhile, the refusal is about a token nobody uses any more.
            let entry = entries.withLock { $0.removeValue(forKey: teamID) }
            guard let entry else { return }
            let refreshToken = entry.refreshToken.value.withLock { $0 }
            let flagged = try? await store.markNeedsReauthentication(
                teamID: teamID, reason: error.description, refreshToken: refreshToken)
            if flagged == true {
                logger.error("the team's Salesforce connection needs a new login", metadata: ["team": "\(teamID)", "error": "\(error)"])
            } else {
                logger.notice(
                    "Salesforce refused a superseded token; the connection stays", metadata: ["team": "\(teamID)", "error": "\(error)"])
            }
        } else if error.code == .invalidField || error.code == .invalidOrNullForRestrictedPicklist {
            entries.withLock { $0[teamID]?.metadata = nil }
        }
    }

    private func metadata(teamID: String, client: SalesforceClient, settings: TeamSettings, logger: Logger)
        async throws -> OrgMetadata
    {
        let now = ContinuousClock.now
        if let cached = entries.withLock({ $0[teamID]?.metadata }), cached.mapping == settings.fieldMapping,
            now - cached.loadedAt < metadataLifetime
        {
            return cached.value
        }
        let statusRows = try await client.query(
            .select(["ApiName", "MasterLabel", "IsClosed", "IsDefault"], from: "TaskStatus"), logger: logger)
        let statuses = statusRows.map { row in
            TaskStatusRecord(
                apiName: row["ApiName"]?.stringValue, masterLabel: row["MasterLabel"]?.stringValue ?? "",
                isClosed: row["IsClosed"]?.boolValue ?? false, isDefault: row["IsDefault"]?.boolValue ?? false)
        }
        let fields = try await client.taskFields(logger: logger)
        var problems = settings.externalIDFields.problems(against: fields)
        var mapping = ResolvedFieldMapping.none
        switch settings.fieldMapping.resolve(against: fields) {
        case .success(let resolved): mapping = resolved
        case .failure(let error): problems += error.problems
        }
        if !problems.isEmpty {
            throw WorkFailure.permanent(
                code: "field_mapping_invalid",
                "team \(teamID)'s Task fields do not fit its settings: "
                    + problems.map(\.description).joined(separator: "; "))
        }
        let metadata = OrgMetadata(statuses: statuses, mapping: mapping)
        entries.withLock { $0[teamID]?.metadata = (metadata, settings.fieldMapping, now) }
        return metadata
    }

    /// The active User with `email` (cached like the metadata): one or none.
    func users(teamID: String, email: String?, client: SalesforceClient, logger: Logger) async throws -> [SalesforceUser] {
        guard let email = Matching.normalizedEmail(email)?.lowercased() else { return [] }
        let now = ContinuousClock.now
        if let cached = entries.withLock({ $0[teamID]?.users[email] }), now - cached.loadedAt < metadataLifetime {
            return cached.user.map { [$0] } ?? []
        }
        let rows = try await client.query(
            .select(["Id", "Email", "IsActive"], from: "User").where(.equals("Email", .string(email))), logger: logger)
        let users = rows.compactMap { row -> SalesforceUser? in
            guard let id = row.id else { return nil }
            return SalesforceUser(
                id: id, email: row["Email"]?.stringValue ?? "", isActive: row["IsActive"]?.boolValue ?? false)
        }
        let chosen = Matching.user(forEmail: email, among: users)
        entries.withLock { $0[teamID]?.users[email] = (chosen, now) }
        return chosen.map { [$0] } ?? []
    }
}

/// The refresh token a process last saw stored, shared between a team's session store and the cache.
final class TokenBox: Sendable {
    let value: Mutex<String?>
    init(_ value: String?) { self.value = Mutex(value) }
}

extension SalesforceClient {
    /// The org's Task fields as the mapping checks see them (`describe`).
    func taskFields(logger: Logger) async throws -> [TaskFieldDescription] {
        try await describe("Task", logger: logger).fields.map {
            TaskFieldDescription(
                name: $0.name, type: $0.type, length: $0.length, custom: $0.custom, createable: $0.createable,
                updateable: $0.updateable)
        }
    }
}

/// One team's Salesforce session in the state store, shared by every worker process (the `SalesforceSessionStore`
/// the team's client renews its session through):
/// - the session is the connection's sealed access token and instance URL (``SyncStore/connection(teamID:)``);
/// - the refresh lease is the claim `refresh:<team>`, held by ``TeamOrgs/leaseOwner``;
/// - a refresh's result is stored with ``SyncStore/saveSession(teamID:_:refreshedWith:rotatedTo:)`` (the new access
///   token and the rotated refresh token in one write, only while the refresh token used is still stored);
/// - a refusal flags the connection with ``SyncStore/markNeedsReauthentication(teamID:reason:refreshToken:)``, only
///   while the refused refresh token is still stored.
struct StoreSessionStore: SalesforceSessionStore {
    let teamID: String
    let store: any SyncStore
    let owner: String
    /// The refresh token last seen stored, kept current so that ``TeamOrgs`` does not take this process's own
    /// rotation for someone else's.
    let known: TokenBox
    let logger: Logger

    var leaseKey: String { "refresh:\(teamID)" }

    func loadSession(logger: Logger) async throws -> StoredSalesforceSession {
        guard let connection = try await store.connection(teamID: teamID) else {
            throw WorkFailure.teamNotConnected(teamID)
        }
        if connection.needsReauthentication {
            throw WorkFailure.needsLogin(teamID, reason: connection.reauthenticationReason)
        }
        known.value.withLock { $0 = connection.refreshToken }
        return StoredSalesforceSession(
            token: connection.session.map { SalesforceToken(accessToken: $0.accessToken, instanceURL: $0.instanceURL) },
            credentials: connection.refreshToken.map { .refreshToken($0) } ?? .clientCredentials)
    }

    func acquireRefreshLease(ttl: Duration, logger: Logger) async throws -> Bool {
        try await store.claim(key: leaseKey, owner: owner, ttl: ttl)
    }

    func releaseRefreshLease(logger: Logger) async throws {
        try await store.release(key: leaseKey, owner: owner)
    }

    func saveRefreshedSession(_ token: SalesforceToken, refreshedWith credentials: SalesforceCredentials, logger: Logger)
        async throws -> Bool
    {
        let used = Self.refreshToken(credentials)
        // A client-credentials connection keeps none, whatever the response carries.
        let rotated = used != nil && token.refreshToken != nil && token.refreshToken != used ? token.refreshToken : nil
        let saved = try await store.saveSession(
            teamID: teamID, SalesforceSession(accessToken: token.accessToken, instanceURL: token.instanceURL),
            refreshedWith: used, rotatedTo: rotated)
        if saved, let rotated {
            known.value.withLock { $0 = rotated }
            logger.debug("stored the org's rotated refresh token", metadata: ["team": "\(teamID)"])
        }
        return saved
    }

    func refreshRefused(_ error: SalesforceError, refreshedWith credentials: SalesforceCredentials, logger: Logger)
        async throws -> Bool
    {
        let flagged = try await store.markNeedsReauthentication(
            teamID: teamID, reason: error.description, refreshToken: Self.refreshToken(credentials))
        if flagged {
            self.logger.error(
                "the team's Salesforce connection needs a new login", metadata: ["team": "\(teamID)", "error": "\(error)"])
        }
        return flagged
    }

    private static func refreshToken(_ credentials: SalesforceCredentials) -> String? {
        if case .refreshToken(let token) = credentials { return token }
        return nil
    }
}
