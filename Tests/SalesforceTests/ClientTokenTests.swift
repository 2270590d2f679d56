import Foundation
import HTTP
import JSON
import Synchronization
import Testing

@testable import Salesforce

/// A scripted org behind the client's transport seam: pins down token handling and request shaping
/// without a server. (The same behaviours run over real HTTP against the sandbox in `SandboxTests`.)
final class ScriptedOrg: SalesforceTransport {
    struct State {
        var validToken: String? = "t0"
        var issued = 0
        var refreshTokensSeen: [String] = []
        var tokenRequests = 0
        var apiRequests: [HTTPRequest] = []
        var inFlight = 0
        var maxInFlight = 0
        var rotate = false
        var refreshError: String?
        var refreshStatus = 400
        var alwaysUnauthorized = false
        var unauthorizedBody = #"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#
    }

    let state = Mutex(State())
    let apiDelay: Duration
    let tokenDelay: Duration
    let api: @Sendable (HTTPRequest) -> HTTPResponse

    init(
        apiDelay: Duration = .zero, tokenDelay: Duration = .milliseconds(30),
        api: @escaping @Sendable (HTTPRequest) -> HTTPResponse = { _ in ScriptedOrg.json(200, #"{"totalSize":0,"done":true,"records":[]}"#) }
    ) {
        self.apiDelay = apiDelay
        self.tokenDelay = tokenDelay
        self.api = api
    }

    static func json(_ status: Int, _ body: String) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: ["Content-Type": "application/json", "Sforce-Limit-Info": "api-usage=42/15000"],
            body: Data(body.utf8))
    }

    func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        if request.url.hasSuffix("/services/oauth2/token") {
            let form = String(decoding: request.body ?? Data(), as: UTF8.self)
            let refresh = form.split(separator: "&").first { $0.hasPrefix("refresh_token=") }.map {
                String($0.dropFirst("refresh_token=".count))
            }
            let (failure, status) = state.withLock { state -> (String?, Int) in
                state.tokenRequests += 1
                if let refresh { state.refreshTokensSeen.append(refresh) }
                return (state.refreshError, state.refreshStatus)
            }
            try await Task.sleep(for: tokenDelay)
            if let failure {
                return Self.json(status, #"{"error":"\#(failure)","error_description":"expired access/refresh token"}"#)
            }
            let (token, rotated) = state.withLock { state in
                state.issued += 1
                state.validToken = "t\(state.issued)"
                return (state.validToken ?? "", state.rotate ? "rt\(state.issued)" : nil)
            }
            let refreshField = rotated.map { #","refresh_token":"\#($0)""# } ?? ""
            return Self.json(
                200,
                #"{"access_token":"\#(token)","instance_url":"https://org.example.com","token_type":"Bearer","issued_at":"1"\#(refreshField)}"#
            )
        }
        let (authorized, body) = state.withLock { state in
            state.apiRequests.append(request)
            state.inFlight += 1
            state.maxInFlight = max(state.maxInFlight, state.inFlight)
            let authorized = !state.alwaysUnauthorized && request.headers["Authorization"] == "Bearer \(state.validToken ?? "-")"
            return (authorized, state.unauthorizedBody)
        }
        defer { state.withLock { $0.inFlight -= 1 } }
        if apiDelay > .zero { try await Task.sleep(for: apiDelay) }
        guard authorized else { return Self.json(401, body) }
        return api(request)
    }
}

func makeClient(
    _ org: ScriptedOrg, credentials: SalesforceCredentials = .refreshToken("rt0"), maxInFlight: Int = 10,
    token: SalesforceToken? = SalesforceToken(accessToken: "t0", instanceURL: "https://org.example.com"),
    rotated: @escaping @Sendable (String) async -> Void = { _ in }
) -> SalesforceClient {
    SalesforceClient(
        configuration: .init(
            loginURL: "https://login.example.com", clientID: "cid", clientSecret: "secret",
            maxRequestsInFlight: maxInFlight),
        credentials: credentials, token: token, transport: org, backgroundActivityLogger: nil,
        onRefreshTokenRotated: rotated)
}

let anyQuery = SOQL.select(["Id"], from: "Lead")

/// A thread-safe list that closures of any kind can capture.
final class Recorder<Element: Sendable>: Sendable {
    private let storage = Mutex<[Element]>([])
    func append(_ element: Element) { storage.withLock { $0.append(element) } }
    var values: [Element] { storage.withLock { $0 } }
}

@Suite("Token handling (scripted transport)")
struct ClientTokenTests {
    @Test func fiftyConcurrentUnauthorizedCallsCauseOneRefresh() async throws {
        let org = ScriptedOrg(apiDelay: .milliseconds(50))
        org.state.withLock { $0.validToken = "expired-elsewhere" }
        let client = makeClient(org, maxInFlight: 50)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 { group.addTask { _ = try await client.query(anyQuery) } }
            try await group.waitForAll()
        }
        #expect(org.state.withLock { $0.tokenRequests } == 1)
        #expect(client.tokenRequestCount == 1)
        // Each call: one refused attempt with the stale token, one retry with the new token.
        let requests = org.state.withLock { $0.apiRequests }
        #expect(requests.filter { $0.headers["Authorization"] == "Bearer t0" }.count == 50)
        #expect(requests.filter { $0.headers["Authorization"] == "Bearer t1" }.count == 50)
        #expect(requests.count == 100)
    }

