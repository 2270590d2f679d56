import Foundation

/// What a REST resource answers, before headers common to all REST responses are added.
struct RESTResult: Sendable {
    var status: Int
    var body: JSONValue?
    var headers: [(name: String, value: String)] = []

    static func error(_ e: SalesforceError) -> RESTResult {
        var r = RESTResult(status: e.status, body: .array([e.restJSON]))
        if e.status == 401 { r.headers.append(("WWW-Authenticate", "Token")) }
        if let allowed = e.allowedMethods { r.headers.append(("Allow", allowed)) }
        return r
    }
}

extension SandboxOrg {
    /// Answers one Salesforce request (REST or OAuth) and records it in the request log.
    /// Faults are decided before this by the HTTP layer (``decideFault(method:path:)``).
    public func handle(_ req: SandboxHTTPRequest) -> SandboxHTTPResponse {
        let (response, counted) = route(req)
        logRequest(req, status: response.status, fault: nil, counted: counted)
        return response
    }

    /// The response of an injected error fault (500, 503, UNABLE_TO_LOCK_ROW, 401, 403), logged.
    public func faultResponse(_ kind: FaultKind, for req: SandboxHTTPRequest) -> SandboxHTTPResponse {
        let e: SalesforceError
        switch kind {
        case .serviceUnavailable: e = SalesforceError(status: 503, "SERVER_UNAVAILABLE", "Server temporarily unavailable. Please try again later.")
        case .unableToLockRow:
            e = SalesforceError(status: 400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records: \(SalesforceID.make(keyPrefix: "00T", serial: 7))")
        case .invalidSession: e = .invalidSession
        case .requestLimitExceeded: e = .requestLimitExceeded
        case .duplicateValue:
            e = SalesforceError(status: 400, "DUPLICATE_VALUE", "duplicate value found: an external id field duplicates value on record with id: \(SalesforceID.make(keyPrefix: "00T", serial: 9))")
        case .maintenancePage:
            logRequest(req, status: 503, fault: kind.rawValue, counted: false)
            return SandboxHTTPResponse(
                status: 503, headers: [("Content-Type", "text/html; charset=UTF-8")],
                body: Data("<html><head><title>Maintenance</title></head><body><h1>Down for maintenance</h1><p>Salesforce is down for maintenance. Please try again later.</p></body></html>".utf8))
        default:
            e = SalesforceError(status: 500, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: 1914937145-52641 (-1240497296)")
        }
        var r = RESTResult.error(e)
        if isREST(req.path) { r.headers.append(limitHeader) }
        logRequest(req, status: e.status, fault: kind.rawValue, counted: false)
        return .json(e.status, r.body ?? .null, headers: r.headers)
    }

    /// Logs a request that got no response (dropped or hung).
    public func logUnanswered(_ req: SandboxHTTPRequest, fault: FaultKind) {
        logRequest(req, status: nil, fault: fault.rawValue, counted: false)
    }

    func logRequest(_ req: SandboxHTTPRequest, status: Int?, fault: String?, counted: Bool) {
        var headers: [String: String] = [:]
        for h in req.headers { headers[h.name.lowercased()] = h.value }
        record(RecordedRequest(
            sequence: nextLogSequence(), method: req.method, path: req.path, query: req.query, headers: headers,
            body: String(decoding: req.body, as: UTF8.self), status: status, fault: fault, countedAsAPICall: counted,
            time: SalesforceDate.dateTimeString(Date())))
    }

    var limitHeader: (name: String, value: String) { ("Sforce-Limit-Info", "api-usage=\(apiUsed)/\(apiMax)") }

    func isREST(_ path: String) -> Bool { path.hasPrefix("/services/data") }

    private func route(_ req: SandboxHTTPRequest) -> (SandboxHTTPResponse, Bool) {
        var path = req.path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        switch path {
        case "/services/oauth2/authorize": return (oauthAuthorize(req), false)
        case "/services/oauth2/token": return (oauthToken(req), false)
        case "/services/oauth2/revoke": return (oauthRevoke(req), false)
        case "/services/data":
            guard req.method == "GET" else { return (respond(.error(methodNotAllowed(req.method, ["GET"]))), false) }
            let versions = (50...66).map { v -> JSONValue in
                ["label": .string("v\(v).0"), "url": .string("/services/data/v\(v).0"), "version": .string("\(v).0")]
            }
            return (.json(200, .array(versions)), false)
        default: break
        }
        let segments = Self.pathSegments(path)
        if segments.count == 3, segments[0] == "id" {
            return (identity(req, orgId: segments[1], userId: segments[2]), false)
        }
        guard segments.count >= 3, segments[0] == "services", segments[1] == "data", let version = Self.version(segments[2]) else {
            return (respond(.error(.notFound()), rest: isREST(path)), false)
        }
        guard let auth = authenticate(req) else {
            return (respond(.error(.invalidSession), rest: true), false)
        }
        if apiUsed >= apiMax {
            return (respond(.error(.requestLimitExceeded), rest: true), false)
        }
        apiUsed += 1
        let result = rest(
            method: req.method, segments: Array(segments.dropFirst(3)), query: req.query, body: req.body,
            headers: req.headers, version: version, userId: auth.userId, topLevel: true)
        return (respond(result, rest: true), true)
    }

    /// `GET /id/{orgId}/{userId}`: the identity URL of a token response (a subset of Salesforce's fields).
    private func identity(_ req: SandboxHTTPRequest, orgId org: String, userId uid: String) -> SandboxHTTPResponse {
        guard let auth = authenticate(req) else { return Self.html(403, "Bad_OAuth_Token") }
        guard SalesforceID.normalize(org) == orgId, let user = store.record(id: uid), user.type == "User", user.id == auth.userId else {
            return Self.html(404, "Not Found")
        }
        return .json(200, .object(JSONObject([
            ("id", .string("\(baseURL)/id/\(orgId)/\(user.id)")), ("asserted_user", true), ("user_id", .string(user.id)),
            ("organization_id", .string(orgId)), ("username", user["Username"] ?? .null), ("display_name", user["Name"] ?? .null),
            ("email", user["Email"] ?? .null), ("active", user["IsActive"] ?? true), ("user_type", "STANDARD"),
            ("urls", ["rest": .string("\(baseURL)/services/data/v{version}/"), "query": .string("\(baseURL)/services/data/v{version}/query/")]),
        ])))
    }

    func respond(_ r: RESTResult, rest: Bool = false) -> SandboxHTTPResponse {
        var headers = r.headers
        if rest { headers.append(limitHeader) }
        guard let body = r.body else { return SandboxHTTPResponse(status: r.status, headers: headers) }
        return .json(r.status, body, headers: headers)
    }

    /// `v62.0` → `62.0`.
    static func version(_ s: String) -> String? {
        guard s.hasPrefix("v") else { return nil }
        let parts = s.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, parts.allSatisfy({ $0.allSatisfy(\.isNumber) }) else { return nil }
        return String(s.dropFirst())
    }

    func authenticate(_ req: SandboxHTTPRequest) -> AccessGrant? {
        guard let h = req.header("Authorization") else { return nil }
        let parts = h.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, ["bearer", "oauth"].contains(parts[0].lowercased()) else { return nil }
        let token = String(parts[1]).trimmingCharacters(in: .whitespaces)
        guard let grant = accessTokens[token] else { return nil }
        if let lifetime = tokenLifetime, Date().timeIntervalSince(grant.issuedAt) >= lifetime { return nil }
        return grant
    }

    func methodNotAllowed(_ method: String, _ allowed: [String]) -> SalesforceError {
        var e = SalesforceError(status: 405, "METHOD_NOT_ALLOWED", "HTTP Method '\(method)' not allowed. Allowed are \(allowed.joined(separator: ","))")
        e.allowedMethods = allowed.joined(separator: ", ")
        return e
    }

    // MARK: REST resources

    func rest(
        method: String, segments: [String], query: [String: String], body: Data, headers: [(name: String, value: String)],
        version: String, userId: String, topLevel: Bool
    ) -> RESTResult {
        do throws(SalesforceError) {
            return try restThrowing(method: method, segments: segments, query: query, body: body, headers: headers, version: version, userId: userId, topLevel: topLevel)
        } catch {
            return .error(error)
        }
    }

    func allow(_ method: String, _ allowed: [String]) throws(SalesforceError) {
        guard allowed.contains(method) else { throw methodNotAllowed(method, allowed) }
    }

    private func restThrowing(
        method: String, segments s: [String], query: [String: String], body: Data, headers: [(name: String, value: String)],
        version: String, userId: String, topLevel: Bool
    ) throws(SalesforceError) -> RESTResult {
        let base = "/services/data/v\(version)"
        switch s.count {
        case 0:
            try allow(method, ["GET"])
            let names = ["sobjects", "query", "queryAll", "composite", "limits"]
            return RESTResult(status: 200, body: .object(JSONObject(names.map { ($0, .string("\(base)/\($0)")) })))
        default: break
        }
        switch s[0] {
        case "limits" where s.count == 1:
            try allow(method, ["GET"])
            return RESTResult(status: 200, body: limitsJSON())
        case "query", "queryAll":
            try allow(method, ["GET"])
            if s.count == 1 {
                guard let q = query["q"], !q.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw SalesforceError("MALFORMED_QUERY", "A query string has to be specified")
                }
                let batch = Self.batchSize(headers)
                return RESTResult(status: 200, body: try runQuery(q, version: version, batchSize: batch, includeDeleted: s[0] == "queryAll"))
            }
            guard s.count == 2 else { throw SalesforceError.notFound() }
            return RESTResult(status: 200, body: try nextPage(locator: s[1], version: version))
        case "sobjects":
            return try sobjects(method: method, s: Array(s.dropFirst()), query: query, body: body, headers: headers, version: version, userId: userId)
        case "composite":
            if s.count == 1 {
                try allow(method, ["POST"])
                guard topLevel else { throw SalesforceError("INVALID_REQUEST", "Composite requests cannot be nested") }
                return try composite(body: body, headers: headers, version: version, userId: userId)
            }
            if s.count == 2, s[1] == "sobjects" {
                try allow(method, ["POST", "PATCH", "DELETE"])
                return try collections(method: method, query: query, body: body, headers: headers, version: version, userId: userId)
            }
            if s.count == 4, s[1] == "sobjects" {
                try allow(method, ["PATCH"])
                return try collectionsUpsert(
                    type: s[2], externalIDField: s[3], body: body, headers: headers, userId: userId)
            }
            throw SalesforceError.notFound()
        default:
            throw SalesforceError.notFound()
        }
    }

    static func batchSize(_ headers: [(name: String, value: String)]) -> Int {
        guard let h = headers.first(where: { $0.name.caseInsensitiveCompare("Sforce-Query-Options") == .orderedSame })?.value else { return 2000 }
        for part in h.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2, kv[0].caseInsensitiveCompare("batchSize") == .orderedSame, let n = Int(kv[1]) {
                return min(2000, max(200, n))
            }
        }
        return 2000
    }

