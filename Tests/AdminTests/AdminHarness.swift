import Admin
import Foundation
import HTTP
import Logging
import SalesforceSandbox
import ServiceLifecycle
import Store
import Synchronization
import Testing
import Workers

/// The stores the admin tests run on: SQLite always, PostgreSQL when `DOCSEND_TEST_POSTGRES_URL` is set (each test in
/// a fresh schema).
enum Backend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["DOCSEND_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }
    static var available: [Backend] {
        postgresURL != nil || ProcessInfo.processInfo.environment["DOCSEND_TEST_REQUIRE_SERVICES"] == "1"
            ? [.sqlite, .postgres] : [.sqlite]
    }
    var testDescription: String { rawValue }

    func storeURL() throws -> (url: String, directory: URL?) {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("docsend-admin-\(UUID().uuidString)")
            return ("sqlite://" + directory.appendingPathComponent("sync.db").path, directory)
        case .postgres:
            guard let url = Self.postgresURL else { throw HarnessError("DOCSEND_TEST_POSTGRES_URL is not set") }
            let schema = "a_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            return (url + (url.contains("?") ? "&" : "?") + "schema=" + schema, nil)
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A clock tests move forward.
final class TestClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)
    func advance(_ seconds: TimeInterval) { offset.withLock { $0 += seconds } }
    func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }
}

/// An admin server on a free port over a real store and the Salesforce sandbox started in-process.
struct AdminHarness: Sendable {
    let sandbox: SalesforceSandbox
    let http: HTTPClient
    let store: any SyncStore
    let service: AdminService
    let baseURL: String
    let credentials: AdminCredentials
    let clock: TestClock
    let parking: FakeParking

    static let logger = Logger(label: "admin-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The app settings the service and the workers' administration use: the sandbox as both login hosts.
    static func app(_ sandbox: SalesforceSandbox) -> SalesforceAppSettings {
        SalesforceAppSettings(
            loginURL: sandbox.baseURL, clientID: SandboxSeed.Demo.clientId, clientSecret: SandboxSeed.Demo.clientSecret,
            requestTimeout: .seconds(10))
    }

    // MARK: Requests

    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
        var errorCode: String? { json["error"] as? String }
    }

    func request(
        _ method: HTTPMethod, _ path: String, token: String? = nil, cookie: String? = nil, body: Data? = nil,
        contentType: String = "application/json", headers extra: [(String, String)] = []
    ) async throws -> Reply {
        var headers = HTTPHeaders()
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let cookie { headers.add(name: "Cookie", value: "\(AdminCredentials.cookieName)=\(cookie)") }
        if body != nil { headers.add(name: "Content-Type", value: contentType) }
        for (name, value) in extra { headers.add(name: name, value: value) }
        let response = try await http.execute(
            HTTPRequest(method: method, url: path.hasPrefix("http") ? path : baseURL + path, headers: headers, body: body))
        return Reply(status: response.status, headers: response.headers, body: response.body)
    }

    func token(_ team: String) -> String { credentials.apiToken(team: team) }

    /// Opens a browser session for `team` through a signed link; returns the cookie value and the CSRF token.
    func session(_ team: String) async throws -> (cookie: String, csrf: String) {
        let link = credentials.sessionLink(team: team, expires: Date().addingTimeInterval(300))
        let reply = try await request(.get, link)
        guard reply.status == 303, let setCookie = reply.headers["Set-Cookie"],
            let value = setCookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last
        else { throw HarnessError("the session link did not set a cookie: \(reply.status) \(reply.text)") }
        let cookie = String(value)
        let info = try await request(.get, "/teams/\(team)/session", cookie: cookie)
        guard let csrf = info.json["csrf_token"] as? String else { throw HarnessError("no CSRF token: \(info.text)") }
        return (cookie, csrf)
    }

