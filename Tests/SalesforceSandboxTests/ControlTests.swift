import Foundation
import HTTP
import SalesforceSandbox
import Testing

@Suite("Control routes under /_sandbox")
struct ControlTests {
    @Test func recordsRequestsResetAndSeed() async throws {
        try await withSandbox { h in
            let id = try #require(try json(try await h.call(.post, "sobjects/Task", json: #"{"Subject":"seen"}"#))["id"]?.stringValue)
            let records = try json(try await h.call(.get, "/_sandbox/records/Task", anonymous: true))
            #expect(records["records"]?.arrayValue?.map { $0["Id"]?.stringValue } == [id])
            let log = try json(try await h.call(.get, "/_sandbox/requests", anonymous: true))
            let entry = try #require(log.arrayValue?.first)
            #expect(entry["method"] == "POST" && entry["path"] == "/services/data/v62.0/sobjects/Task" && entry["status"]?.int == 201)
            #expect(entry["body"]?.stringValue?.contains("seen") == true && entry["countedAsAPICall"] == true)
            // Control requests are not logged, counted or faulted.
            #expect(await h.org.requests().count == 1)

            #expect(try await h.call(.post, "/_sandbox/seed", json: #"{"records":{"Account":[{"Name":"Seeded Co"}]},"customTaskFields":[{"name":"Extra","length":10}]}"#, anonymous: true).status == 204)
            #expect(await h.org.records("Account").count == 3)
            try expectError(try await h.call(.post, "sobjects/Task", json: #"{"Extra__c":"01234567890"}"#), status: 400, code: "STRING_TOO_LONG")

            #expect(try await h.call(.post, "/_sandbox/reset", anonymous: true).status == 204)
            let tasksAfterReset = await h.org.records("Task")
            let accountsAfterReset = await h.org.records("Account")
            #expect(tasksAfterReset.isEmpty && accountsAfterReset.count == 2)
            #expect(await h.org.requests().isEmpty)
            #expect(try await h.call(.get, "/_sandbox/nope", anonymous: true).status == 404)
        }
    }

    @Test func faultsLimitsAndTokensAtRunTime() async throws {
        try await withSandbox { h in
            let rule = #"{"kind":"service_unavailable","count":1,"method":"GET","path":"/services/data/*/limits"}"#
            #expect(try await h.call(.post, "/_sandbox/faults/rules", json: rule, anonymous: true).status == 200)
            try expectError(try await h.call(.get, "limits"), status: 503, code: "SERVER_UNAVAILABLE")
            #expect(try await h.call(.get, "limits").status == 200)
            #expect(try await h.call(.put, "/_sandbox/faults", json: #"{"rules":[{"kind":"server_error"}]}"#, anonymous: true).status == 200)
            #expect(try await h.call(.get, "limits").status == 500)
            #expect(try await h.call(.delete, "/_sandbox/faults", anonymous: true).status == 204)
            #expect(try await h.call(.post, "/_sandbox/faults/rules", json: #"{"kind":"explode"}"#, anonymous: true).status == 400)
            #expect(try await h.call(.get, "limits").status == 200)

            #expect(try await h.call(.put, "/_sandbox/limits", json: #"{"max":100,"used":100}"#, anonymous: true).status == 200)
            try expectError(try await h.call(.get, "limits"), status: 403, code: "REQUEST_LIMIT_EXCEEDED")
            #expect(try await h.call(.put, "/_sandbox/limits", json: #"{"used":0}"#, anonymous: true).status == 200)

            let issued = try json(try await h.call(.post, "/_sandbox/tokens", json: #"{"username":"rep@sandbox.example"}"#, anonymous: true))
            let token = try #require(issued["access_token"]?.stringValue)
            #expect(try await h.call(.get, "limits", token: token).status == 200)
            #expect(try await h.call(.delete, "/_sandbox/tokens", anonymous: true).status == 204)
            #expect(try await h.call(.get, "limits", token: token).status == 401)
            #expect(try await h.call(.put, "/_sandbox/tokens/lifetime", json: #"{"seconds":0}"#, anonymous: true).status == 204)
            let t2 = try await h.org.issueAccessToken()
            #expect(try await h.call(.get, "limits", token: t2).status == 401)
        }
    }

    @Test func createdRecordsOwnedByTokenUser() async throws {
        try await withSandbox { h in
            let rep = try #require(await h.org.userId(username: "rep@sandbox.example"))
            let token = try await h.org.issueAccessToken(username: "rep@sandbox.example")
            let id = try #require(try json(try await h.call(.post, "sobjects/Task", json: #"{"Subject":"x"}"#, token: token))["id"]?.stringValue)
            let task = try #require(await h.org.record(id: id))
            #expect(task["OwnerId"]?.stringValue == rep && task["CreatedById"]?.stringValue == rep)
        }
    }
}