    func limitsJSON() -> JSONValue {
        func limit(_ max: Int, _ remaining: Int) -> JSONValue { ["Max": .number(Double(max)), "Remaining": .number(Double(remaining))] }
        return .object(JSONObject([
            ("ConcurrentAsyncGetReportInstances", limit(200, 200)),
            ("DailyApiRequests", limit(apiMax, max(0, apiMax - apiUsed))),
            ("DailyAsyncApexExecutions", limit(250000, 250000)),
            ("DailyBulkApiBatches", limit(15000, 15000)),
            ("DataStorageMB", limit(5, 5)),
            ("FileStorageMB", limit(20, 20)),
            ("HourlyPublishedPlatformEvents", limit(50000, 50000)),
        ]))
    }

    // MARK: Query

    func recordJSON(_ r: SandboxRecord, fields: [String]?, version: String) -> JSONValue {
        var o = JSONObject()
        o["attributes"] = ["type": .string(r.type), "url": .string("/services/data/v\(version)/sobjects/\(r.type)/\(r.id)")]
        for name in fields ?? r.fields.keys { o[name] = r.fields[name] ?? .null }
        return .object(o)
    }

    func runQuery(_ q: String, version: String, batchSize: Int, includeDeleted: Bool) throws(SalesforceError) -> JSONValue {
        let store = self.store
        let query = try SOQLQuery.parse(q) { store.schema($0) }
        let rows = query.run(on: store.all(query.object), includeDeleted: includeDeleted)
        if query.isCount {
            return ["totalSize": .number(Double(rows.count)), "done": true, "records": []]
        }
        let projected = rows.map { recordJSON($0, fields: query.fields, version: version) }
        cursorSerial += 1
        let locator = SalesforceID.make(keyPrefix: "01g", serial: cursorSerial)
        let cursor = QueryCursor(records: projected, totalSize: projected.count, batchSize: batchSize, version: version)
        return page(cursor, locator: locator, start: 0)
    }

