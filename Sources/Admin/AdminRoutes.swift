import Foundation
import Hummingbird
import JSON
import Store
import SyncCore

/// How a route checks its caller.
public enum AdminAccess: String, Sendable, Hashable, CaseIterable {
    /// `Authorization: Bearer dss1.<team>.<sig>` of the path's team (the DocSend application).
    case apiToken
    /// The session cookie of the path's team (a browser), for reads and the connect redirect.
    case session
    /// The session cookie of the path's team and its CSRF token (form field `csrf_token` or header `X-CSRF-Token`).
    case sessionWithCSRF
    /// The session cookie, any team: the OAuth callback, whose `state` names the team and must be this session's.
    case callbackSession
    /// The signed session link itself is the credential (`/session`).
    case sessionLink
    /// No credential: the OpenAPI document only.
    case none
}

/// One route of the admin service: method, path (Hummingbird's `{name}` parameters, as in the OpenAPI document),
/// who may call it, and what it does. ``AdminRoutes/all`` is the one list the server registers and the tests and the
/// OpenAPI check read, so a route cannot be added without being covered.
public struct AdminRoute: Sendable {
    public var method: HTTPRequest.Method
    public var path: String
    public var access: AdminAccess
    let handle: @Sendable (AdminCall) async throws -> Response
}

/// What a handler gets: the service, the checked caller, the path parameters, the query, the body.
struct AdminCall: Sendable {
    var service: AdminService
    var principal: AdminPrincipal?
    var team: String
    var parameters: [String: String]
    var query: [String: String]
    var body: Data
    var now: Date
    /// The caller is a browser (`Accept: text/html`, not under `/api/`): answer pages, not JSON.
    var html = false

    var session: AdminSession? {
        if case .session(let session)? = principal { return session }
        return nil
    }

    func requiredPrincipal() throws -> AdminPrincipal {
        guard let principal else { throw AdminError.unauthenticated() }
        return principal
    }

    func requiredSession() throws -> AdminSession {
        guard let session else { throw AdminError.unauthenticated("a browser session is required") }
        return session
    }

    func limit(default value: Int) throws -> Int {
        guard let text = query["limit"] else { return value }
        guard let number = Int(text), number > 0 else { throw AdminError.invalid("limit must be a positive whole number") }
        return number
    }

    /// The body as `application/x-www-form-urlencoded` fields.
    var form: [String: String] { AdminServer.parseQuery(String(decoding: body, as: UTF8.self)) }
}

/// The routes of the admin service.
public enum AdminRoutes {
    /// Every route, in the order the OpenAPI document lists them.
    public static let all: [AdminRoute] = api + browser + page

