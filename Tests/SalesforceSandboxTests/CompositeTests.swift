import Foundation
import HTTP
import SalesforceSandbox
import Testing

@Suite("composite and sObject Collections")
struct CompositeTests {
    typealias Demo = SandboxSeed.Demo

    @Test func referencesIncludingQueryRecords() async throws {
        try await withSandbox { h in
            let body = #"""
                {"allOrNone": false, "compositeRequest": [
                  {"method":"GET","url":"/services/data/v62.0/query?q=SELECT+Id,Email+FROM+Contact+WHERE+Email='alice@acme.example'","referenceId":"q"},
                  {"method":"POST","url":"/services/data/v62.0/sobjects/Task","referenceId":"t","body":{"Subject":"Visit by @{q.records[0].Email}","WhoId":"@{q.records[0].Id}"}},
                  {"method":"GET","url":"/services/data/v62.0/sobjects/Task/@{t.id}?fields=Subject,WhoId,AccountId","referenceId":"g"}
                ]}
                """#
            let r = try await h.call(.post, "composite", json: body)
            #expect(r.status == 200)
            let responses = try #require(try json(r)["compositeResponse"]?.arrayValue)
            #expect(responses.map { $0["httpStatusCode"]?.int } == [200, 201, 200])
            #expect(responses.map { $0["referenceId"]?.stringValue } == ["q", "t", "g"])
            let got = try #require(responses[2]["body"])
            #expect(got["Subject"] == "Visit by alice@acme.example")
            #expect(got["WhoId"]?.stringValue == Demo.aliceContactId && got["AccountId"]?.stringValue == Demo.acmeAccountId)
        }
    }

    @Test func allOrNoneRollsBack() async throws {
        try await withSandbox { h in
            let body = #"""
                {"allOrNone": true, "compositeRequest": [
                  {"method":"POST","url":"/services/data/v62.0/sobjects/Account","referenceId":"a","body":{"Name":"Rolled Back Inc"}},
                  {"method":"POST","url":"/services/data/v62.0/sobjects/Contact","referenceId":"c","body":{"LastName":"X","AccountId":"@{a.id}"}},
                  {"method":"POST","url":"/services/data/v62.0/sobjects/Lead","referenceId":"bad","body":{"FirstName":"no last name"}},
                  {"method":"POST","url":"/services/data/v62.0/sobjects/Task","referenceId":"after","body":{"Subject":"never"}}
                ]}
                """#
            let r = try await h.call(.post, "composite", json: body)
            #expect(r.status == 200)
            let responses = try #require(try json(r)["compositeResponse"]?.arrayValue)
            #expect(responses.map { $0["httpStatusCode"]?.int } == [400, 400, 400, 400])
            #expect(responses[2]["body"]?.arrayValue?.first?["errorCode"] == "REQUIRED_FIELD_MISSING")
            for i in [0, 1, 3] { #expect(responses[i]["body"]?.arrayValue?.first?["errorCode"] == "PROCESSING_HALTED") }
            #expect(await h.org.records("Account").count == 2)
            #expect(await h.org.records("Contact").count == 2)
            #expect(await h.org.records("Task").isEmpty)

            // Without allOrNone, earlier work stays and later independent subrequests run.
            let partial = body.replacingOccurrences(of: "\"allOrNone\": true", with: "\"allOrNone\": false")
            let p = try #require(try json(try await h.call(.post, "composite", json: partial))["compositeResponse"]?.arrayValue)
            #expect(p.map { $0["httpStatusCode"]?.int } == [201, 201, 400, 201])
            #expect(await h.org.records("Account").count == 3)
        }
    }

    @Test func compositeRequestValidation() async throws {
        try await withSandbox { h in
            let sub = #"{"method":"GET","url":"/services/data/v62.0/limits","referenceId":"r%d"}"#
            let many = (0..<26).map { String(format: sub, $0) }.joined(separator: ",")
            let tooMany = try await h.call(.post, "composite", json: #"{"compositeRequest":[\#(many)]}"#)
            #expect(tooMany.status == 400)
            let ok = (0..<25).map { String(format: sub, $0) }.joined(separator: ",")
            #expect(try await h.call(.post, "composite", json: #"{"compositeRequest":[\#(ok)]}"#).status == 200)
            let q = #"{"method":"GET","url":"/services/data/v62.0/query?q=SELECT+Id+FROM+Lead","referenceId":"q%d"}"#
            let sixQueries = (0..<6).map { String(format: q, $0) }.joined(separator: ",")
            #expect(try await h.call(.post, "composite", json: #"{"compositeRequest":[\#(sixQueries)]}"#).status == 400)
            let fiveQueries = (0..<5).map { String(format: q, $0) }.joined(separator: ",")
            #expect(try await h.call(.post, "composite", json: #"{"compositeRequest":[\#(fiveQueries)]}"#).status == 200)
            for header in ["Authorization", "Content-Type"] {
                let withHeader = #"{"compositeRequest":[{"method":"GET","url":"/services/data/v62.0/limits","referenceId":"a","httpHeaders":{"\#(header)":"x"}}]}"#
                #expect(try await h.call(.post, "composite", json: withHeader).status == 400)
            }
            let badRef = #"{"compositeRequest":[{"method":"GET","url":"/services/data/v62.0/sobjects/Task/@{nope.id}","referenceId":"a"}]}"#
            let r = try #require(try json(try await h.call(.post, "composite", json: badRef))["compositeResponse"]?.arrayValue)
            #expect(r.first?["httpStatusCode"]?.int == 400)
        }
    }

    @Test func collectionsCreateAndUpdate() async throws {
        try await withSandbox { h in
            let create = #"""
                {"allOrNone": false, "records": [
                  {"attributes":{"type":"Task"},"Subject":"one","WhoId":"\#(Demo.carolLeadId)"},
                  {"attributes":{"type":"Lead"},"FirstName":"missing"},
                  {"Subject":"no type"},
                  {"attributes":{"type":"Account"},"Name":"Newco"}
                ]}
                """#
            let r = try await h.call(.post, "composite/sobjects", json: create)
            #expect(r.status == 200)
            let results = try #require(try json(r).arrayValue)
            #expect(results.map { $0["success"] } == [true, false, false, true])
            #expect(results[1]["errors"]?.arrayValue?.first?["statusCode"] == "REQUIRED_FIELD_MISSING")
            #expect(results[1]["errors"]?.arrayValue?.first?["fields"] == ["LastName", "Company"])
            #expect(results[1]["errors"]?.arrayValue?.first?["message"] != nil)
            let taskId = try #require(results[0]["id"]?.stringValue)
            #expect(taskId.hasPrefix("00T") && results[3]["id"]?.stringValue?.hasPrefix("001") == true)

            let update = #"""
                {"allOrNone": false, "records": [
                  {"attributes":{"type":"Task"},"Id":"\#(taskId)","Status":"Completed"},
                  {"attributes":{"type":"Task"},"Subject":"no id"}
                ]}
                """#
            let u = try #require(try json(try await h.call(.patch, "composite/sobjects", json: update)).arrayValue)
            #expect(u.map { $0["success"] } == [true, false])
            #expect(await h.org.record(id: taskId)?["IsClosed"] == true)

            let allOrNone = #"{"allOrNone": true, "records": [{"attributes":{"type":"Task"},"Subject":"kept?"},{"attributes":{"type":"Task"},"Status":"Bogus"}]}"#
            let a = try #require(try json(try await h.call(.post, "composite/sobjects", json: allOrNone)).arrayValue)
            #expect(a.map { $0["success"] } == [false, false])
            #expect(a[0]["errors"]?.arrayValue?.first?["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK")
            #expect(a[1]["errors"]?.arrayValue?.first?["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
            #expect(await h.org.records("Task").count == 1)

            let records = (0..<201).map { _ in #"{"attributes":{"type":"Task"}}"# }.joined(separator: ",")
            try expectError(try await h.call(.post, "composite/sobjects", json: #"{"records":[\#(records)]}"#), status: 400, code: "EXCEEDED_ID_LIMIT")

            let del = try #require(try json(try await h.call(.delete, "composite/sobjects?ids=\(taskId)")).arrayValue)
            #expect(del.first?["success"] == true)
            #expect(await h.org.record(id: taskId)?.isDeleted == true)
        }
    }
}
