import Foundation
import Logging
import Salesforce
import Store
import Workers

/// The OAuth web-server flow with PKCE (S256), from the browser's session to a stored connection, and the disconnect.
///
/// 1. ``startConnect(teamID:host:session:)`` keeps the PKCE verifier and a random `state` in the store (single use,
///    10 minutes, bound to the browser session and team, so any admin process of the fleet can finish the flow)
///    and returns Salesforce's authorize URL.
/// 2. ``finishConnect(parameters:session:)`` takes the state (whatever happens next, it cannot be used again),
///    exchanges the code with the verifier, checks the org type, reads the identity (org id, user), and either
///    stores the connection or, when the org is not the one the team's data belongs to, asks for a confirmation.
/// 3. ``confirmOrgChange(teamID:confirmation:cancel:session:)`` clears the team's org-specific state and stores
///    the connection (or, cancelled, revokes the new token).
extension AdminService {
    /// The flow kinds kept in the store.
    static let authorizeFlow = "authorize"
    static let confirmFlow = "confirm"

    /// What the authorize step keeps secret.
    struct AuthorizeSecret: Codable {
        var verifier: String
        var loginURL: String
        var host: String
        var redirectURI: String
    }

    /// What an org change awaiting confirmation keeps secret.
    struct ConfirmSecret: Codable {
        var refreshToken: String
        var instanceURL: String
        var loginURL: String
        var organizationID: String
        var username: String?
        var previousOrganizationID: String?
        var host: String
    }

    /// Starts a login: returns the URL to send the admin's browser to.
    public func startConnect(teamID: String, host: LoginHost, session: AdminSession) async throws -> String {
        try authorize(.session(session), teamID)
        let loginURL = host.loginURL(production: app.loginURL, sandbox: configuration.sandboxLoginURL)
        let pkce = PKCE.generate()
        let state = AdminCredentials.randomID()
        let secret = AuthorizeSecret(
            verifier: pkce.verifier, loginURL: loginURL, host: host.description, redirectURI: redirectURI)
        try await store.saveOAuthFlow(
            OAuthFlow(
                id: state, teamID: teamID, sessionID: session.sessionID, kind: Self.authorizeFlow,
                secret: try Self.encode(secret), expiresAt: clock().addingTimeInterval(Self.flowLifetime)))
        return SalesforceWebServerFlow.authorizeURL(
            configuration: app.clientConfiguration(loginURL: loginURL, clientID: clientID), redirectURI: redirectURI,
            pkce: pkce, state: state)
    }

