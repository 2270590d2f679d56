import Admin
import Foundation
import HTTP
import Testing

/// Every route refuses a call without a credential (401) and a credential of another team (403). The list comes from
/// ``AdminRoutes/all``, the one the server registers, so a new route is covered the moment it exists.
@Suite("Admin access")
struct AccessTests {
    static func path(_ route: AdminRoute, team: String) -> String {
        route.path.replacingOccurrences(of: "{team}", with: team).replacingOccurrences(of: "{account}", with: "acct_1")
    }

    static func method(_ route: AdminRoute) -> HTTPMethod { HTTPMethod(rawValue: route.method.rawValue) }

    @Test
    func everyRouteRefusesNoCredentialAndAnotherTeam() async throws {
        try await withAdmin { admin in
            let other = try await admin.session("team_b")
            var covered: Set<String> = []
            for route in AdminRoutes.all {
                let path = Self.path(route, team: "team_a")
                let method = Self.method(route)
                let body = method == .get || method == .delete ? nil : Data("{}".utf8)
                let anonymous = try await admin.request(method, path, body: body)
                switch route.access {
                case .none:
                    #expect(anonymous.status == 200, "\(route.method) \(route.path) is public")
                default:
                    #expect(anonymous.status == 401, "\(route.method) \(route.path) without a credential")
                    #expect(anonymous.errorCode == "unauthenticated")
                }
                switch route.access {
                case .apiToken:
                    let cross = try await admin.request(method, path, token: admin.token("team_b"), body: body)
                    #expect(cross.status == 403, "\(route.method) \(route.path) with team_b's token")
                    // A session is not an API credential.
                    let wrongKind = try await admin.request(method, path, cookie: other.cookie, body: body)
                    #expect(wrongKind.status == 401, "\(route.method) \(route.path) with a session cookie")
                case .session, .sessionWithCSRF:
                    let form = Data("csrf_token=\(other.csrf)".utf8)
                    let cross = try await admin.request(
                        method, path, cookie: other.cookie, body: method == .post ? form : nil,
                        contentType: "application/x-www-form-urlencoded")
                    #expect(cross.status == 403, "\(route.method) \(route.path) with team_b's session")
                    let wrongKind = try await admin.request(method, path, token: admin.token("team_a"), body: body)
                    #expect(wrongKind.status == 401, "\(route.method) \(route.path) with an API token")
                case .callbackSession:
                    // No team in the path: the state names it; another team's session is refused by the state
                    // binding (ConnectFlowTests.aStateOfAnotherSessionOrTeamIsRefused).
                    let wrongKind = try await admin.request(
                        method, path + "?state=x&code=y", token: admin.token("team_a"))
                    #expect(wrongKind.status == 401)
                case .sessionLink:
                    // A link signed for team_b does not open team_a.
                    let link = admin.credentials.sessionLink(team: "team_b", expires: Date().addingTimeInterval(60))
                    let forged = link.replacingOccurrences(of: "team=team_b", with: "team=team_a")
                    #expect(try await admin.request(.get, forged).status == 401)
                case .none:
                    break
                }
                covered.insert("\(route.method) \(route.path)")
            }
            #expect(covered.count == AdminRoutes.all.count)
            #expect(covered.count >= 25)
        }
    }

    /// The page's routes, as a browser meets a refusal (`Accept: text/html`): the same 401 and 403, as a page that
    /// says what happened; and every page route is in the table the checks above go through.
    @Test
    func browsersGetRefusalsAsPages() async throws {
        let pageRoutes = [
            "GET /teams/{team}", "POST /teams/{team}/settings", "POST /teams/{team}/account-links",
            "POST /teams/{team}/account-links/{account}/delete", "POST /teams/{team}/parked/replay",
            "GET /teams/{team}/disconnect",
        ]
        let registered = Set(AdminRoutes.all.map { "\($0.method.rawValue) \($0.path)" })
        #expect(Set(pageRoutes).isSubset(of: registered))
        try await withAdmin { admin in
            let other = try await admin.session("team_b")
            let mine = try await admin.session("team_a")
            let browser = [("Accept", "text/html")]
            var checked = 0
            for route in AdminRoutes.all where route.access == .session || route.access == .sessionWithCSRF {
                let path = Self.path(route, team: "team_a")
                let method = Self.method(route)
                let form = method == .post ? Data("csrf_token=\(other.csrf)".utf8) : nil
                let type = "application/x-www-form-urlencoded"
                let anonymous = try await admin.request(method, path, body: form, contentType: type, headers: browser)
                #expect(anonymous.status == 401, "\(route.method) \(route.path)")
                #expect(anonymous.text.contains(#"data-outcome="unauthenticated""#), "\(route.method) \(route.path)")
                let cross = try await admin.request(method, path, cookie: other.cookie, body: form, contentType: type, headers: browser)
                #expect(cross.status == 403, "\(route.method) \(route.path)")
                #expect(cross.text.contains(#"data-outcome="forbidden""#), "\(route.method) \(route.path)")
                if route.access == .sessionWithCSRF {
                    let stale = try await admin.request(
                        method, path, cookie: mine.cookie, body: form, contentType: type, headers: browser)
                    #expect(stale.status == 403)
                    #expect(stale.text.contains("This form has expired"), "\(route.method) \(route.path)")
                }
                checked += 1
            }
            #expect(checked >= pageRoutes.count + 4)
        }
    }