    @Test func firstCallFetchesATokenAndRotationIsReported() async throws {
        let org = ScriptedOrg()
        org.state.withLock { $0.rotate = true }
        let reported = Mutex<[String]>([])
        let client = makeClient(org, token: nil, rotated: { new in reported.withLock { $0.append(new) } })
        #expect(client.instanceURL == nil)
        _ = try await client.query(anyQuery)
        #expect(client.instanceURL == "https://org.example.com")
        #expect(reported.withLock { $0 } == ["rt1"])
        // The session expires: the next refresh must use the rotated token, not the original one.
        org.state.withLock { $0.validToken = "gone" }
        _ = try await client.query(anyQuery)
        #expect(org.state.withLock { $0.refreshTokensSeen } == ["rt0", "rt1"])
        #expect(reported.withLock { $0 } == ["rt1", "rt2"])
    }

    @Test func clientCredentialsGrant() async throws {
        let org = ScriptedOrg()
        let client = makeClient(org, credentials: .clientCredentials, token: nil)
        _ = try await client.query(anyQuery)
        #expect(org.state.withLock { $0.tokenRequests } == 1)
        #expect(org.state.withLock { $0.refreshTokensSeen }.isEmpty)
    }

    @Test func invalidGrantNeedsReauthenticationAndFailsFastAfterwards() async throws {
        let org = ScriptedOrg()
        org.state.withLock {
            $0.validToken = "gone"
            $0.refreshError = "invalid_grant"
        }
        let client = makeClient(org)
        let error = await #expect(throws: SalesforceError.self) { try await client.query(anyQuery) }
        #expect(error?.code == .invalidGrant)
        #expect(error?.classification == .needsReauthentication)
        await #expect(throws: SalesforceError.self) { try await client.query(anyQuery) }
        #expect(org.state.withLock { $0.tokenRequests } == 1)
        #expect(org.state.withLock { $0.apiRequests.count } == 1)
        // After an operator reconnects, the client works again.
        org.state.withLock { $0.refreshError = nil }
        client.reset(credentials: .refreshToken("rt-new"))
        _ = try await client.query(anyQuery)
        #expect(org.state.withLock { $0.refreshTokensSeen } == ["rt0", "rt-new"])
    }

    @Test func aTokenEndpointOutageIsRetryableAndForgotten() async throws {
        let org = ScriptedOrg()
        org.state.withLock {
            $0.validToken = "gone"
            $0.refreshError = "server_error"
            $0.refreshStatus = 503
        }
        let client = makeClient(org)
        let error = await #expect(throws: SalesforceError.self) { try await client.query(anyQuery) }
        #expect(error?.classification == .retryable)
        #expect(error?.httpStatus == 503)
        // The outage ends: the next call refreshes and succeeds.
        org.state.withLock { $0.refreshError = nil }
        _ = try await client.query(anyQuery)
        #expect(org.state.withLock { $0.tokenRequests } == 2)
    }

    @Test func aRetriedCallThatStillGets401NeedsReauthentication() async throws {
        let org = ScriptedOrg()
        org.state.withLock { $0.alwaysUnauthorized = true }
        let client = makeClient(org)
        let error = await #expect(throws: SalesforceError.self) { try await client.query(anyQuery) }
        #expect(error?.code == .invalidSessionID)
        #expect(error?.classification == .needsReauthentication)
        #expect(error?.httpStatus == 401)
        #expect(org.state.withLock { $0.tokenRequests } == 1)
        #expect(org.state.withLock { $0.apiRequests.count } == 2)
    }