    /// Finishes a login from the callback's query parameters (`code`, `state`, or `error`, `error_description`).
    /// Every refusal is an ``AdminError`` that says what happened.
    public func finishConnect(parameters: [String: String], session: AdminSession) async throws -> ConnectOutcome {
        guard let state = parameters["state"], !state.isEmpty, state.utf8.count <= 256 else {
            throw AdminError.connect(.stateUnknown, "Salesforce's answer carries no state: start the connection again")
        }
        guard let flow = try await store.takeOAuthFlow(id: state), flow.kind == Self.authorizeFlow else {
            throw AdminError.connect(
                .stateUnknown,
                "this login is unknown or was already used (a page reloaded, or a link not made here): start the connection again")
        }
        guard flow.sessionID == session.sessionID, flow.teamID == session.teamID else {
            throw AdminError(
                .stateMismatch, "this login was started in another browser session: start the connection again from here",
                status: 403)
        }
        guard flow.expiresAt > clock() else {
            throw AdminError.connect(.stateExpired, "the login took longer than 10 minutes: start the connection again")
        }
        if let error = parameters["error"] {
            if error == "access_denied" {
                throw AdminError.connect(.accessDenied, "you denied DocSend access to Salesforce; nothing was connected")
            }
            let description = parameters["error_description"].map { ": " + String($0.prefix(200)) } ?? ""
            throw AdminError.connect(
                .authorizationFailed, "Salesforce refused the login (\(String(error.prefix(64))))\(description)")
        }
        guard let code = parameters["code"], !code.isEmpty, code.utf8.count <= 1024 else {
            throw AdminError.connect(.authorizationFailed, "Salesforce's answer carries no code: start the connection again")
        }
        let secret = try Self.decode(AuthorizeSecret.self, flow.secret)
        let configuration = app.clientConfiguration(loginURL: secret.loginURL, clientID: clientID)
        let token: SalesforceToken
        do {
            token = try await SalesforceWebServerFlow.exchangeCode(
                code, pkce: PKCE(verifier: secret.verifier), redirectURI: secret.redirectURI, configuration: configuration,
                httpClient: http, logger: logger)
        } catch let error as SalesforceError where error.code == .invalidGrant {
            throw AdminError.connect(
                .codeRejected,
                "Salesforce refused the login code (expired, already used, or not from this login): start the connection again")
        } catch let error as SalesforceError {
            throw AdminError(.salesforceFailed, "Salesforce's token endpoint answered \(error.code)", status: 502)
        }
        guard let refreshToken = token.refreshToken else {
            throw AdminError(
                .salesforceFailed,
                "Salesforce issued no refresh token: the connected app must grant the refresh_token scope", status: 502)
        }
        let host = LoginHost(secret.host)
        if let expected = host?.expectedOrgType, let actual = OrgType(instanceURL: token.instanceURL), expected != actual {
            await revokeQuietly(refreshToken, configuration)
            throw AdminError.connect(
                .wrongOrgType,
                "you asked for a \(expected.rawValue) org but logged into a \(actual.rawValue) org (\(token.instanceURL)); "
                    + "nothing was connected: choose \(actual.rawValue) and connect again")
        }
        let identity: SalesforceIdentity
        do {
            identity = try await SalesforceWebServerFlow.identity(
                of: token, configuration: configuration, httpClient: http, logger: logger)
        } catch let error as SalesforceError {
            await revokeQuietly(refreshToken, configuration)
            throw AdminError(.salesforceFailed, "Salesforce's identity service answered \(error.code)", status: 502)
        }
        let pending = ConfirmSecret(
            refreshToken: refreshToken, instanceURL: token.instanceURL, loginURL: secret.loginURL,
            organizationID: identity.organizationID, username: identity.username, previousOrganizationID: nil,
            host: secret.host)
        let previous = try await store.teamOrg(teamID: flow.teamID)
        let existing = try await store.connection(teamID: flow.teamID)
        let changed: Bool
        if let previous {
            changed = !Self.sameOrg(previous.organizationID, identity.organizationID)
        } else if let existing {
            // Connected before the admin service kept org ids (`team connect`): the instance is what is known.
            changed = Self.host(existing.instanceURL) != Self.host(token.instanceURL)
        } else {
            changed = false
        }
        guard changed else {
            return .connected(try await complete(pending, teamID: flow.teamID, by: .session(session), cleared: nil))
        }
        var awaiting = pending
        awaiting.previousOrganizationID = previous?.organizationID
        let confirmation = AdminCredentials.randomID()
        try await store.saveOAuthFlow(
            OAuthFlow(
                id: confirmation, teamID: flow.teamID, sessionID: session.sessionID, kind: Self.confirmFlow,
                secret: try Self.encode(awaiting), expiresAt: clock().addingTimeInterval(Self.flowLifetime)))
        return .needsConfirmation(
            OrgChange(
                confirmation: confirmation, previousOrganizationID: previous?.organizationID,
                previousInstanceURL: previous?.instanceURL ?? existing?.instanceURL,
                organizationID: identity.organizationID, instanceURL: token.instanceURL, username: identity.username))
    }