    @Test
    func browserPostsNeedTheSessionsCSRFToken() async throws {
        try await withAdmin { admin in
            let mine = try await admin.session("team_a")
            let other = try await admin.session("team_a")
            for route in AdminRoutes.all where route.access == .sessionWithCSRF {
                let path = Self.path(route, team: "team_a")
                for form in ["", "csrf_token=forged", "csrf_token=\(other.csrf)"] {
                    let reply = try await admin.request(
                        .post, path, cookie: mine.cookie, body: Data(form.utf8),
                        contentType: "application/x-www-form-urlencoded")
                    #expect(reply.status == 403, "\(route.path) with \(form)")
                    #expect(reply.errorCode == "csrf_failed")
                }
            }
        }
    }

    @Test
    func hostileInputIsRefusedCleanly() async throws {
        try await withAdmin { admin in
            let token = admin.token("team_a")
            // Hostile team ids in paths: never a credential's team.
            for team in ["..%2F..%2Fetc", "team%00a", "team_a%0d%0aX:1", String(repeating: "t", count: 300), "%C3%A9"] {
                let anonymous = try await admin.request(.get, "/api/v1/teams/\(team)/status")
                #expect(anonymous.status == 401 || anonymous.status == 404, "\(team)")
                let cross = try await admin.request(.get, "/api/v1/teams/\(team)/status", token: token)
                #expect(cross.status == 403 || cross.status == 404, "\(team)")
            }
            // Oversized bodies.
            let big = Data(repeating: UInt8(ascii: "a"), count: AdminServer.bodyLimit + 10_000)
            let oversized = try await admin.request(.patch, "/api/v1/teams/team_a/settings", token: token, body: big)
            #expect(oversized.status == 413)
            // Malformed JSON and non-objects.
            for text in ["{not json", "[]", "\"x\"", ""] {
                let reply = try await admin.request(
                    .patch, "/api/v1/teams/team_a/settings", token: token, body: Data(text.utf8))
                #expect(reply.status == 400, "\(text)")
                #expect(reply.errorCode == "invalid_request")
            }
            // Forged and tampered credentials.
            let session = try await admin.session("team_a")
            let parts = session.cookie.split(separator: ".")
            let otherPayload = try #require(try await admin.session("team_b").cookie.split(separator: ".").first)
            for cookie in ["forged", "a.b", String(otherPayload) + "." + parts[1], session.cookie + "x"] {
                #expect(try await admin.request(.get, "/teams/team_a/session", cookie: cookie).status == 401, "\(cookie)")
            }
            for forged in ["dss1.team_a.AAAA", "dss1.team_b." + token.split(separator: ".").last!, "Basic x", token + "x"] {
                #expect(try await admin.request(.get, "/api/v1/teams/team_a/status", token: forged).status == 401)
            }
            let expired = admin.credentials.sessionLink(team: "team_a", expires: Date().addingTimeInterval(-5))
            #expect(try await admin.request(.get, expired).status == 401)
            // An expired session cookie.
            admin.clock.advance(9 * 3600)
            #expect(try await admin.request(.get, "/teams/team_a/session", cookie: session.cookie).status == 401)
        }
    }

    @Test
    func credentialsAreTeamBoundAndConstantInShape() {
        let credentials = AdminCredentials(key: .random())
        let token = credentials.apiToken(team: "team.with.dots")
        #expect(token.hasPrefix("dss1.team.with.dots."))
        #expect(credentials.team(ofAPIToken: token) == "team.with.dots")
        #expect(AdminCredentials(key: .random()).team(ofAPIToken: token) == nil)
        #expect(!TeamID.isValid("") && !TeamID.isValid("a/b") && !TeamID.isValid("é") && TeamID.isValid("team_42"))
        #expect(AdminSigningKey(base64: "c2hvcnQ=") == nil)
    }
}
