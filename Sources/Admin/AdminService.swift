import Foundation
import HTTP
import Jobs
import Logging
import Salesforce
import Store
import SyncCore
import Synchronization
import Workers

/// Every operation of the admin service, as plain async functions over values: the JSON API (``AdminServer``) and the
/// settings page call the same ones.
///
/// Each takes the caller (``AdminPrincipal``) and refuses a principal of another team (``AdminError/Code/forbidden``),
/// whatever the transport checked before; every change is recorded in the store's audit trail with the principal's
/// ``AdminPrincipal/actor``. Connecting and settings checks reuse ``TeamAdministration`` (what `docsend-sync team`
/// does), so the CLI and the service apply the same rules.
public struct AdminService: Sendable {
    let store: any SyncStore
    let administration: TeamAdministration
    let app: SalesforceAppSettings
    let clientID: String
    let http: HTTPClient
    let configuration: AdminConfiguration
    let parking: (any AdminParking)?
    let baseURL: AdminBaseURL
    let clock: @Sendable () -> Date
    let logger: Logger

    /// How long an OAuth `state` (and an org-change confirmation) lives.
    public static let flowLifetime: TimeInterval = 600

    /// A service over `store`, reaching Salesforce through `http` with the connected app `app` (whose client id is
    /// required); `parking` reads the parking lot (`nil`: parked messages answer ``AdminError/Code/parkingUnavailable``);
    /// `clock` tells the time (tests move it).
    public init(
        store: any SyncStore, app: SalesforceAppSettings, http: HTTPClient, configuration: AdminConfiguration,
        parking: (any AdminParking)? = nil, baseURL: AdminBaseURL, clock: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) throws {
        guard let clientID = app.clientID, !clientID.isEmpty else {
            throw AdminError(.invalidRequest, "salesforce.clientID is required to connect teams", status: 500)
        }
        self.store = store
        self.app = app
        self.clientID = clientID
        self.http = http
        self.configuration = configuration
        self.parking = parking
        self.baseURL = baseURL
        self.clock = clock
        self.logger = logger
        self.administration = TeamAdministration(store: store, app: app, http: http, logger: logger)
    }

    /// The credentials the service checks (signed with the configuration's key).
    public var credentials: AdminCredentials { AdminCredentials(key: configuration.signingKey) }

    /// The OAuth redirect URI: `<public URL>/oauth/callback`.
    public var redirectURI: String { baseURL.value + "/oauth/callback" }

    /// Refuses a principal of another team.
    func authorize(_ principal: AdminPrincipal, _ teamID: String) throws {
        guard TeamID.isValid(teamID) else { throw AdminError.invalid("not a team id") }
        guard principal.teamID == teamID else { throw AdminError.forbidden() }
    }