    /// Confirms (or, with `cancel`, abandons) connecting the team to another org: confirmed, the team's ledger,
    /// account links, sync states and shared session are cleared, then the connection is stored; cancelled, the new
    /// login's token is revoked and nothing changes.
    public func confirmOrgChange(teamID: String, confirmation: String, cancel: Bool = false, session: AdminSession)
        async throws -> ConnectResult?
    {
        try authorize(.session(session), teamID)
        guard confirmation.utf8.count <= 256, let flow = try await store.takeOAuthFlow(id: confirmation),
            flow.kind == Self.confirmFlow, flow.sessionID == session.sessionID, flow.teamID == teamID,
            flow.expiresAt > clock()
        else {
            throw AdminError.connect(
                .confirmationUnknown,
                "this confirmation is unknown, used, expired or from another session: connect again")
        }
        let pending = try Self.decode(ConfirmSecret.self, flow.secret)
        if cancel {
            await revokeQuietly(
                pending.refreshToken, app.clientConfiguration(loginURL: pending.loginURL, clientID: clientID))
            return nil
        }
        let cleared = try await store.clearOrgState(teamID: teamID)
        return try await complete(pending, teamID: teamID, by: .session(session), cleared: cleared)
    }

    /// Stores the connection through ``TeamAdministration/connect(teamID:loginURL:clientID:refreshToken:)`` (it signs
    /// in and reads the Task fields first), remembers the org, revokes the previous login's token, and records it.
    private func complete(_ login: ConfirmSecret, teamID: String, by principal: AdminPrincipal, cleared: ClearedOrgState?)
        async throws -> ConnectResult
    {
        let configuration = app.clientConfiguration(loginURL: login.loginURL, clientID: clientID)
        let previous = try await store.connection(teamID: teamID)
        let check: TeamAdministration.ConnectionCheck
        do {
            check = try await administration.connect(
                teamID: teamID, loginURL: login.loginURL, clientID: clientID, refreshToken: login.refreshToken)
        } catch {
            await revokeQuietly(login.refreshToken, configuration)
            throw try await mappedError(error)
        }
        try await store.saveTeamOrg(
            TeamOrg(
                teamID: teamID, organizationID: login.organizationID, instanceURL: check.instanceURL,
                username: login.username))
        var previousRevoked = AuditValue.null
        if let old = previous?.refreshToken, old != login.refreshToken {
            let oldConfiguration = app.clientConfiguration(
                loginURL: previous?.loginURL ?? login.loginURL, clientID: previous?.clientID ?? clientID)
            previousRevoked = .bool(await revokeQuietly(old, oldConfiguration))
        }
        var details: [String: AuditValue] = [
            "organization_id": .string(login.organizationID), "instance_url": .string(check.instanceURL),
            "login_host": .string(login.host), "username": login.username.map(AuditValue.string) ?? .null,
            "org_changed": .bool(cleared != nil), "previous_token_revoked": previousRevoked,
            "problems": .array(check.problems.map { .string($0.description) }),
        ]
        if let cleared {
            details["previous_organization_id"] = login.previousOrganizationID.map(AuditValue.string) ?? .null
            details["cleared"] = .object([
                "ledger_entries": .int(cleared.ledgerEntries), "account_links": .int(cleared.accountLinks),
                "sync_states": .int(cleared.syncStates), "session": .bool(cleared.session),
            ])
        }
        try await audit(principal, teamID: teamID, "connection.connect", details)
        return ConnectResult(
            organizationID: login.organizationID, instanceURL: check.instanceURL, username: login.username,
            orgChanged: cleared != nil, problems: check.problems.map(\.description))
    }