    private func page(_ cursor: QueryCursor, locator: String, start: Int) -> JSONValue {
        let end = min(cursor.records.count, start + cursor.batchSize)
        var o = JSONObject()
        o["totalSize"] = .number(Double(cursor.totalSize))
        o["done"] = .bool(end >= cursor.records.count)
        if end < cursor.records.count {
            o["nextRecordsUrl"] = .string("/services/data/v\(cursor.version)/query/\(locator)-\(end)")
            cursors[locator] = cursor
        } else {
            cursors[locator] = nil
        }
        o["records"] = .array(Array(cursor.records[start..<end]))
        return .object(o)
    }

    private func nextPage(locator text: String, version: String) throws(SalesforceError) -> JSONValue {
        let parts = text.split(separator: "-", maxSplits: 1).map(String.init)
        guard parts.count == 2, let start = Int(parts[1]), start >= 0, var cursor = cursors[parts[0]], start < cursor.records.count else {
            throw SalesforceError(status: 400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        }
        cursor.version = version
        return page(cursor, locator: parts[0], start: start)
    }
}

extension SandboxOrg {
    /// The segments of a still percent-encoded path, each decoded on its own, as Salesforce routes: an
    /// encoded slash inside an external id stays inside its segment.
    static func pathSegments(_ path: String) -> [String] {
        path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
    }
}
