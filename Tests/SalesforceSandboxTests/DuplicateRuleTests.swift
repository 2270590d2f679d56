import Foundation
import HTTP
import SalesforceSandbox
import Testing

@Suite("Duplicate rules")
struct DuplicateRuleTests {
    static let duplicateMessage = "You are creating a duplicate record. We recommend you use an existing record instead."
    static let allowSave = [("Sforce-Duplicate-Rule-Header", "allowSave=true; includeRecordDetails=true; runAsCurrentUser=true")]

    func setRules(_ h: Harness, _ rules: String) async throws {
        let r = try await h.call(.put, "/_sandbox/duplicate-rules", json: rules, anonymous: true)
        #expect(r.status == 200, "\(String(decoding: r.body, as: UTF8.self))")
    }

    func expectDuplicate(_ r: HTTPResponse, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try expectError(r, status: 400, code: "DUPLICATES_DETECTED", message: Self.duplicateMessage, fields: [], sourceLocation: sourceLocation)
    }

    @Test func blockRuleStopsEveryKindOfCreateEvenWithAllowSave() async throws {
        try await withSandbox { h in
            try await setRules(h, #"[{"object":"Lead","fields":["Email"],"action":"block"},{"object":"Task","fields":["Subject"],"action":"block"}]"#)
            let carol = #"{"LastName":"Chen","Company":"Initech","Email":"carol@initech.example"}"#
            try expectDuplicate(try await h.call(.post, "sobjects/Lead", json: carol))
            try expectDuplicate(try await h.call(.post, "sobjects/Lead", json: carol, headers: Self.allowSave))
            #expect(await h.org.records("Lead").count == 2)

            // Composite subrequest: the subrequest fails with the REST error array, the others run.
            let composite = #"""
                {"compositeRequest": [
                  {"method":"POST","url":"/services/data/v62.0/sobjects/Lead","referenceId":"dup","body":{"LastName":"Chen","Company":"Initech","Email":"carol@initech.example"}},
                  {"method":"POST","url":"/services/data/v62.0/sobjects/Lead","referenceId":"new","body":{"LastName":"New","Company":"Initech","Email":"new@initech.example"}}
                ]}
                """#
            let c = try #require(try json(try await h.call(.post, "composite", json: composite, headers: Self.allowSave))["compositeResponse"]?.arrayValue)
            #expect(c.map { $0["httpStatusCode"]?.int } == [400, 201])
            #expect(c[0]["body"]?.arrayValue?.first == ["message": .string(Self.duplicateMessage), "errorCode": "DUPLICATES_DETECTED", "fields": []])

            // Any object: Task by Subject. An upsert that would create is checked, one that updates is not.
            #expect(try await h.call(.post, "sobjects/Task", json: #"{"Subject":"Viewed deck"}"#).status == 201)
            try expectDuplicate(try await h.call(.patch, "sobjects/Task/DocSend_Visit_Id__c/vis_1", json: #"{"Subject":"viewed deck"}"#))
            #expect(try await h.call(.patch, "sobjects/Task/DocSend_Visit_Id__c/vis_2", json: #"{"Subject":"Other"}"#).status == 201)
            #expect(try await h.call(.patch, "sobjects/Task/DocSend_Visit_Id__c/vis_2", json: #"{"Subject":"Viewed deck"}"#).status == 200)
            // Updates are not checked (documented simplification).
            let newLead = try #require(await h.org.records("Lead").first { $0["Email"]?.stringValue == "new@initech.example" })
            #expect(try await h.call(.patch, "sobjects/Lead/\(newLead.id)", json: #"{"Email":"carol@initech.example"}"#).status == 204)
        }
    }

    @Test func collectionsCreateReportsDuplicatesPerRecord() async throws {
        try await withSandbox { h in
            try await setRules(h, #"[{"object":"Lead","fields":["Email"],"action":"block"}]"#)
            let records = #"{"records":[{"attributes":{"type":"Lead"},"LastName":"Chen","Company":"Initech","Email":"CAROL@initech.example"},{"attributes":{"type":"Lead"},"LastName":"Other","Company":"Initech","Email":"other@initech.example"}]}"#
            let results = try #require(try json(try await h.call(.post, "composite/sobjects", json: records)).arrayValue)
            #expect(results.map { $0["success"] } == [false, true])
            #expect(results[0]["id"] == nil)
            #expect(results[0]["errors"]?.arrayValue?.first == ["statusCode": "DUPLICATES_DETECTED", "message": .string(Self.duplicateMessage), "fields": []])
            // Two copies in one request: the first is saved, the second matches it.
            let twins = #"{"records":[{"attributes":{"type":"Lead"},"LastName":"T","Company":"X","Email":"twin@x.example"},{"attributes":{"type":"Lead"},"LastName":"T","Company":"X","Email":"twin@x.example"}]}"#
            let t = try #require(try json(try await h.call(.post, "composite/sobjects", json: twins)).arrayValue)
            #expect(t.map { $0["success"] } == [true, false])
        }
    }

    @Test func alertRuleSavesOnlyWithAllowSave() async throws {
        try await withSandbox { h in
            try await setRules(h, #"[{"object":"Lead","fields":["Email"],"action":"alert"}]"#)
            let carol = #"{"LastName":"Chen","Company":"Initech","Email":"carol@initech.example"}"#
            try expectDuplicate(try await h.call(.post, "sobjects/Lead", json: carol))
            try expectDuplicate(try await h.call(.post, "sobjects/Lead", json: carol, headers: [("Sforce-Duplicate-Rule-Header", "allowSave=false")]))
            try expectDuplicate(try await h.call(.post, "sobjects/Lead", json: carol, headers: [("Sforce-Duplicate-Rule-Header", "includeRecordDetails=true")]))
            #expect(try await h.call(.post, "sobjects/Lead", json: carol, headers: Self.allowSave).status == 201)
            #expect(try await h.call(.post, "sobjects/Lead", json: carol, headers: [("sforce-duplicate-rule-header", "runAsCurrentUser=true;AllowSave = TRUE")]).status == 201)

            // Composite: the composite request's header applies to its subrequests; a subrequest's own header too.
            let sub = #"{"method":"POST","url":"/services/data/v62.0/sobjects/Lead","referenceId":"r%@","body":{"LastName":"Chen","Company":"Initech","Email":"carol@initech.example"}%@}"#
            func composite(_ extra: String) -> String {
                #"{"compositeRequest":["# + String(format: sub, "1", extra) + "]}"
            }
            var r = try #require(try json(try await h.call(.post, "composite", json: composite("")))["compositeResponse"]?.arrayValue)
            #expect(r.first?["httpStatusCode"]?.int == 400)
            r = try #require(try json(try await h.call(.post, "composite", json: composite(""), headers: Self.allowSave))["compositeResponse"]?.arrayValue)
            #expect(r.first?["httpStatusCode"]?.int == 201)
            let own = #","httpHeaders":{"Sforce-Duplicate-Rule-Header":"allowSave=true"}"#
            r = try #require(try json(try await h.call(.post, "composite", json: composite(own)))["compositeResponse"]?.arrayValue)
            #expect(r.first?["httpStatusCode"]?.int == 201)

            // sObject Collections honour the request's header.
            let records = #"{"records":[{"attributes":{"type":"Lead"},"LastName":"Chen","Company":"Initech","Email":"carol@initech.example"}]}"#
            #expect(try json(try await h.call(.post, "composite/sobjects", json: records)).arrayValue?.first?["success"] == false)
            #expect(try json(try await h.call(.post, "composite/sobjects", json: records, headers: Self.allowSave)).arrayValue?.first?["success"] == true)

            // A block rule on the same object still stops the save that the alert rule would let through.
            try await setRules(h, #"[{"object":"Lead","fields":["Email"],"action":"alert"},{"object":"Lead","fields":["LastName","Company"],"action":"block"}]"#)
            try expectDuplicate(try await h.call(.post, "sobjects/Lead", json: carol, headers: Self.allowSave))
        }
    }

    @Test func convertedAndDeletedRecordsNeverMatch() async throws {
        try await withSandbox { h in
            try await setRules(h, #"[{"object":"Lead","fields":["Email"],"action":"block"}]"#)
            // dan@globex.example is only on the converted lead of the demo seed.
            let dan = #"{"LastName":"Drake","Company":"Globex","Email":"dan@globex.example"}"#
            #expect(try await h.call(.post, "sobjects/Lead", json: dan).status == 201)
            try expectDuplicate(try await h.call(.post, "sobjects/Lead", json: dan))

            #expect(try await h.call(.delete, "sobjects/Lead/\(SandboxSeed.Demo.carolLeadId)").status == 204)
            #expect(try await h.call(.post, "sobjects/Lead", json: #"{"LastName":"Chen","Company":"Initech","Email":"carol@initech.example"}"#).status == 201)
        }
    }

    @Test func matchingIsCaseInsensitiveAndTrimmed() async throws {
        try await withSandbox { h in
            try await setRules(h, #"[{"object":"Lead","fields":["Email"],"action":"block"},{"object":"Contact","fields":["FirstName","LastName"],"action":"block"}]"#)
            try expectDuplicate(try await h.call(.post, "sobjects/Lead", json: #"{"LastName":"C","Company":"I","Email":"CAROL@Initech.EXAMPLE"}"#))
            // Every rule field must match: same first name, other last name is no duplicate.
            try expectDuplicate(try await h.call(.post, "sobjects/Contact", json: #"{"FirstName":"  aLiCe ","LastName":"ANDERS\t"}"#))
            #expect(try await h.call(.post, "sobjects/Contact", json: #"{"FirstName":"Alice","LastName":"Andersen"}"#).status == 201)
        }
    }

    @Test func emptyValuesNeverMatch() async throws {
        try await withSandbox { h in
            try await setRules(h, #"[{"object":"Lead","fields":["Email"],"action":"block"},{"object":"Contact","fields":["Email","Phone"],"action":"block"}]"#)
            for body in [#"{"LastName":"A","Company":"X"}"#, #"{"LastName":"B","Company":"X","Email":null}"#, #"{"LastName":"C","Company":"X","Email":""}"#, #"{"LastName":"D","Company":"X"}"#] {
                #expect(try await h.call(.post, "sobjects/Lead", json: body).status == 201, "\(body)")
            }
            // Alice has an email but no phone: a rule over Email and Phone never matches her.
            #expect(try await h.call(.post, "sobjects/Contact", json: #"{"LastName":"A","Email":"alice@acme.example"}"#).status == 201)
            #expect(try await h.call(.post, "sobjects/Contact", json: #"{"LastName":"A","Email":"alice@acme.example","Phone":"1"}"#).status == 201)
            try expectDuplicate(try await h.call(.post, "sobjects/Contact", json: #"{"LastName":"B","Email":"alice@acme.example","Phone":"1"}"#))
        }
    }

    @Test func controlRouteSeedAndReset() async throws {
        let seeded = SandboxSeed(duplicateRules: [DuplicateRuleSeed(object: "lead", fields: ["email"], action: .block)])
        var seed = SandboxSeed.demo
        seed.duplicateRules = seeded.duplicateRules
        try await withSandbox(seed) { h in
            // Names come back canonical.
            let start = try json(try await h.call(.get, "/_sandbox/duplicate-rules", anonymous: true))
            #expect(start == [["object": "Lead", "fields": ["Email"], "action": "block"]])
            try expectDuplicate(try await h.call(.post, "sobjects/Lead", json: #"{"LastName":"C","Company":"I","Email":"carol@initech.example"}"#))

            for bad in [
                #"[{"object":"Nope","fields":["Email"],"action":"block"}]"#, #"[{"object":"Lead","fields":["Nope"],"action":"block"}]"#,
                #"[{"object":"Lead","fields":[],"action":"block"}]"#, #"[{"object":"Lead","fields":["Email"],"action":"warn"}]"#,
                #"{"object":"Lead"}"#,
            ] {
                let r = try await h.call(.put, "/_sandbox/duplicate-rules", json: bad, anonymous: true)
                #expect(r.status == 400, "\(bad)")
                #expect(try json(r)["error"]?.stringValue != nil)
            }
            #expect(await h.org.duplicateRules() == [DuplicateRuleSeed(object: "Lead", fields: ["Email"], action: .block)])

            #expect(try await h.call(.delete, "/_sandbox/duplicate-rules", anonymous: true).status == 204)
            #expect(try json(try await h.call(.get, "/_sandbox/duplicate-rules", anonymous: true)) == [])
            #expect(try await h.call(.post, "sobjects/Lead", json: #"{"LastName":"C","Company":"I","Email":"carol@initech.example"}"#).status == 201)

            // A seed posted at run time replaces the rules; a reset goes back to the start seed's.
            let post = #"{"duplicateRules":[{"object":"Contact","fields":["Email"],"action":"alert"}]}"#
            #expect(try await h.call(.post, "/_sandbox/seed", json: post, anonymous: true).status == 204)
            #expect(await h.org.duplicateRules() == [DuplicateRuleSeed(object: "Contact", fields: ["Email"], action: .alert)])
            try expectDuplicate(try await h.call(.post, "sobjects/Contact", json: #"{"LastName":"A","Email":"alice@acme.example"}"#))
            #expect(try await h.call(.post, "/_sandbox/reset", anonymous: true).status == 204)
            #expect(await h.org.duplicateRules() == [DuplicateRuleSeed(object: "Lead", fields: ["Email"], action: .block)])

            // In-process setter; the control-route create and seeds bypass the rules (a way to set up duplicates).
            try await h.org.setDuplicateRules([DuplicateRuleSeed(object: "Lead", fields: ["Email"], action: .block)])
            let viaControl = try await h.call(.post, "/_sandbox/records/Lead", json: #"{"LastName":"C","Company":"I","Email":"carol@initech.example"}"#, anonymous: true)
            #expect(viaControl.status == 201)
            await #expect(throws: SalesforceError.self) { try await h.org.setDuplicateRules([DuplicateRuleSeed(object: "Lead", fields: ["Nope"], action: .block)]) }
        }
    }
}