    @Test func noRefreshForASessionNotValidForREST() async throws {
        let org = ScriptedOrg()
        org.state.withLock {
            $0.alwaysUnauthorized = true
            $0.unauthorizedBody = #"[{"message":"This session is not valid for use with the REST API","errorCode":"INVALID_SESSION_ID"}]"#
        }
        let client = makeClient(org)
        let error = await #expect(throws: SalesforceError.self) { try await client.query(anyQuery) }
        #expect(error?.classification == .needsReauthentication)
        #expect(org.state.withLock { $0.tokenRequests } == 0)
        #expect(org.state.withLock { $0.apiRequests.count } == 1)
    }

    @Test func aCallWaitingForAPermitUsesTheTokenCurrentWhenItIsSent() async throws {
        let org = ScriptedOrg(apiDelay: .milliseconds(30))
        org.state.withLock { $0.validToken = "expired-elsewhere" }
        let client = makeClient(org, maxInFlight: 1)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<5 { group.addTask { _ = try await client.query(anyQuery) } }
            try await group.waitForAll()
        }
        // Only the first call met the stale token; the others waited in line and sent the new one.
        let requests = org.state.withLock { $0.apiRequests }
        #expect(requests.count == 6)
        #expect(requests.filter { $0.headers["Authorization"] == "Bearer t0" }.count == 1)
        #expect(org.state.withLock { $0.tokenRequests } == 1)
    }

    @Test func requestsInFlightAreCapped() async throws {
        let org = ScriptedOrg(apiDelay: .milliseconds(20))
        let client = makeClient(org, maxInFlight: 3)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<12 { group.addTask { _ = try await client.query(anyQuery) } }
            try await group.waitForAll()
        }
        #expect(org.state.withLock { $0.maxInFlight } == 3)
        #expect(client.apiUsage == APIUsage(used: 42, max: 15000))
    }

    @Test func requestShape() async throws {
        let org = ScriptedOrg()
        let client = makeClient(org)
        _ = try await client.query(
            SOQL.select(["Id"], from: "Lead").where(.equals("Email", .string("a+b&c=d%e f@x.com"))))
        let request = try #require(org.state.withLock { $0.apiRequests.first })
        #expect(request.method == .get)
        let components = try #require(URLComponents(string: request.url))
        #expect(components.path == "/services/data/v62.0/query")
        #expect(components.queryItems?.first?.value == "SELECT Id FROM Lead WHERE Email = 'a+b&c=d%e f@x.com'")
        #expect(request.url.contains("a%2Bb%26c%3Dd%25e%20f%40x.com"))
        #expect(request.headers["Authorization"] == "Bearer t0")
    }

    @Test func collectionsAreChunkedBy200() async throws {
        let org = ScriptedOrg { request in
            struct Body: Decodable { var records: [SObjectRecord] }
            let records = (try? JSONDecoder().decode(Body.self, from: request.body ?? Data()).records) ?? []
            let results = records.map { #"{"id":"\#($0["Subject"]?.stringValue ?? "")","success":true,"errors":[]}"# }
            return ScriptedOrg.json(200, "[" + results.joined(separator: ",") + "]")
        }
        let client = makeClient(org)
        let records = (0..<450).map { SObjectRecord(type: "Task", fields: ["Subject": .string("s\($0)")]) }
        let results = try await client.createRecords(records)
        #expect(results.map(\.id) == (0..<450).map { "s\($0)" })
        let sizes = org.state.withLock { $0.apiRequests }.map { request -> Int in
            struct Body: Decodable { var records: [SObjectRecord] }
            return (try? JSONDecoder().decode(Body.self, from: request.body ?? Data()).records.count) ?? -1
        }
        #expect(sizes == [200, 200, 50])
    }

    @Test func argumentsAreCheckedBeforeSending() async throws {
        let org = ScriptedOrg()
        let client = makeClient(org)
        let many = (0..<26).map { CompositeSubrequest.create("Account", referenceId: "r\($0)", fields: [:]) }
        await #expect(throws: SalesforceError.self) { try await client.composite(many, allOrNone: true) }
        let duplicate = [
            CompositeSubrequest.create("Account", referenceId: "a", fields: [:]),
            CompositeSubrequest.create("Account", referenceId: "a", fields: [:]),
        ]
        await #expect(throws: SalesforceError.self) { try await client.composite(duplicate, allOrNone: true) }
        await #expect(throws: SalesforceError.self) {
            try await client.createRecords([SObjectRecord(type: nil, fields: [:])])
        }
        await #expect(throws: SalesforceError.self) {
            try await client.updateRecords([SObjectRecord(type: "Task", fields: [:])])
        }
        await #expect(throws: SalesforceError.self) { try await client.create("Lead; DROP", fields: ["a": JSONValue.null]) }
        await #expect(throws: SalesforceError.self) {
            _ = try await client.queryMore("https://evil.example.com/services/data/v62.0/query/x", as: SObjectRecord.self)
        }
        #expect(org.state.withLock { $0.apiRequests.count } == 0)
    }
}

