import Admin
import Foundation
import Testing

@Suite("Admin OpenAPI document")
struct OpenAPITests {
    static func documentPaths(_ text: String) throws -> Set<String> {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        return Set(paths.flatMap { path, methods in methods.keys.map { "\($0.uppercased()) \(path)" } })
    }

    @Test
    func everyRegisteredRouteIsDocumentedAndTheReverse() throws {
        let documented = try Self.documentPaths(AdminOpenAPI.document)
        let registered = Set(AdminRoutes.all.map { "\($0.method.rawValue) \($0.path)" })
        #expect(documented == registered)
    }

    @Test
    func theRepositorysCopyIsTheServedDocument() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/admin-openapi.json")
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.trimmingCharacters(in: .whitespacesAndNewlines)
            == AdminOpenAPI.document.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test
    func itIsServed() async throws {
        try await withAdmin { admin in
            let reply = try await admin.request(.get, "/api/v1/openapi.json")
            #expect(reply.status == 200)
            #expect(try Self.documentPaths(reply.text).count == AdminRoutes.all.count)
        }
    }
}
