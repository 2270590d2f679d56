import Foundation
import HTTP
import Logging
import SalesforceSandbox
import Testing

/// Drops everything the HTTP client logs.
let quietLogger = Logger(label: "sandbox-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// A sandbox on port 0 plus an HTTP client, for one test.
struct Harness: Sendable {
    let sandbox: SalesforceSandbox
    let client: HTTPClient
    let token: String
    static let v = "/services/data/v62.0"

    var base: String { sandbox.baseURL }
    var org: SandboxOrg { sandbox.org }

    /// A request to `path` (absolute `/…`, or relative to `/services/data/v62.0/`) with the harness token.
    func call(
        _ method: HTTPMethod, _ path: String, json: String? = nil, token: String? = nil, anonymous: Bool = false,
        headers: [(String, String)] = [], timeout: Duration = .seconds(5)
    ) async throws -> HTTPResponse {
        var h = HTTPHeaders(headers)
        if !anonymous { h["Authorization"] = "Bearer \(token ?? self.token)" }
        if json != nil { h["Content-Type"] = "application/json" }
        let url = base + (path.hasPrefix("/") ? path : Self.v + "/" + path)
        return try await client.execute(HTTPRequest(method: method, url: url, headers: h, body: json.map { Data($0.utf8) }, timeout: timeout))
    }

    /// A form POST (OAuth).
    func form(_ path: String, _ fields: [(String, String)], headers: [(String, String)] = []) async throws -> HTTPResponse {
        var h = HTTPHeaders(headers)
        h["Content-Type"] = "application/x-www-form-urlencoded"
        let body = fields.map { "\(enc($0.0))=\(enc($0.1))" }.joined(separator: "&")
        return try await client.execute(HTTPRequest(method: .post, url: base + path, headers: h, body: Data(body.utf8)))
    }

    /// `GET query?q=…` with optional batch size.
    func query(_ soql: String, batchSize: Int? = nil) async throws -> HTTPResponse {
        let headers = batchSize.map { [("Sforce-Query-Options", "batchSize=\($0)")] } ?? []
        return try await call(.get, "query?q=\(enc(soql))", headers: headers)
    }
}

func enc(_ s: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
}

func json(_ r: HTTPResponse) throws -> JSONValue { try JSONValue.parse(r.body) }

/// Starts a sandbox (demo seed unless told), runs `body`, shuts everything down.
func withSandbox(_ seed: SandboxSeed = .demo, _ body: (Harness) async throws -> Void) async throws {
    let sandbox = try await SalesforceSandbox.start(configuration: .init(port: 0, seed: seed))
    let client: HTTPClient
    do {
        client = try HTTPClient(configuration: .init(defaultTimeout: .seconds(5)), logger: quietLogger)
    } catch {
        await sandbox.shutdown()
        throw error
    }
    do {
        let token = try await sandbox.org.issueAccessToken()
        try await body(Harness(sandbox: sandbox, client: client, token: token))
    } catch {
        await client.shutdown()
        await sandbox.shutdown()
        throw error
    }
    await client.shutdown()
    await sandbox.shutdown()
}

/// Expects a Salesforce error array body with one error of `code`.
func expectError(
    _ r: HTTPResponse, status: Int, code: String, message: String? = nil, fields: [String]? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    #expect(r.status == status, "status \(r.status) body \(String(decoding: r.body, as: UTF8.self))", sourceLocation: sourceLocation)
    let body = try json(r)
    let first = body.arrayValue?.first
    #expect(first?["errorCode"]?.stringValue == code, "body \(body)", sourceLocation: sourceLocation)
    if let message { #expect(first?["message"]?.stringValue == message, "body \(body)", sourceLocation: sourceLocation) }
    if let fields { #expect(first?["fields"] == .array(fields.map { .string($0) }), "body \(body)", sourceLocation: sourceLocation) }
}

/// Salesforce's SOQL string escaping, as a client must do it.
func soqlEscape(_ s: String) -> String {
    var out = ""
    // Unicode scalars, not Characters: "\r\n" is one Character and would match neither case.
    for c in s.unicodeScalars {
        switch c {
        case "\\": out += "\\\\"
        case "'": out += "\\'"
        case "\"": out += "\\\""
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}

extension JSONValue {
    var int: Int? { numberValue.map { Int($0) } }
}
