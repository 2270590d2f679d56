import Foundation

/// Control routes under `/_sandbox`, kept apart from the Salesforce routes: no auth, no API counting,
/// no faults, no `Sforce-Limit-Info`. See `docs/salesforce-sandbox.md`.
extension SandboxOrg {
    /// The control-route prefix.
    public static let controlPrefix = "/_sandbox"

    static func encode<T: Encodable>(_ value: T, status: Int = 200) -> SandboxHTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(value) else { return .json(500, ["error": "encoding failed"]) }
        return SandboxHTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: data)
    }

    static func controlError(_ status: Int, _ message: String) -> SandboxHTTPResponse {
        .json(status, ["error": .string(message)])
    }

    static func decode<T: Decodable>(_ type: T.Type, _ body: Data) -> Result<T, SandboxControlError> {
        do {
            return .success(try JSONDecoder().decode(T.self, from: body))
        } catch {
            return .failure(SandboxControlError(message: "invalid JSON body: \(error)"))
        }
    }

    /// Answers a `/_sandbox/...` request.
    public func control(_ req: SandboxHTTPRequest) -> SandboxHTTPResponse {
        var path = req.path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        let s = Self.pathSegments(path).dropFirst()
        let m = req.method
        switch (m, Array(s)) {
        case ("GET", []):
            return .json(200, [
                "routes": [
                    "GET /_sandbox/records/{type}", "POST /_sandbox/records/{type}", "GET /_sandbox/requests", "DELETE /_sandbox/requests",
                    "POST /_sandbox/reset", "POST /_sandbox/seed", "GET|PUT|DELETE /_sandbox/faults", "POST /_sandbox/faults/rules",
                    "GET|PUT /_sandbox/limits", "POST|DELETE /_sandbox/tokens", "PUT /_sandbox/tokens/lifetime", "GET|PUT /_sandbox/info",
                    "GET|PUT|DELETE /_sandbox/duplicate-rules", "GET /_sandbox/changes?after=N",
                ],
            ])
        case ("GET", ["info"]):
            return .json(200, [
                "baseURL": .string(baseURL), "orgId": .string(orgId), "defaultUserId": .string(defaultUserId),
                "oauthClients": .array(clients.keys.sorted().map { .string($0) }),
            ])
        case ("PUT", ["info"]):
            // The URL the org advertises (`instance_url`, identity URLs): Salesforce always gives its https
            // address, so a client behind a TLS front must be told the front's URL, not the plain listener's.
            guard let o = try? JSONValue.parse(req.body).objectValue, let url = o["baseURL"]?.stringValue,
                  let c = URLComponents(string: url), ["http", "https"].contains(c.scheme ?? ""), c.host?.isEmpty == false,
                  c.path.isEmpty || c.path == "/", c.query == nil
            else { return Self.controlError(400, "expected {\"baseURL\":\"https://host:port\"}") }
            var trimmed = url
            while trimmed.hasSuffix("/") { trimmed.removeLast() }
            setBaseURL(trimmed)
            return .json(200, ["baseURL": .string(baseURL)])
        case ("GET", let p) where p.count == 2 && p[0] == "records":
            guard let schema = store.schema(p[1]) else { return Self.controlError(404, "unknown object \(p[1])") }
            let records = store.all(schema.name).map { recordJSON($0, fields: nil, version: "62.0") }
            return .json(200, ["totalSize": .number(Double(records.count)), "records": .array(records)])
        case ("POST", let p) where p.count == 2 && p[0] == "records":
            do throws(SalesforceError) {
                let id = try store.create(type: p[1], body: try parseObjectBody(req.body), now: Date(), userId: defaultUserId)
                return .json(201, ["id": .string(id)])
            } catch {
                return .json(error.status, .array([error.restJSON]))
            }
        case ("GET", ["requests"]):
            return Self.encode(log)
        case ("DELETE", ["requests"]):
            log = []
            return SandboxHTTPResponse(status: 204)
        case ("POST", ["reset"]):
            var seed: SandboxSeed?
            if !req.body.isEmpty {
                switch Self.decode(SandboxSeed.self, req.body) {
                case .success(let s): seed = s
                case .failure(let e): return Self.controlError(400, e.message)
                }
            }
            do { try reset(to: seed) } catch { return Self.controlError(400, "\(error)") }
            return SandboxHTTPResponse(status: 204)
        case ("POST", ["seed"]):
            switch Self.decode(SandboxSeed.self, req.body) {
            case .success(let s):
                do { try apply(s) } catch { return Self.controlError(400, "\(error)") }
                return SandboxHTTPResponse(status: 204)
            case .failure(let e): return Self.controlError(400, e.message)
            }
        case ("GET", ["faults"]):
            return Self.encode(faults.settings)
        case ("PUT", ["faults"]):
            switch Self.decode(FaultSettings.self, req.body) {
            case .success(let f) where f.rules.contains(where: { !FaultKind.all.contains($0.kind) }):
                return Self.controlError(400, "unknown fault kind; known: \(FaultKind.all.map(\.rawValue).joined(separator: ", "))")
            case .success(let f):
                faults.replace(f)
                return Self.encode(faults.settings)
            case .failure(let e): return Self.controlError(400, e.message)
            }
        case ("DELETE", ["faults"]):
            faults.replace(FaultSettings())
            return SandboxHTTPResponse(status: 204)
        case ("POST", ["faults", "rules"]):
            switch Self.decode(FaultRule.self, req.body) {
            case .success(let r) where !FaultKind.all.contains(r.kind):
                return Self.controlError(400, "unknown fault kind \(r.kind); known: \(FaultKind.all.map(\.rawValue).joined(separator: ", "))")
            case .success(let r):
                faults.add(r)
                return Self.encode(faults.settings)
            case .failure(let e): return Self.controlError(400, e.message)
            }
        case ("GET", ["limits"]):
            return .json(200, ["max": .number(Double(apiMax)), "used": .number(Double(apiUsed))])
        case ("PUT", ["limits"]):
            guard let o = try? JSONValue.parse(req.body).objectValue else { return Self.controlError(400, "expected {\"max\":N,\"used\":N}") }
            func count(_ v: JSONValue?) -> Int? { v?.numberValue.flatMap { $0.isFinite && $0 >= 0 && $0 < 1e15 ? Int($0) : nil } }
            setAPILimit(max: count(o["max"]), used: count(o["used"]))
            return .json(200, ["max": .number(Double(apiMax)), "used": .number(Double(apiUsed))])
        case ("POST", ["tokens"]):
            let o = req.body.isEmpty ? JSONObject() : ((try? JSONValue.parse(req.body).objectValue) ?? JSONObject())
            do throws(SalesforceError) {
                let token = try issueAccessToken(username: o["username"]?.stringValue)
                return .json(201, ["access_token": .string(token), "instance_url": .string(baseURL), "token_type": "Bearer"])
            } catch {
                return Self.controlError(400, error.message)
            }
        case ("DELETE", ["tokens"]):
            expireAllAccessTokens()
            return SandboxHTTPResponse(status: 204)
        case ("GET", ["duplicate-rules"]):
            return Self.encode(duplicateRuleSet)
        case ("PUT", ["duplicate-rules"]):
            switch Self.decode([DuplicateRuleSeed].self, req.body) {
            case .success(let rules):
                do throws(SalesforceError) {
                    try setDuplicateRules(rules)
                } catch {
                    return Self.controlError(400, error.message)
                }
                return Self.encode(duplicateRuleSet)
            case .failure(let e): return Self.controlError(400, e.message)
            }
        case ("DELETE", ["duplicate-rules"]):
            duplicateRuleSet = []
            return SandboxHTTPResponse(status: 204)
        case ("GET", ["changes"]):
            var after = 0
            if let text = req.query["after"] {
                guard let n = Int(text.trimmingCharacters(in: .whitespaces)), n >= 0 else {
                    return Self.controlError(400, "after must be a whole number ≥ 0, got \(text)")
                }
                after = n
            }
            let page = changeFeed.page(after: after)
            return .json(200, .object(JSONObject([
                ("changes", .array(page.changes.map(\.json))),
                ("last", .number(Double(page.changes.last?.seq ?? changeFeed.lastSeq))),
                ("more", .bool(page.more)),
            ])))
        case ("PUT", ["tokens", "lifetime"]):
            guard let o = try? JSONValue.parse(req.body).objectValue else { return Self.controlError(400, "expected {\"seconds\":N|null}") }
            setAccessTokenLifetime(seconds: o["seconds"]?.numberValue)
            return SandboxHTTPResponse(status: 204)
        default:
            return Self.controlError(404, "no control route \(m) \(req.path)")
        }
    }
}

/// A control request that could not be understood.
public struct SandboxControlError: Error, Sendable {
    /// What was wrong with the request.
    public var message: String
}