    static let api: [AdminRoute] = [
        AdminRoute(method: .get, path: "/api/v1/openapi.json", access: .none) { _ in
            AdminServer.raw(.ok, contentType: "application/json", AdminOpenAPI.document)
        },
        AdminRoute(method: .get, path: "/api/v1/teams/{team}/status", access: .apiToken) { call in
            try AdminServer.json(.ok, try await call.service.status(teamID: call.team, by: try call.requiredPrincipal()))
        },
        AdminRoute(method: .get, path: "/api/v1/teams/{team}/settings", access: .apiToken) { call in
            try AdminServer.json(.ok, try await call.service.settings(teamID: call.team, by: try call.requiredPrincipal()))
        },
        AdminRoute(method: .patch, path: "/api/v1/teams/{team}/settings", access: .apiToken) { call in
            let change = try SettingsChange(json: call.body)
            return try AdminServer.json(
                .ok, try await call.service.updateSettings(teamID: call.team, change, by: try call.requiredPrincipal()))
        },
        AdminRoute(method: .get, path: "/api/v1/teams/{team}/task-fields", access: .apiToken) { call in
            let fields = try await call.service.taskFields(teamID: call.team, by: try call.requiredPrincipal())
            return try AdminServer.json(.ok, ["fields": fields.map(TaskFieldItem.init)])
        },
        AdminRoute(method: .get, path: "/api/v1/teams/{team}/account-links", access: .apiToken) { call in
            let links = try await call.service.accountLinks(teamID: call.team, by: try call.requiredPrincipal())
            return try AdminServer.json(.ok, ["links": links.map(AccountLinkItem.init)])
        },
        AdminRoute(method: .put, path: "/api/v1/teams/{team}/account-links/{account}", access: .apiToken) { call in
            struct Body: Decodable { var salesforce_account_id: String }
            guard let body = try? JSONDecoder().decode(Body.self, from: call.body) else {
                throw AdminError.invalid("expected {\"salesforce_account_id\": \"001…\"}")
            }
            let account = call.parameters["account"] ?? ""
            try await call.service.setAccountLink(
                teamID: call.team, docSendAccountID: account, salesforceAccountID: body.salesforce_account_id,
                by: try call.requiredPrincipal())
            return try AdminServer.json(
                .ok, ["docsend_account_id": account, "salesforce_account_id": body.salesforce_account_id])
        },
        AdminRoute(method: .delete, path: "/api/v1/teams/{team}/account-links/{account}", access: .apiToken) { call in
            try await call.service.deleteAccountLink(
                teamID: call.team, docSendAccountID: call.parameters["account"] ?? "", by: try call.requiredPrincipal())
            return Response(status: .noContent)
        },
        AdminRoute(method: .get, path: "/api/v1/teams/{team}/accounts", access: .apiToken) { call in
            let matches = try await call.service.searchAccounts(
                teamID: call.team, name: call.query["name"] ?? "", by: try call.requiredPrincipal())
            return try AdminServer.json(.ok, ["accounts": matches])
        },
        AdminRoute(method: .get, path: "/api/v1/teams/{team}/activity", access: .apiToken) { call in
            let items = try await call.service.activity(
                teamID: call.team, limit: try call.limit(default: 50), by: try call.requiredPrincipal())
            return try AdminServer.json(.ok, ["activity": items])
        },
        AdminRoute(method: .get, path: "/api/v1/teams/{team}/parked", access: .apiToken) { call in
            let items = try await call.service.parked(
                teamID: call.team, limit: try call.limit(default: 100), by: try call.requiredPrincipal())
            return try AdminServer.json(.ok, ["parked": items])
        },
        AdminRoute(method: .post, path: "/api/v1/teams/{team}/parked/replay", access: .apiToken) { call in
            try AdminServer.json(.ok, try await call.service.replayParked(teamID: call.team, by: try call.requiredPrincipal()))
        },
        AdminRoute(method: .get, path: "/api/v1/teams/{team}/audit", access: .apiToken) { call in
            let entries = try await call.service.auditTrail(
                teamID: call.team, limit: try call.limit(default: 100), by: try call.requiredPrincipal())
            return try AdminServer.json(.ok, ["entries": entries.map(AuditItem.init)])
        },
        AdminRoute(method: .post, path: "/api/v1/teams/{team}/disconnect", access: .apiToken) { call in
            try AdminServer.json(.ok, try await call.service.disconnect(teamID: call.team, by: try call.requiredPrincipal()))
        },
    ]

