import Foundation
import HTTP
import Logging
import SalesforceSandbox

// This file sees the sandbox's own types (its `JSONValue`, `SalesforceError`) and not the client's; the
// client tests reach the sandbox through these helpers and the names that do not clash.

/// Runs `body` against a sandbox started in-process on a free port, and an HTTP client; both are shut
/// down afterwards, whether `body` throws or not.
func withSandbox(
    seed: SandboxSeed = .demo, _ body: (SalesforceSandbox, HTTPClient) async throws -> Void
) async throws {
    let sandbox = try await SalesforceSandbox.start(configuration: .init(port: 0, seed: seed))
    let http: HTTPClient
    do {
        http = try HTTPClient(
            configuration: .init(defaultTimeout: .seconds(10)), logger: Logger(label: "sandbox-harness", factory: { _ in SwiftLogNoOpLogHandler() }))
    } catch {
        await sandbox.shutdown()
        throw error
    }
    do {
        try await body(sandbox, http)
    } catch {
        await http.shutdown()
        await sandbox.shutdown()
        throw error
    }
    await http.shutdown()
    await sandbox.shutdown()
}

extension SalesforceSandbox {
    /// How many requests reached the token endpoint.
    func tokenRequests() async -> Int {
        await org.requests().filter { $0.path == "/services/oauth2/token" }.count
    }

    /// Requests to REST paths matching `prefix` (after `/services/data/vXX.X`).
    func restRequests(method: String, suffix: String) async -> Int {
        await org.requests().filter { $0.method == method && $0.path.hasSuffix(suffix) }.count
    }

    /// Inserts records of `type` as seeds do, without field validation (so any text can be an Email).
    func seedRaw(_ type: String, _ records: [[String: String]]) async throws {
        let values = records.map { fields in
            JSONValue.object(JSONObject(fields.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))
        }
        try await org.apply(SandboxSeed(records: [type: values]))
    }

    /// Ids of the live records of `type` whose `field` equals `value` case-insensitively (SOQL `=`).
    func ids(_ type: String, where field: String, equals value: String) async -> Set<String> {
        Set(
            await org.records(type).filter {
                !$0.isDeleted && $0[field]?.stringValue?.lowercased() == value.lowercased()
            }.map(\.id))
    }

    /// A field of a record as text, `nil` when absent or null.
    func field(_ id: String, _ name: String) async -> String? {
        await org.record(id: id)?[name]?.stringValue
    }

    func isDeleted(_ id: String) async -> Bool {
        await org.record(id: id)?.isDeleted ?? false
    }

    /// Creates `count` Leads through the org's own validation, in process (test setup, not under test).
    func createLeads(_ count: Int, company: String) async throws {
        for index in 0..<count {
            try await org.create(
                "Lead",
                JSONObject([("LastName", .string("Bulk \(index)")), ("Company", .string(company))]))
        }
    }
}