    /// Records a change; `details` must be JSON-encodable and never hold a secret.
    func audit(_ principal: AdminPrincipal, teamID: String, _ action: String, _ details: [String: AuditValue]) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try await store.recordAudit(
            AuditEntry(teamID: teamID, actor: principal.actor, action: action, details: try encoder.encode(details)))
        var logger = logger
        logger[metadataKey: "docsend-team"] = "\(teamID)"
        logger.info("admin change", metadata: ["admin-action": "\(action)", "admin-actor": "\(principal.actor)"])
    }

    // MARK: Status

    /// The team's connection and settings.
    public func status(teamID: String, by principal: AdminPrincipal) async throws -> TeamStatus {
        try authorize(principal, teamID)
        let connection = try await store.connection(teamID: teamID)
        let org = try await store.teamOrg(teamID: teamID)
        return TeamStatus(
            teamID: teamID,
            connection: connection.map {
                TeamStatus.Connection(
                    instanceURL: $0.instanceURL, loginURL: $0.loginURL,
                    flow: $0.refreshToken == nil ? "client_credentials" : "refresh_token",
                    needsLogin: $0.needsReauthentication, needsLoginReason: $0.reauthenticationReason,
                    updatedAt: $0.updatedAt, organizationID: org?.organizationID, username: org?.username)
            },
            settings: try await settings(teamID: teamID, by: principal))
    }

    // MARK: Settings

    /// The team's settings (the defaults when it has none yet).
    public func settings(teamID: String, by principal: AdminPrincipal) async throws -> TeamSettings {
        try authorize(principal, teamID)
        return try await mapped { try await administration.settings(teamID: teamID) }
    }

    /// Applies `change`; a time zone that is no IANA name is refused, and a change of the mapping or the external-id
    /// fields is checked against the org's Task fields and refused with every problem, per field
    /// (``AdminError/Code/validationFailed``).
    public func updateSettings(teamID: String, _ change: SettingsChange, by principal: AdminPrincipal) async throws
        -> TeamSettings
    {
        try authorize(principal, teamID)
        guard change.problems.isEmpty else {
            throw AdminError(.validationFailed, "the change is not valid", status: 422, fields: change.problems)
        }
        let before = try await mapped { try await administration.settings(teamID: teamID) }
        let after: TeamSettings
        do {
            after = try await mapped { try await administration.updateSettings(teamID: teamID) { change.apply(to: &$0) } }
        } catch let error as FieldMappingValidationError {
            throw AdminError(
                .validationFailed, "the change does not fit the org's Task fields", status: 422,
                fields: error.problems.map(SettingsChange.fieldProblem))
        }
        let changed = SettingsChange.differences(before, after)
        if !changed.isEmpty { try await audit(principal, teamID: teamID, "settings.update", ["changed": .object(changed)]) }
        return after
    }

    /// The org's Task fields (the mapping's choices).
    public func taskFields(teamID: String, by principal: AdminPrincipal) async throws -> [TaskFieldDescription] {
        try authorize(principal, teamID)
        return try await mapped { try await administration.taskFields(teamID: teamID) }
    }

    // MARK: Audit trail

    /// The team's audit entries, newest first (`limit` 1…500).
    public func auditTrail(teamID: String, limit: Int = 100, by principal: AdminPrincipal) async throws -> [AuditEntry] {
        try authorize(principal, teamID)
        return try await store.auditEntries(teamID: teamID, limit: min(max(limit, 1), 500))
    }

    // MARK: Errors

    /// Runs `body`, turning the workers' and Salesforce's errors into ``AdminError``s.
    func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as AdminError {
            throw error
        } catch let error as FieldMappingValidationError {
            throw error
        } catch let error as WorkFailure where error.code == "team_not_connected" {
            throw AdminError(.notConnected, "the team has no Salesforce connection: connect it first", status: 409)
        } catch let error as WorkFailure where error.code == WorkFailure.reauthenticationCode {
            throw AdminError(.needsLogin, "the team's Salesforce connection needs a new login: connect it again", status: 409)
        } catch let error as SalesforceError where error.classification == .needsReauthentication {
            throw AdminError(.needsLogin, "Salesforce refused the team's login (\(error.code)): connect it again", status: 409)
        } catch let error as SalesforceError {
            throw AdminError(.salesforceFailed, "Salesforce answered \(error.code): \(error.message)", status: 502)
        }
    }
}

/// The browser-facing base URL, known once the listener is bound when `admin.publicURL` is not set.
public final class AdminBaseURL: Sendable {
    private let stored: Mutex<String>

    /// A base URL (without a trailing `/`).
    public init(_ value: String) { stored = Mutex(value.hasSuffix("/") ? String(value.dropLast()) : value) }

    /// The base URL.
    public var value: String { stored.withLock { $0 } }

    func set(_ value: String) { stored.withLock { $0 = value } }
}

/// A team's connection and settings (`GET /api/v1/teams/{team}/status`).
public struct TeamStatus: Sendable, Encodable {
    /// A connection, for people: never a token.
    public struct Connection: Sendable, Encodable {
        public var instanceURL: String
        public var loginURL: String
        /// `refresh_token` or `client_credentials`.
        public var flow: String
        public var needsLogin: Bool
        public var needsLoginReason: String?
        public var updatedAt: Date?
        public var organizationID: String?
        public var username: String?

        enum CodingKeys: String, CodingKey {
            case instanceURL = "instance_url", loginURL = "login_url", flow, needsLogin = "needs_login"
            case needsLoginReason = "needs_login_reason", updatedAt = "updated_at"
            case organizationID = "organization_id", username
        }
    }

    public var teamID: String
    /// `nil` when the team is not connected.
    public var connection: Connection?
    public var settings: TeamSettings

    enum CodingKeys: String, CodingKey {
        case teamID = "team", connection, settings
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(teamID, forKey: .teamID)
        try container.encode(connection, forKey: .connection)  // null when not connected
        try container.encode(settings, forKey: .settings)
    }
}

/// A JSON value of an audit entry's details.
public indirect enum AuditValue: Sendable, Hashable, Encodable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case array([AuditValue])
    case object([String: AuditValue])

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let values): try container.encode(values)
        case .object(let values): try container.encode(values)
        }
    }
}
