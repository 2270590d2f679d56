import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Workers

/// The admin service's HTTP listener (a `Service`): the routes of ``AdminRoutes/all`` over ``AdminService``, each
/// behind its ``AdminAccess`` check, in this order on every route: no valid credential → 401, a credential of another
/// team → 403, a browser POST without the session's CSRF token → 403, then the handler. Request bodies are limited to
/// ``bodyLimit`` (413 beyond). Errors answer `{"error": code, "message": …, "fields": [{"field", "message"}]}`.
public struct AdminServer: Service {
    let service: AdminService
    let onListening: @Sendable (Int) -> Void
    let logger: Logger

    /// The largest request body read.
    public static let bodyLimit = 64 * 1024

    /// A listener for `service` at its configuration's host and port; `onListening` gets the bound port.
    public init(service: AdminService, onListening: @escaping @Sendable (Int) -> Void = { _ in }, logger: Logger) {
        self.service = service
        self.onListening = onListening
        self.logger = logger
    }

    public func run() async throws {
        let router = Router(context: BasicRequestContext.self)
        for route in AdminRoutes.all {
            router.on(RouterPath(route.path), method: route.method) { [service] request, context in
                await Self.respond(route, request, context, service)
            }
        }
        let configuration = service.configuration
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { [logger, onListening, service] channel in
                let port = channel.localAddress?.port ?? 0
                let local = MonitoringServer.localURL(host: configuration.host, port: port)
                if configuration.publicURL == nil { service.baseURL.set(local) }
                logger.info(
                    "serving the admin API",
                    metadata: [
                        "docsend-url": "\(local)", "admin-public-url": "\(service.baseURL.value)",
                        "admin-redirect-uri": "\(service.redirectURI)",
                    ])
                onListening(port)
            },
            logger: logger)
        try await app.run()
    }

    /// Checks the caller as `route.access` says, reads the body, runs the handler, and turns errors into JSON.
    static func respond(
        _ route: AdminRoute, _ request: Request, _ context: BasicRequestContext, _ service: AdminService
    ) async -> Response {
        // A browser (Accept: text/html) gets pages, errors included; programs keep the JSON.
        let html = !route.path.hasPrefix("/api/") && wantsHTML(request)
        var checkedTeam: String?  // the team whose credential checked out: error pages link back to its page
        do {
            let now = service.clock()
            let query = parseQuery(request.uri.query ?? "")
            var parameters: [String: String] = [:]
            for name in ["team", "account"] {
                if let value = context.parameters.get(name) { parameters[name] = value.removingPercentEncoding ?? value }
            }
            let credentials = service.credentials
            var principal: AdminPrincipal?
            var team = parameters["team"] ?? ""
            switch route.access {
            case .none:
                break
            case .apiToken:
                let header = request.headers[.authorization] ?? ""
                guard header.hasPrefix("Bearer "), let owner = credentials.team(ofAPIToken: String(header.dropFirst(7)))
                else { throw AdminError.unauthenticated("an API token is required: Authorization: Bearer dss1.…") }
                guard owner == team else { throw AdminError.forbidden() }
                principal = .api(team: owner)
            case .session, .sessionWithCSRF, .callbackSession:
                guard let session = cookie(request).flatMap({ credentials.session(fromCookie: $0, now: now) }) else {
                    throw AdminError.unauthenticated("a session is required: open the link DocSend gives")
                }
                if route.access == .callbackSession {
                    team = session.teamID
                } else if session.teamID != team {
                    throw AdminError.forbidden()
                }
                principal = .session(session)
            case .sessionLink:
                guard let linkTeam = query["team"], let expires = query["expires"], let signature = query["sig"],
                    credentials.verifySessionLink(team: linkTeam, expires: expires, signature: signature, now: now)
                else { throw AdminError.unauthenticated("the link is not valid or has expired: ask DocSend for a new one") }
                team = linkTeam
            }
            if principal != nil { checkedTeam = team }
            var body = Data()
            if request.method == .post || request.method == .put || request.method == .patch {
                do {
                    body = Data(buffer: try await request.body.collect(upTo: bodyLimit))
                } catch {
                    throw AdminError(.invalidRequest, "the body is larger than \(bodyLimit) bytes", status: 413)
                }
            }
            if route.access == .sessionWithCSRF, case .session(let session)? = principal {
                let token = request.headers.first(where: { $0.name.canonicalName == "x-csrf-token" })?.value ?? parseQuery(String(decoding: body, as: UTF8.self))["csrf_token"]
                guard let token, credentials.verifyCSRF(token, for: session) else {
                    throw AdminError(.csrfFailed, "the form is stale or was not made here: reload the page", status: 403)
                }
            }
            let call = AdminCall(
                service: service, principal: principal, team: team, parameters: parameters, query: query, body: body,
                now: now, html: html)
            return try await route.handle(call)
        } catch let error as AdminError {
            return html ? AdminPages.errorResponse(error, team: checkedTeam) : errorResponse(error)
        } catch is CancellationError {
            return errorResponse(AdminError(.invalidRequest, "the server is stopping", status: 503))
        } catch {
            service.logger.error("admin request failed", metadata: ["docsend-error": "\(error)"])
            let failure = AdminError(.invalidRequest, "internal error", status: 500)
            return html ? AdminPages.errorResponse(failure, team: checkedTeam) : errorResponse(failure)
        }
    }

    /// Whether the request's `Accept` header names `text/html` (what browsers send on navigations and form posts).
    static func wantsHTML(_ request: Request) -> Bool {
        request.headers[values: .accept].contains { $0.lowercased().contains("text/html") }
    }

    static func cookie(_ request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
                if pair.count == 2, pair[0] == AdminCredentials.cookieName { return pair[1] }
            }
        }
        return nil
    }

    /// `a=1&b=2` with `+` as space and percent-decoding; the first value of a repeated name wins. At most 64 fields.
    static func parseQuery(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&").prefix(64) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            guard let name = parts.first, !name.isEmpty, fields[name] == nil else { continue }
            fields[name] = parts.count > 1 ? parts[1] : ""
        }
        return fields
    }

    static func errorResponse(_ error: AdminError) -> Response {
        struct Body: Encodable {
            var error: String
            var message: String
            var fields: [AdminError.FieldProblem]
        }
        let body = Body(error: error.code.rawValue, message: error.message, fields: error.fields)
        var response = (try? json(.init(code: error.status), body)) ?? Response(status: .init(code: error.status))
        if error.status == 401 { response.headers[.wwwAuthenticate] = "Bearer realm=\"docsend-sync admin\"" }
        return response
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
        raw(status, contentType: "application/json", String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func raw(_ status: HTTPResponse.Status, contentType: String, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: contentType, .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