    static let browser: [AdminRoute] = [
        AdminRoute(method: .get, path: "/session", access: .sessionLink) { call in
            // The link checked out (the server did that): open a session for its team.
            let session = AdminSession(
                teamID: call.team, sessionID: AdminCredentials.randomID(),
                expiresAt: call.now.addingTimeInterval(call.service.configuration.sessionLifetime.seconds))
            var response = Response(status: .seeOther)
            response.headers[.location] = "/teams/\(AdminCredentials.percentEncode(call.team))"
            response.headers[.cacheControl] = "no-store"
            response.headers[.setCookie] = call.service.cookieHeader(session)
            return response
        },
        AdminRoute(method: .get, path: "/teams/{team}/session", access: .session) { call in
            let session = try call.requiredSession()
            return try AdminServer.json(
                .ok,
                SessionInfo(
                    team: session.teamID, expiresAt: session.expiresAt,
                    csrfToken: call.service.credentials.csrfToken(for: session)))
        },
        AdminRoute(method: .get, path: "/teams/{team}/connect", access: .session) { call in
            // The page's form sends `host=my_domain` with the URL in `my_domain`; links send the URL in `host`.
            let text = call.query["host"] == "my_domain" ? call.query["my_domain"] : call.query["host"]
            guard let text, let host = LoginHost(text.trimmingCharacters(in: .whitespaces)) else {
                if call.html {
                    // The page again, the problem under the My Domain field.
                    let problem = "choose production or sandbox, or give an https://NAME.my.salesforce.com URL"
                    let error = AdminError(
                        .validationFailed, "the login host is not valid", status: 400,
                        fields: [.init(field: "my_domain", message: problem)])
                    return try await AdminPages.settingsPage(
                        call,
                        .init(
                            status: .badRequest, error: error, errorTitle: "Salesforce was not contacted",
                            connectQuery: call.query))
                }
                throw AdminError.invalid("host must be production, sandbox or an https://NAME.my.salesforce.com URL")
            }
            let url = try await call.service.startConnect(teamID: call.team, host: host, session: try call.requiredSession())
            var response = Response(status: .seeOther)
            response.headers[.location] = url
            response.headers[.cacheControl] = "no-store"
            return response
        },
        AdminRoute(method: .get, path: "/oauth/callback", access: .callbackSession) { call in
            let outcome = try await call.service.finishConnect(parameters: call.query, session: try call.requiredSession())
            if call.html { return AdminPages.callbackResponse(outcome, call: call) }
            switch outcome {
            case .connected(let result):
                return try AdminServer.json(.ok, CallbackReply(outcome: "connected", connected: result, confirmation: nil))
            case .needsConfirmation(let change):
                return try AdminServer.json(
                    .ok, CallbackReply(outcome: "needs_confirmation", connected: nil, confirmation: change))
            }
        },
        AdminRoute(method: .post, path: "/teams/{team}/connect/confirm", access: .sessionWithCSRF) { call in
            let form = call.form
            let cancel = form["action"] == "cancel"
            let result = try await call.service.confirmOrgChange(
                teamID: call.team, confirmation: form["confirmation"] ?? "", cancel: cancel, session: try call.requiredSession())
            if call.html { return AdminPages.confirmedResponse(result, call: call) }
            return try AdminServer.json(
                .ok, CallbackReply(outcome: result == nil ? "cancelled" : "connected", connected: result, confirmation: nil))
        },
        AdminRoute(method: .post, path: "/teams/{team}/disconnect", access: .sessionWithCSRF) { call in
            let result = try await call.service.disconnect(teamID: call.team, by: try call.requiredPrincipal())
            if call.html { return AdminPages.disconnectedResponse(result, call: call) }
            return try AdminServer.json(.ok, result)
        },
    ]
}

extension AdminService {
    /// The `Set-Cookie` value of a session: HttpOnly, SameSite=Lax (the OAuth callback is a top-level navigation from
    /// Salesforce, which Lax lets the cookie ride on), Secure when the public URL is https.
    func cookieHeader(_ session: AdminSession) -> String {
        let maxAge = Int(configuration.sessionLifetime.seconds)
        var value = "\(AdminCredentials.cookieName)=\(credentials.cookieValue(session)); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Lax"
        if baseURL.value.hasPrefix("https://") { value += "; Secure" }
        return value
    }
}

extension Duration {
    var seconds: TimeInterval { TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18 }
}

struct SessionInfo: Encodable {
    var team: String
    var expiresAt: Date
    var csrfToken: String
    enum CodingKeys: String, CodingKey { case team, expiresAt = "expires_at", csrfToken = "csrf_token" }
}

struct CallbackReply: Encodable {
    var outcome: String
    var connected: ConnectResult?
    var confirmation: OrgChange?
}

struct TaskFieldItem: Encodable {
    var name: String
    var type: String
    var length: Int
    var custom: Bool
    var createable: Bool
    var updateable: Bool
    init(_ field: TaskFieldDescription) {
        name = field.name
        type = field.type
        length = field.length
        custom = field.custom
        createable = field.createable
        updateable = field.updateable
    }
}

struct AccountLinkItem: Encodable {
    var docsend_account_id: String
    var salesforce_account_id: String
    var updated_at: Date
    init(_ link: AccountLink) {
        docsend_account_id = link.docSendAccountID
        salesforce_account_id = link.salesforceAccountID
        updated_at = link.updatedAt
    }
}

struct AuditItem: Encodable {
    var id: Int64?
    var actor: String
    var action: String
    var details: JSONFragment
    var at: Date?
    init(_ entry: AuditEntry) {
        id = entry.id
        actor = entry.actor
        action = entry.action
        details = JSONFragment(data: entry.details)
        at = entry.at
    }
}

/// Stored JSON, encoded as it is.
struct JSONFragment: Encodable {
    var data: Data
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode((try? JSONDecoder().decode(JSONValue.self, from: data)) ?? JSONValue.object([:]))
    }
}