@Suite("Async semaphore")
struct AsyncSemaphoreTests {
    @Test func waitersResumeInArrivalOrder() async throws {
        let semaphore = AsyncSemaphore(permits: 1)
        try await semaphore.acquire()
        let order = Recorder<Int>()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<5 {
                group.addTask {
                    try await semaphore.acquire()
                    order.append(index)
                    semaphore.release()
                }
                // Let this waiter queue before the next one arrives.
                while semaphore.waiterCount < index + 1 { await Task.yield() }
            }
            semaphore.release()
            try await group.waitForAll()
        }
        #expect(order.values == [0, 1, 2, 3, 4])
        #expect(semaphore.availablePermits == 1)
    }

    @Test func aCancelledWaiterLeavesWithoutTakingAPermit() async throws {
        let semaphore = AsyncSemaphore(permits: 1)
        try await semaphore.acquire()
        let waiter = Task { try await semaphore.acquire() }
        while semaphore.waiterCount < 1 { await Task.yield() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(semaphore.waiterCount == 0)
        semaphore.release()
        #expect(semaphore.availablePermits == 1)
        // A task cancelled before it asks never waits.
        try await semaphore.acquire()
        let late = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await semaphore.acquire()
        }
        await #expect(throws: CancellationError.self) { try await late.value }
        semaphore.release()
        #expect(semaphore.availablePermits == 1)
    }
}

@Suite("Response shapes (scripted transport)")
struct ResponseShapeTests {
    func upsert(status: Int, body: String) async throws -> UpsertResult {
        let org = ScriptedOrg { _ in ScriptedOrg.json(status, body) }
        return try await makeClient(org).upsert(
            "Task", externalIDField: "DocSend_Visit_Id__c", value: "a/b c", fields: ["Subject": "s"] as [String: String])
    }

    @Test func upsertOutcomesAcrossAPIVersions() async throws {
        #expect(try await upsert(status: 201, body: #"{"id":"00T1","success":true,"errors":[],"created":true}"#) == .created(id: "00T1"))
        #expect(try await upsert(status: 201, body: #"{"id":"00T1","success":true,"errors":[]}"#) == .created(id: "00T1"))
        #expect(try await upsert(status: 200, body: #"{"id":"00T2","success":true,"errors":[],"created":false}"#) == .updated(id: "00T2"))
        #expect(try await upsert(status: 204, body: "") == .updated(id: nil))
        let error = await #expect(throws: SalesforceError.self) {
            _ = try await upsert(status: 300, body: #"["/services/data/v62.0/sobjects/Task/00T1","/services/data/v62.0/sobjects/Task/00T2"]"#)
        }
        #expect(error?.code == .multipleMatches)
        #expect(error?.message.contains("2 records") == true)
        #expect(error?.classification == .permanent)
    }

    @Test func externalIDValueIsOnePathSegment() async throws {
        let org = ScriptedOrg { _ in ScriptedOrg.json(204, "") }
        _ = try await makeClient(org).upsert(
            "Task", externalIDField: "DocSend_Visit_Id__c", value: "a/b c?d", fields: ["Subject": "s"] as [String: String])
        let url = try #require(org.state.withLock { $0.apiRequests.first?.url })
        #expect(url == "https://org.example.com/services/data/v62.0/sobjects/Task/DocSend_Visit_Id__c/a%2Fb%20c%3Fd")
    }

    @Test func undecodableSuccessIsAnInvalidResponse() async throws {
        let org = ScriptedOrg { _ in ScriptedOrg.json(200, "<html>proxy</html>") }
        let error = await #expect(throws: SalesforceError.self) { _ = try await makeClient(org).limits() }
        #expect(error?.code == .invalidResponse)
        #expect(error?.classification == .permanent)
    }

    @Test func aPageWithoutNextURLIsAnInvalidResponse() async throws {
        let org = ScriptedOrg { _ in ScriptedOrg.json(200, #"{"totalSize":5,"done":false,"records":[]}"#) }
        let error = await #expect(throws: SalesforceError.self) { _ = try await makeClient(org).query(anyQuery) }
        #expect(error?.code == .invalidResponse)
    }
}
