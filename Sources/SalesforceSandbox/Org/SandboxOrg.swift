import Foundation

/// A request as the sandbox sees it (the HTTP layer converts to and from this).
public struct SandboxHTTPRequest: Sendable {
    /// HTTP method, upper-case.
    public var method: String
    /// The path, percent-decoded, without the query.
    public var path: String
    /// Query parameters (first value of each name), percent-decoded, `+` as space.
    public var query: [String: String]
    /// Header fields; names compared case-insensitively through ``header(_:)``.
    public var headers: [(name: String, value: String)]
    /// Body bytes (text for logged requests).
    public var body: Data

    /// Creates a value.
    public init(method: String, path: String, query: [String: String] = [:], headers: [(name: String, value: String)] = [], body: Data = Data()) {
        self.method = method.uppercased()
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name`.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// Parses `a=b&c=d` (percent-decoded, `+` as space); the first value of a name wins.
    public static func parseForm(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            let key = decode(parts[0])
            if out[key] == nil { out[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return out
    }
}

/// A response from the sandbox.
public struct SandboxHTTPResponse: Sendable {
    /// HTTP status.
    public var status: Int
    /// Header fields.
    public var headers: [(name: String, value: String)]
    /// Body bytes (text for logged requests).
    public var body: Data

    /// Creates a value.
    public init(status: Int, headers: [(name: String, value: String)] = [], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    static func json(_ status: Int, _ value: JSONValue, headers: [(name: String, value: String)] = []) -> SandboxHTTPResponse {
        SandboxHTTPResponse(status: status, headers: [("Content-Type", "application/json;charset=UTF-8")] + headers, body: value.data)
    }
}

/// One request the sandbox received, as `GET /_sandbox/requests` lists it.
public struct RecordedRequest: Sendable, Codable, Equatable {
    /// 1, 2, 3… in arrival order.
    public var sequence: Int
    /// HTTP method, upper-case.
    public var method: String
    /// Path without the query.
    public var path: String
    /// Query parameters.
    public var query: [String: String]
    /// Header fields.
    public var headers: [String: String]
    /// Body bytes (text for logged requests).
    public var body: String
    /// The status answered (nil when the connection was dropped or hung).
    public var status: Int?
    /// The injected fault, if any.
    public var fault: String?
    /// Whether it counted against the daily API allocation.
    public var countedAsAPICall: Bool
    /// Arrival time, Salesforce datetime format.
    public var time: String
}

struct OAuthClient: Sendable {
    var seed: OAuthClientSeed
    var rotate: Bool { seed.rotateRefreshTokens ?? false }
}

struct AuthorizationCode: Sendable {
    var clientId: String
    var redirectURI: String
    var userId: String
    var challenge: String?
    var scope: String
    var expires: Date
}

struct RefreshGrant: Sendable {
    var clientId: String
    var userId: String
    var scope: String
    var family: Int
    var active: Bool
}

struct AccessGrant: Sendable {
    var userId: String
    var clientId: String?
    var issuedAt: Date
    var family: Int?
}

struct QueryCursor: Sendable {
    var records: [JSONValue]
    var totalSize: Int
    var batchSize: Int
    var version: String
}

/// The in-memory org: records, schemas, OAuth clients and tokens, API usage, faults and the request log.
/// Everything is plain Swift behind this actor; the HTTP layer only converts requests and responses.
public actor SandboxOrg {
    var store: RecordStore
    var orgId: String
    var defaultUserId: String = ""
    var clients: [String: OAuthClient] = [:]
    var codes: [String: AuthorizationCode] = [:]
    var refreshTokens: [String: RefreshGrant] = [:]
    var accessTokens: [String: AccessGrant] = [:]
    var familySerial = 0
    /// Seconds an access token lives (nil: forever).
    var tokenLifetime: Double?
    var apiMax = 15000
    var apiUsed = 0
    var faults = FaultEngine()
    var log: [RecordedRequest] = []
    var logSerial = 0
    var cursors: [String: QueryCursor] = [:]
    var cursorSerial = 0
    /// Duplicate rules with canonical object and field names.
    var duplicateRuleSet: [DuplicateRuleSeed] = []
    /// Successful record writes through the Salesforce routes.
    var changeFeed = ChangeFeed()
    let initialSeed: SandboxSeed
    /// `scheme://host:port` the org advertises as `instance_url`.
    public internal(set) var baseURL: String

    /// A fresh org loaded with `seed`.
    public init(seed: SandboxSeed = SandboxSeed(), baseURL: String = "http://127.0.0.1") throws {
        self.initialSeed = seed
        self.baseURL = baseURL
        let orgId = SalesforceID.normalize(seed.orgId ?? "") ?? SalesforceID.make(keyPrefix: "00D", serial: 1)
        self.orgId = orgId
        var state = SeedLoader(store: RecordStore(schemas: ObjectSchema.standardObjects()), orgId: orgId)
        try state.apply(seed, replacing: true)
        self.store = state.store
        self.defaultUserId = state.defaultUserId ?? ""
        self.clients = state.clients
        self.refreshTokens = state.refreshTokens
        self.accessTokens = state.accessTokens
        self.apiMax = seed.limits?.dailyApiRequests ?? 15000
        self.apiUsed = seed.limits?.used ?? 0
        self.faults = FaultEngine(seed.faults ?? FaultSettings())
        self.tokenLifetime = seed.accessTokenLifetimeSeconds
        self.duplicateRuleSet = try state.store.validatedDuplicateRules(seed.duplicateRules ?? [])
    }

    func setBaseURL(_ url: String) { baseURL = url }

    /// Adds a seed to the current org (records, users, fields, clients, tokens; limits, faults and duplicate
    /// rules replaced when given).
    public func apply(_ seed: SandboxSeed) throws {
        var state = SeedLoader(store: store, orgId: orgId)
        state.defaultUserId = defaultUserId.isEmpty ? nil : defaultUserId
        state.clients = clients
        state.refreshTokens = refreshTokens
        state.accessTokens = accessTokens
        try state.apply(seed, replacing: false)
        var rules: [DuplicateRuleSeed]?
        if let given = seed.duplicateRules { rules = try state.store.validatedDuplicateRules(given) }
        store = state.store
        defaultUserId = state.defaultUserId ?? defaultUserId
        clients = state.clients
        refreshTokens = state.refreshTokens
        accessTokens = state.accessTokens
        if let l = seed.limits {
            if let m = l.dailyApiRequests { apiMax = m }
            if let u = l.used { apiUsed = u }
        }
        if let f = seed.faults { faults.replace(f) }
        if let t = seed.accessTokenLifetimeSeconds { tokenLifetime = t }
        if let rules { duplicateRuleSet = rules }
    }

    /// Back to a fresh org loaded with `seed` (default: the seed it started with). Clears the request log
    /// and the change feed (its `seq` starts again at 1).
    public func reset(to seed: SandboxSeed? = nil) throws {
        let s = seed ?? initialSeed
        let newOrgId = SalesforceID.normalize(s.orgId ?? "") ?? orgId
        var state = SeedLoader(store: RecordStore(schemas: ObjectSchema.standardObjects()), orgId: newOrgId)
        try state.apply(s, replacing: true)
        let rules = try state.store.validatedDuplicateRules(s.duplicateRules ?? [])
        codes = [:]
        cursors = [:]
        log = []
        logSerial = 0
        changeFeed = ChangeFeed()
        duplicateRuleSet = rules
        orgId = newOrgId
        store = state.store
        defaultUserId = state.defaultUserId ?? ""
        clients = state.clients
        refreshTokens = state.refreshTokens
        accessTokens = state.accessTokens
        apiMax = s.limits?.dailyApiRequests ?? 15000
        apiUsed = s.limits?.used ?? 0
        faults = FaultEngine(s.faults ?? FaultSettings())
        tokenLifetime = s.accessTokenLifetimeSeconds
    }

    // MARK: In-process API for tests

    /// The org id (18 characters).
    public var organizationId: String { orgId }

    /// Every record of `type`, deleted ones included, in creation order.
    public func records(_ type: String) -> [SandboxRecord] { store.all(type) }

    /// One record by id (deleted ones included).
    public func record(id: String) -> SandboxRecord? { store.record(id: id) }

    /// Creates a record through the same validation as `POST sobjects/{type}`; returns its id.
    @discardableResult
    public func create(_ type: String, _ fields: JSONObject) throws(SalesforceError) -> String {
        try store.create(type: type, body: fields, now: Date(), userId: defaultUserId)
    }

    /// The id of the user with `username` (nil if none).
    public func userId(username: String) -> String? {
        store.all("User").first { $0["Username"]?.stringValue?.caseInsensitiveCompare(username) == .orderedSame }?.id
    }

    /// Every request received so far, oldest first.
    public func requests() -> [RecordedRequest] { log }

    /// Forgets the request log.
    public func clearRequests() { log = [] }

    /// Replaces the fault settings.
    public func setFaults(_ settings: FaultSettings) { faults.replace(settings) }

    /// The current fault settings (counters as left by the requests so far).
    public func faultSettings() -> FaultSettings { faults.settings }

    /// Appends a fault rule, e.g. `.next(2, .serverError)`.
    public func addFault(_ rule: FaultRule) { faults.add(rule) }

    /// Decides latency and fault for one request (used by the HTTP layer; consumes counters and randomness).
    public func decideFault(method: String, path: String) -> FaultDecision {
        faults.decide(method: method, path: path)
    }

    /// API usage: calls spent and the daily maximum.
    public func apiUsage() -> (used: Int, max: Int) { (apiUsed, apiMax) }

    /// Sets the daily allocation and/or what is spent.
    public func setAPILimit(max: Int? = nil, used: Int? = nil) {
        if let max { apiMax = max }
        if let used { apiUsed = used }
    }

    /// Access tokens expire `seconds` after issue (nil: never). Applies to tokens already issued too.
    public func setAccessTokenLifetime(seconds: Double?) { tokenLifetime = seconds }

    /// Invalidates every access token (refresh tokens stay valid).
    public func expireAllAccessTokens() { accessTokens = [:] }

    /// Issues an access token for a user (default: the first seeded user), as a login would.
    public func issueAccessToken(username: String? = nil) throws(SalesforceError) -> String {
        let uid = try resolveUser(username)
        let token = newAccessToken()
        accessTokens[token] = AccessGrant(userId: uid, clientId: nil, issuedAt: Date(), family: nil)
        return token
    }

    /// Issues a refresh token for an OAuth client and user (default: the first seeded user).
    public func issueRefreshToken(clientId: String, username: String? = nil, scope: String = "api refresh_token") throws(SalesforceError) -> String {
        guard clients[clientId] != nil else { throw SalesforceError("INVALID_CLIENT", "unknown client \(clientId)") }
        let uid = try resolveUser(username)
        familySerial += 1
        let token = "5Aep" + Self.randomToken(80)
        refreshTokens[token] = RefreshGrant(clientId: clientId, userId: uid, scope: scope, family: familySerial, active: true)
        return token
    }

    /// Adds or replaces an OAuth client.
    public func addOAuthClient(_ client: OAuthClientSeed) { clients[client.clientId] = OAuthClient(seed: client) }

    func resolveUser(_ username: String?) throws(SalesforceError) -> String {
        if let username {
            guard let id = userId(username: username) else { throw SalesforceError("INVALID_USER", "no user \(username)") }
            return id
        }
        guard !defaultUserId.isEmpty else { throw SalesforceError("INVALID_USER", "the org has no users") }
        return defaultUserId
    }

    func newAccessToken() -> String { String(orgId.prefix(15)) + "!AR" + Self.randomToken(96) }

    static func randomToken(_ n: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._")
        var g = SystemRandomNumberGenerator()
        return String((0..<n).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] })
    }

    func record(_ entry: RecordedRequest) {
        log.append(entry)
        if log.count > 10_000 { log.removeFirst(log.count - 10_000) }
    }

    func nextLogSequence() -> Int {
        logSerial += 1
        return logSerial
    }
}