    /// Revokes the team's refresh token at Salesforce, then deletes the connection and its shared session, whether
    /// the revoke worked or not (a connection that cannot be revoked must still stop syncing): the result says
    /// which. The team's settings, ledger and links stay (a later login to another org asks to clear them).
    public func disconnect(teamID: String, by principal: AdminPrincipal) async throws -> DisconnectResult {
        try authorize(principal, teamID)
        guard let connection = try await store.connection(teamID: teamID) else {
            throw AdminError(.notConnected, "the team has no Salesforce connection", status: 409)
        }
        var revokeError: String?
        if let token = connection.refreshToken {
            do {
                try await SalesforceWebServerFlow.revoke(
                    token, configuration: app.clientConfiguration(loginURL: connection.loginURL, clientID: connection.clientID),
                    httpClient: http, logger: logger)
            } catch let error as SalesforceError {
                revokeError = "Salesforce did not revoke the token (\(error.code)): \(String(error.message.prefix(200)))"
            }
        } else {
            revokeError = "a client-credentials connection has no refresh token to revoke; remove the app's access in Salesforce"
        }
        try await store.deleteConnection(teamID: teamID)
        try await audit(
            principal, teamID: teamID, "connection.disconnect",
            [
                "instance_url": .string(connection.instanceURL), "revoked": .bool(revokeError == nil),
                "revoke_error": revokeError.map(AuditValue.string) ?? .null,
            ])
        return DisconnectResult(revoked: revokeError == nil, revokeError: revokeError)
    }

    /// Revokes a token, logging a failure; returns whether it worked.
    @discardableResult
    func revokeQuietly(_ token: String, _ configuration: SalesforceConfiguration) async -> Bool {
        do {
            try await SalesforceWebServerFlow.revoke(token, configuration: configuration, httpClient: http, logger: logger)
            return true
        } catch {
            logger.warning("could not revoke a Salesforce token", metadata: ["docsend-error": "\(error)"])
            return false
        }
    }

    func mappedError(_ error: any Error) async throws -> any Error {
        do {
            return try await mapped { throw error }
        } catch {
            return error
        }
    }

    /// Org ids compare on their 15 case-sensitive characters (the 18-character form adds a checksum).
    static func sameOrg(_ a: String, _ b: String) -> Bool { a.prefix(15) == b.prefix(15) }

    static func host(_ url: String) -> String? { URLComponents(string: url)?.host?.lowercased() }

    static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw AdminError(.invalidRequest, "a stored login step does not decode", status: 500)
        }
    }
}

/// How a callback ended when it did not fail.
public enum ConnectOutcome: Sendable {
    /// The team is connected.
    case connected(ConnectResult)
    /// The login is to another org than the one the team's data belongs to: the admin must confirm.
    case needsConfirmation(OrgChange)
}

/// A stored connection.
public struct ConnectResult: Sendable, Encodable, Equatable {
    public var organizationID: String
    public var instanceURL: String
    public var username: String?
    /// Whether the team's org-specific state was cleared for a new org.
    public var orgChanged: Bool
    /// The team's settings that do not fit the org's Task fields (fix them before syncing).
    public var problems: [String]

    enum CodingKeys: String, CodingKey {
        case organizationID = "organization_id", instanceURL = "instance_url", username
        case orgChanged = "org_changed", problems
    }
}

/// A login to another org, awaiting the admin's confirmation.
public struct OrgChange: Sendable, Encodable, Equatable {
    /// What the confirmation posts back (single use, 10 minutes, this session only).
    public var confirmation: String
    public var previousOrganizationID: String?
    public var previousInstanceURL: String?
    public var organizationID: String
    public var instanceURL: String
    public var username: String?

    enum CodingKeys: String, CodingKey {
        case confirmation, previousOrganizationID = "previous_organization_id"
        case previousInstanceURL = "previous_instance_url", organizationID = "organization_id"
        case instanceURL = "instance_url", username
    }
}

/// What a disconnect did.
public struct DisconnectResult: Sendable, Encodable, Equatable {
    /// Whether Salesforce revoked the refresh token.
    public var revoked: Bool
    /// Why not, when it did not (the connection was deleted anyway).
    public var revokeError: String?

    enum CodingKeys: String, CodingKey {
        case revoked, revokeError = "revoke_error"
    }
}