    /// Runs the whole browser flow up to Salesforce's redirect back: `/teams/T/connect` → the sandbox's authorize
    /// URL with `sandbox_auto_approve=true` (plus `extra`) → the redirect's URL (to `/oauth/callback`).
    func authorize(_ team: String, cookie: String, host: String = "production", extra: String = "") async throws -> String {
        let start = try await request(.get, "/teams/\(team)/connect?host=\(host)", cookie: cookie)
        guard start.status == 303, let authorize = start.headers["Location"] else {
            throw HarnessError("connect did not redirect: \(start.status) \(start.text)")
        }
        let approved = try await request(.get, authorize + "&sandbox_auto_approve=true" + extra)
        guard approved.status == 302, let callback = approved.headers["Location"] else {
            throw HarnessError("the sandbox did not redirect back: \(approved.status) \(approved.text)")
        }
        return callback
    }

    /// Connects `team` through the whole flow; returns its session.
    @discardableResult
    func connect(_ team: String) async throws -> (cookie: String, csrf: String) {
        let session = try await session(team)
        let callback = try await authorize(team, cookie: session.cookie)
        let reply = try await request(.get, callback, cookie: session.cookie)
        guard reply.status == 200, reply.json["outcome"] as? String == "connected" else {
            throw HarnessError("the callback did not connect: \(reply.status) \(reply.text)")
        }
        return session
    }
}

/// A parking lot in memory (the broker's is tested in WorkersTests): the team's messages and a replay count.
final class FakeParking: AdminParking {
    let items = Mutex<[String: [ParkedItem]]>([:])
    func parked(teamID: String, limit: Int) async throws -> [ParkedItem] {
        Array(items.withLock { $0[teamID] ?? [] }.prefix(limit))
    }
    func replay(teamID: String) async throws -> ReplayResult {
        ReplayResult(replayed: items.withLock { $0.removeValue(forKey: teamID)?.count ?? 0 })
    }
}

/// Runs `body` with an admin server over a fresh store and a sandbox; everything is stopped afterwards.
func withAdmin(_ backend: Backend = .sqlite, _ body: (AdminHarness) async throws -> Void) async throws {
    // The activity-demo org: its Task has the DocSend fields a mapping needs.
    guard let seed = SandboxSeed.builtIn(named: "activity-demo") else { throw HarnessError("no activity-demo seed") }
    let sandbox = try await SalesforceSandbox.start(configuration: .init(port: 0, seed: seed))
    let (url, directory) = try backend.storeURL()
    defer { if let directory { try? FileManager.default.removeItem(at: directory) } }
    let http = try HTTPClient(configuration: .init(defaultTimeout: .seconds(20)), logger: AdminHarness.logger)
    let store = try await openStore(url: url, encryptionKey: .random(), timeout: .seconds(20), logger: AdminHarness.logger)
    let clock = TestClock()
    let parking = FakeParking()
    let key = AdminSigningKey.random()
    let baseURL = AdminBaseURL("http://127.0.0.1:0")
    let service = try AdminService(
        store: store, app: AdminHarness.app(sandbox), http: http,
        configuration: AdminConfiguration(host: "127.0.0.1", port: 0, signingKey: key, sandboxLoginURL: sandbox.baseURL),
        parking: parking, baseURL: baseURL, clock: { clock.now() }, logger: AdminHarness.logger)
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let server = AdminServer(service: service, onListening: { continuation.yield($0) }, logger: AdminHarness.logger)
    let group = ServiceGroup(
        configuration: .init(services: [.init(service: store), .init(service: server)], logger: AdminHarness.logger))
    let running = Task { try await group.run() }
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        await http.shutdown()
        await sandbox.shutdown()
    }
    do {
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw HarnessError("the admin server did not start") }
        let harness = AdminHarness(
            sandbox: sandbox, http: http, store: store, service: service, baseURL: "http://127.0.0.1:\(port)",
            credentials: AdminCredentials(key: key), clock: clock, parking: parking)
        try await body(harness)
    } catch {
        await stop()
        throw error
    }
    await stop()
}
