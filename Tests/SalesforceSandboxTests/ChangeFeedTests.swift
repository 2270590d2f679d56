import Foundation
import HTTP
import SalesforceSandbox
import Testing

@Suite("Change feed (GET /_sandbox/changes)")
struct ChangeFeedTests {
    struct Entry: Equatable, CustomStringConvertible {
        var operation: String
        var sobject: String
        var summary: String
        var description: String { "\(operation) \(sobject) \(summary)" }
    }

    func feed(_ h: Harness, after: Int? = nil) async throws -> JSONValue {
        let r = try await h.call(.get, "/_sandbox/changes" + (after.map { "?after=\($0)" } ?? ""), anonymous: true)
        #expect(r.status == 200)
        return try json(r)
    }

    func entries(_ page: JSONValue) -> [Entry] {
        (page["changes"]?.arrayValue ?? []).map {
            Entry(operation: $0["operation"]?.stringValue ?? "", sobject: $0["sobject"]?.stringValue ?? "", summary: $0["summary"]?.stringValue ?? "")
        }
    }

    @Test func everySuccessfulWriteInOrder() async throws {
        try await withSandbox { h in
            let empty = try await feed(h)
            #expect(empty == ["changes": [], "last": 0, "more": false])

            let task = try #require(try json(try await h.call(.post, "sobjects/Task", json: #"{"Subject":"Call Alice"}"#))["id"]?.stringValue)
            #expect(try await h.call(.patch, "sobjects/Task/\(task)", json: #"{"Subject":"Called Alice"}"#).status == 204)
            #expect(try await h.call(.patch, "sobjects/Task/DocSend_Visit_Id__c/vis_1", json: #"{"Subject":"Visit 1"}"#).status == 201)
            #expect(try await h.call(.patch, "sobjects/Task/DocSend_Visit_Id__c/vis_1", json: #"{"Subject":"Visit 1 again"}"#).status == 200)
            #expect(try await h.call(.delete, "sobjects/Task/\(task)").status == 204)
            // Failed writes and control-route writes are not listed.
            try expectError(try await h.call(.post, "sobjects/Lead", json: #"{"FirstName":"x"}"#), status: 400, code: "REQUIRED_FIELD_MISSING")
            #expect(try await h.call(.post, "/_sandbox/records/Task", json: #"{"Subject":"backdoor"}"#, anonymous: true).status == 201)
            let composite = #"""
                {"compositeRequest": [
                  {"method":"POST","url":"/services/data/v62.0/sobjects/Account","referenceId":"a","body":{"Name":"Feed Co"}},
                  {"method":"POST","url":"/services/data/v62.0/sobjects/Contact","referenceId":"c","body":{"FirstName":"Fay","LastName":"Feed","AccountId":"@{a.id}"}}
                ]}
                """#
            #expect(try await h.call(.post, "composite", json: composite).status == 200)
            let coll = #"{"records":[{"attributes":{"type":"Task"},"Subject":"One"},{"attributes":{"type":"Lead"},"LastName":"Lee","Company":"L Inc"}]}"#
            let created = try #require(try json(try await h.call(.post, "composite/sobjects", json: coll)).arrayValue)
            let one = try #require(created.first?["id"]?.stringValue)
            let update = #"{"records":[{"attributes":{"type":"Task"},"Id":"\#(one)","Subject":"One, updated"}]}"#
            #expect(try await h.call(.patch, "composite/sobjects", json: update).status == 200)
            #expect(try await h.call(.delete, "composite/sobjects?ids=\(one)").status == 200)

            let page = try await feed(h)
            #expect(entries(page) == [
                Entry(operation: "create", sobject: "Task", summary: "Call Alice"),
                Entry(operation: "update", sobject: "Task", summary: "Called Alice"),
                Entry(operation: "upsert-create", sobject: "Task", summary: "Visit 1"),
                Entry(operation: "upsert-update", sobject: "Task", summary: "Visit 1 again"),
                Entry(operation: "delete", sobject: "Task", summary: "Called Alice"),
                Entry(operation: "create", sobject: "Account", summary: "Feed Co"),
                Entry(operation: "create", sobject: "Contact", summary: "Fay Feed"),
                Entry(operation: "create", sobject: "Task", summary: "One"),
                Entry(operation: "create", sobject: "Lead", summary: "Lee"),
                Entry(operation: "update", sobject: "Task", summary: "One, updated"),
                Entry(operation: "delete", sobject: "Task", summary: "One, updated"),
            ])
            let changes = try #require(page["changes"]?.arrayValue)
            #expect(changes.map { $0["seq"]?.int } == (1...11).map { Optional($0) })
            #expect(page["last"]?.int == 11 && page["more"] == false)
            #expect(changes[0]["id"]?.stringValue == task && changes[4]["id"]?.stringValue == task)
            #expect(changes.allSatisfy { ($0["id"]?.stringValue?.count ?? 0) == 18 })
            let at = try #require(changes[0]["at"]?.stringValue)
            #expect(at.count == 28 && at.hasSuffix("+0000") && at.contains("T"))

            let tail = try await feed(h, after: 9)
            #expect(tail["changes"]?.arrayValue?.map { $0["seq"]?.int } == [10, 11] && tail["last"]?.int == 11)
            let none = try await feed(h, after: 11)
            #expect(none["changes"] == [] && none["last"]?.int == 11)
            #expect(await h.org.changes(after: 10).map(\.operation) == [.delete])
        }
    }

    @Test func rolledBackWritesAreNotListed() async throws {
        try await withSandbox { h in
            let composite = #"""
                {"allOrNone": true, "compositeRequest": [
                  {"method":"POST","url":"/services/data/v62.0/sobjects/Account","referenceId":"a","body":{"Name":"Rolled Back Inc"}},
                  {"method":"POST","url":"/services/data/v62.0/sobjects/Lead","referenceId":"bad","body":{"FirstName":"no last name"}}
                ]}
                """#
            #expect(try await h.call(.post, "composite", json: composite).status == 200)
            let coll = #"{"allOrNone":true,"records":[{"attributes":{"type":"Task"},"Subject":"kept?"},{"attributes":{"type":"Task"},"Status":"Bogus"}]}"#
            let results = try #require(try json(try await h.call(.post, "composite/sobjects", json: coll)).arrayValue)
            #expect(results.map { $0["success"] } == [false, false])
            #expect(try await feed(h) == ["changes": [], "last": 0, "more": false])

            // Numbering goes on without a gap.
            #expect(try await h.call(.post, "sobjects/Task", json: #"{"Subject":"after"}"#).status == 201)
            let page = try await feed(h)
            #expect(page["changes"]?.arrayValue?.map { $0["seq"]?.int } == [1] && entries(page).map(\.summary) == ["after"])
        }
    }

    @Test func pagesOf500AndReset() async throws {
        try await withSandbox { h in
            for batch in 0..<3 {
                let records = (0..<200).map { #"{"attributes":{"type":"Task"},"Subject":"T\#(batch * 200 + $0)"}"# }.joined(separator: ",")
                #expect(try await h.call(.post, "composite/sobjects", json: #"{"records":[\#(records)]}"#).status == 200)
            }
            let first = try await feed(h, after: 0)
            let firstChanges = try #require(first["changes"]?.arrayValue)
            #expect(firstChanges.count == 500 && first["last"]?.int == 500 && first["more"] == true)
            #expect(firstChanges.first?["summary"] == "T0" && firstChanges.last?["summary"] == "T499")
            let second = try await feed(h, after: 500)
            #expect(second["changes"]?.arrayValue?.count == 100 && second["last"]?.int == 600 && second["more"] == false)
            #expect(second["changes"]?.arrayValue?.last?["summary"] == "T599")

            for bad in ["-1", "abc", "1.5"] {
                #expect(try await h.call(.get, "/_sandbox/changes?after=\(bad)", anonymous: true).status == 400, "\(bad)")
            }

            // A reset empties the feed; a poller still asking after=600 sees last < after and starts over.
            #expect(try await h.call(.post, "/_sandbox/reset", anonymous: true).status == 204)
            #expect(try await feed(h, after: 600) == ["changes": [], "last": 0, "more": false])
        }
    }
}
