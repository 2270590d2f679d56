import Foundation
import HTTP
import SalesforceSandbox
import Testing

@Suite("sObject REST routes")
struct RESTTests {
    typealias Demo = SandboxSeed.Demo

    @Test func createGetUpdateDeleteTask() async throws {
        try await withSandbox { h in
            let create = try await h.call(.post, "sobjects/Task/", json: #"{"Subject":"Visit","WhoId":"\#(Demo.aliceContactId)","WhatId":"\#(Demo.acmeAccountId)"}"#)
            #expect(create.status == 201)
            let created = try json(create)
            let id = try #require(created["id"]?.stringValue)
            #expect(id.count == 18 && id.hasPrefix("00T"))
            #expect(created["success"] == true && created["errors"] == [])
            #expect(create.headers["Sforce-Limit-Info"]?.hasPrefix("api-usage=") == true)

            let get = try await h.call(.get, "sobjects/Task/\(id)")
            #expect(get.status == 200)
            let task = try json(get)
            #expect(task["attributes"]?["type"] == "Task")
            #expect(task["attributes"]?["url"]?.stringValue == "/services/data/v62.0/sobjects/Task/\(id)")
            #expect(task["Status"] == "Not Started" && task["IsClosed"] == false && task["Priority"] == "Normal")
            #expect(task["AccountId"]?.stringValue == Demo.acmeAccountId)
            #expect(task["IsDeleted"] == false)
            let created1 = try #require(task["CreatedDate"]?.stringValue)
            #expect(created1.count == 28 && created1.hasSuffix("+0000") && created1.contains("T"))
            #expect(task["SystemModstamp"] != .null && task["LastModifiedDate"] != .null)
            #expect(task["DocSend_Visit_Id__c"] == .null)

            let patch = try await h.call(.patch, "sobjects/Task/\(id)", json: #"{"Status":"Completed","Description":"done"}"#)
            #expect(patch.status == 204 && patch.body.isEmpty)
            let after = try json(try await h.call(.get, "sobjects/Task/\(id)?fields=Status,IsClosed"))
            #expect(after["Status"] == "Completed" && after["IsClosed"] == true)
            #expect(after["Subject"] == nil && after["Id"]?.stringValue == id)

            let del = try await h.call(.delete, "sobjects/Task/\(id)")
            #expect(del.status == 204)
            try expectError(try await h.call(.get, "sobjects/Task/\(id)"), status: 404, code: "ENTITY_IS_DELETED")
            try expectError(try await h.call(.patch, "sobjects/Task/\(id)", json: #"{"Subject":"x"}"#), status: 404, code: "ENTITY_IS_DELETED")
            let stored = try #require(await h.org.record(id: id))
            #expect(stored.isDeleted && stored["Description"] == "done")
        }
    }

    @Test func validationErrors() async throws {
        try await withSandbox { h in
            let long256 = String(repeating: "s", count: 256)
            try expectError(try await h.call(.post, "sobjects/Task", json: #"{"Subject":"\#(long256)"}"#), status: 400, code: "STRING_TOO_LONG", fields: ["Subject"])
            #expect(try await h.call(.post, "sobjects/Task", json: #"{"Subject":"\#(String(long256.dropLast()))"}"#).status == 201)
            let desc = String(repeating: "d", count: 32001)
            try expectError(try await h.call(.post, "sobjects/Task", json: #"{"Description":"\#(desc)"}"#), status: 400, code: "STRING_TOO_LONG", fields: ["Description"])
            try expectError(
                try await h.call(.post, "sobjects/Lead", json: #"{"LastName":"\#(String(repeating: "l", count: 81))","Company":"c"}"#),
                status: 400, code: "STRING_TOO_LONG", fields: ["LastName"])
            try expectError(
                try await h.call(.post, "sobjects/Lead", json: #"{"LastName":"l","Company":"\#(String(repeating: "c", count: 256))"}"#),
                status: 400, code: "STRING_TOO_LONG", fields: ["Company"])
            try expectError(
                try await h.call(.post, "sobjects/Lead", json: #"{"LastName":"l","Company":"c","Email":"\#(String(repeating: "e", count: 75))@x.com"}"#),
                status: 400, code: "STRING_TOO_LONG", fields: ["Email"])
            try expectError(
                try await h.call(.post, "sobjects/Lead", json: #"{"FirstName":"x"}"#), status: 400, code: "REQUIRED_FIELD_MISSING",
                message: "Required fields are missing: [LastName, Company]", fields: ["LastName", "Company"])
            try expectError(
                try await h.call(.post, "sobjects/Task", json: #"{"Subjekt":"x"}"#), status: 400, code: "INVALID_FIELD",
                message: "No such column 'Subjekt' on sobject of type Task")
            try expectError(try await h.call(.patch, "sobjects/Lead/\(Demo.carolLeadId)", json: #"{"Nope__c":"x"}"#), status: 400, code: "INVALID_FIELD")
            try expectError(try await h.call(.post, "sobjects/Task", json: #"{"Status":"Done-ish"}"#), status: 400, code: "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", fields: ["Status"])
            try expectError(try await h.call(.post, "sobjects/Task", json: #"{"WhoId":"garbage"}"#), status: 400, code: "MALFORMED_ID", fields: ["WhoId"])
            try expectError(try await h.call(.post, "sobjects/Task", json: #"{"WhatId":"001xx"}"#), status: 400, code: "MALFORMED_ID", fields: ["WhatId"])
            try expectError(try await h.call(.post, "sobjects/Task", json: #"{"WhoId":"\#(Demo.acmeAccountId)"}"#), status: 400, code: "FIELD_INTEGRITY_EXCEPTION")
            try expectError(
                try await h.call(.post, "sobjects/Task", json: #"{"WhoId":"\#(Demo.carolLeadId)","WhatId":"\#(Demo.acmeAccountId)"}"#),
                status: 400, code: "FIELD_INTEGRITY_EXCEPTION")
            #expect(try await h.call(.post, "sobjects/Task", json: #"{"WhoId":"\#(Demo.carolLeadId)"}"#).status == 201)
            try expectError(try await h.call(.post, "sobjects/Task", json: #"{"WhoId":"\#(Demo.convertedLeadId)"}"#), status: 400, code: "CANNOT_UPDATE_CONVERTED_LEAD")
            try expectError(
                try await h.call(.patch, "sobjects/Lead/\(Demo.convertedLeadId)", json: #"{"Title":"x"}"#), status: 400, code: "CANNOT_UPDATE_CONVERTED_LEAD",
                message: "cannot reference converted lead")
            try expectError(try await h.call(.get, "sobjects/Lead/xyz"), status: 400, code: "MALFORMED_ID")
            try expectError(try await h.call(.post, "sobjects/Task", json: #"{"Id":"00T000000000001"}"#), status: 400, code: "INVALID_FIELD")
            try expectError(try await h.call(.post, "sobjects/Task", json: #"{"IsClosed":true}"#), status: 400, code: "INVALID_FIELD_FOR_INSERT_UPDATE")
            try expectError(try await h.call(.post, "sobjects/Task", json: #"{"Subject":"#), status: 400, code: "JSON_PARSER_ERROR")
            try expectError(try await h.call(.post, "sobjects/Lead", json: #"{"LastName":"l","Company":"c","Email":"not an email"}"#), status: 400, code: "INVALID_EMAIL_ADDRESS")
            // Nothing written by the rejected requests.
            #expect(await h.org.records("Task").count == 2)
        }
    }

    @Test func taskOnConvertedLeadCannotBeUpdated() async throws {
        var seed = SandboxSeed.demo
        seed.records?["Task"] = [["_ref": "t", "Subject": "old", "WhoId": .string(Demo.convertedLeadId)]]
        try await withSandbox(seed) { h in
            let task = try #require(await h.org.records("Task").first)
            try expectError(
                try await h.call(.patch, "sobjects/Task/\(task.id)", json: #"{"Subject":"new"}"#), status: 400, code: "CANNOT_UPDATE_CONVERTED_LEAD")
            #expect(await h.org.record(id: task.id)?["Subject"] == "old")
        }
    }

    @Test("A unique, case-sensitive external id: abc and ABC are two Tasks, and describe says caseSensitive")
    func caseSensitiveExternalId() async throws {
        var seed = SandboxSeed.demo
        seed.customTaskFields = [
            CustomFieldSeed(name: "Exact_Id__c", externalId: true, unique: true, caseSensitive: true),
            CustomFieldSeed(name: "Loose_Id__c", externalId: true, unique: true),
        ]
        try await withSandbox(seed) { h in
            #expect(try await h.call(.patch, "sobjects/Task/Exact_Id__c/abc", json: #"{"Subject":"lower"}"#).status == 201)
            #expect(try await h.call(.patch, "sobjects/Task/Exact_Id__c/ABC", json: #"{"Subject":"upper"}"#).status == 201)
            #expect(try await h.call(.patch, "sobjects/Task/Exact_Id__c/abc", json: #"{"Subject":"lower 2"}"#).status == 200)
            #expect(await h.org.records("Task").count == 2)
            // Case-insensitive unique: ABC is abc.
            #expect(try await h.call(.patch, "sobjects/Task/Loose_Id__c/xyz", json: #"{"Subject":"x"}"#).status == 201)
            #expect(try await h.call(.patch, "sobjects/Task/Loose_Id__c/XYZ", json: #"{"Subject":"y"}"#).status == 200)
            #expect(await h.org.records("Task").count == 3)
            let fields = try json(try await h.call(.get, "sobjects/Task/describe"))["fields"]?.arrayValue ?? []
            func described(_ name: String) -> JSONValue? { fields.first { $0["name"]?.stringValue == name } }
            #expect(described("Exact_Id__c")?["caseSensitive"] == true && described("Exact_Id__c")?["unique"] == true)
            #expect(described("Loose_Id__c")?["caseSensitive"] == false)
        }
    }

    @Test("A seeded picklist replaces a standard field's values; restricted, it refuses the others")
    func seededRestrictedPicklist() async throws {
        var seed = SandboxSeed.demo
        seed.picklists = ["Lead.LeadSource": PicklistSeed(values: ["Web", "Partner"], restricted: true)]
        try await withSandbox(seed) { h in
            let fields = try json(try await h.call(.get, "sobjects/Lead/describe"))["fields"]?.arrayValue ?? []
            let source = try #require(fields.first { $0["name"]?.stringValue == "LeadSource" })
            #expect(source["restrictedPicklist"] == true)
            #expect(source["picklistValues"]?.arrayValue?.compactMap { $0["value"]?.stringValue } == ["Web", "Partner"])
            try expectError(
                try await h.call(.post, "sobjects/Lead", json: #"{"LastName":"l","Company":"c","LeadSource":"DocSend"}"#),
                status: 400, code: "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
            #expect(try await h.call(.post, "sobjects/Lead", json: #"{"LastName":"l","Company":"c","LeadSource":"Web"}"#).status == 201)
        }
        seed.picklists = ["Lead.Nope": PicklistSeed(values: [])]
        await #expect(throws: (any Error).self) { try await withSandbox(seed) { _ in } }
    }

    @Test("Seeded access: a read-only field or object is described so and refuses writes; a hidden one is not there")
    func seededAccess() async throws {
        var seed = SandboxSeed.demo
        seed.access = ["Task.DocSend_Link_Id__c": .read, "Lead": .read, "Contact": .none, "Task.DocSend_Visit_Id__c": .none]
        try await withSandbox(seed) { h in
            let task = try json(try await h.call(.get, "sobjects/Task/describe"))
            let fields = task["fields"]?.arrayValue ?? []
            let link = try #require(fields.first { $0["name"]?.stringValue == "DocSend_Link_Id__c" })
            #expect(link["createable"] == false && link["updateable"] == false)
            #expect(!fields.contains { $0["name"]?.stringValue == "DocSend_Visit_Id__c" })
            try expectError(
                try await h.call(.post, "sobjects/Task", json: #"{"Subject":"s","DocSend_Link_Id__c":"L"}"#), status: 400,
                code: "INVALID_FIELD_FOR_INSERT_UPDATE")
            let lead = try json(try await h.call(.get, "sobjects/Lead/describe"))
            #expect(lead["createable"] == false && lead["queryable"] == true)
            #expect(try await h.call(.post, "sobjects/Lead", json: #"{"LastName":"l","Company":"c"}"#).status >= 400)
            #expect(try await h.call(.get, "sobjects/Contact/describe").status == 404)
        }
        seed.access = ["Nope": .read]
        await #expect(throws: (any Error).self) { try await withSandbox(seed) { _ in } }
    }

    @Test("An external id holding an encoded slash is one path segment, as in Salesforce")
    func upsertExternalIdWithSlash() async throws {
        try await withSandbox { h in
            let created = try await h.call(.patch, "sobjects/Task/DocSend_Visit_Id__c/team%2Fvisit-7", json: #"{"Subject":"s"}"#)
            #expect(created.status == 201)
            let id = try #require(try json(created)["id"]?.stringValue)
            #expect(await h.org.record(id: id)?["DocSend_Visit_Id__c"] == "team/visit-7")
            let again = try await h.call(.patch, "sobjects/Task/DocSend_Visit_Id__c/team%2Fvisit-7", json: #"{"Subject":"t"}"#)
            #expect(again.status == 200)
            #expect(await h.org.records("Task").count == 1)
        }
    }

    @Test func upsertByExternalId() async throws {
        try await withSandbox { h in
            let first = try await h.call(.patch, "sobjects/Task/DocSend_Visit_Id__c/visit-1", json: #"{"Subject":"v1"}"#)
            #expect(first.status == 201)
            let b1 = try json(first)
            #expect(b1["created"] == true && b1["success"] == true && b1["errors"] == [])
            let id = try #require(b1["id"]?.stringValue)
            let second = try await h.call(.patch, "sobjects/Task/DocSend_Visit_Id__c/visit-1", json: #"{"Subject":"v2"}"#)
            #expect(second.status == 200)
            let b2 = try json(second)
            #expect(b2["created"] == false && b2["id"]?.stringValue == id)
            let got = try json(try await h.call(.get, "sobjects/Task/DocSend_Visit_Id__c/visit-1"))
            #expect(got["Subject"] == "v2" && got["DocSend_Visit_Id__c"] == "visit-1")
            #expect(await h.org.records("Task").count == 1)

            // Non-unique external id with two matches: 300 with the candidates.
            #expect(try await h.call(.post, "sobjects/Task", json: #"{"DocSend_Link_Id__c":"L1"}"#).status == 201)
            #expect(try await h.call(.post, "sobjects/Task", json: #"{"DocSend_Link_Id__c":"L1"}"#).status == 201)
            let multi = try await h.call(.patch, "sobjects/Task/DocSend_Link_Id__c/L1", json: #"{"Subject":"x"}"#)
            #expect(multi.status == 300)
            #expect(try json(multi).arrayValue?.count == 2)

            try expectError(try await h.call(.patch, "sobjects/Task/Nope__c/1", json: "{}"), status: 404, code: "NOT_FOUND")
            try expectError(try await h.call(.patch, "sobjects/Task/Subject/1", json: "{}"), status: 404, code: "NOT_FOUND")
            // Unique external id enforced on create.
            try expectError(try await h.call(.post, "sobjects/Task", json: #"{"DocSend_Visit_Id__c":"VISIT-1"}"#), status: 400, code: "DUPLICATE_VALUE")
        }
    }

    @Test func describeAndMetadata() async throws {
        try await withSandbox { h in
            let r = try await h.call(.get, "sobjects/Task/describe/")
            #expect(r.status == 200)
            let d = try json(r)
            #expect(d["name"] == "Task" && d["keyPrefix"] == "00T")
            let fields = try #require(d["fields"]?.arrayValue)
            let subject = try #require(fields.first { $0["name"] == "Subject" })
            #expect(subject["length"]?.int == 255 && subject["createable"] == true)
            let status = try #require(fields.first { $0["name"] == "Status" })
            #expect(status["picklistValues"]?.arrayValue?.compactMap { $0["value"]?.stringValue } == [])
            let custom = try #require(fields.first { $0["name"] == "DocSend_Visit_Id__c" })
            #expect(custom["custom"] == true && custom["externalId"] == true)
            let lead = try json(try await h.call(.get, "sobjects/Lead/describe"))
            let company = try #require(lead["fields"]?.arrayValue?.first { $0["name"] == "Company" })
            #expect(company["length"]?.int == 255 && company["nillable"] == false)
            let statuses = try json(try await h.query("SELECT ApiName, IsClosed, IsDefault FROM TaskStatus ORDER BY SortOrder"))
            let names = statuses["records"]?.arrayValue?.compactMap { $0["ApiName"]?.stringValue }
            #expect(names == ["Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"])
            #expect(statuses["records"]?.arrayValue?[2]["IsClosed"] == true)
            #expect(statuses["records"]?.arrayValue?[0]["IsDefault"] == true)
            #expect(try await h.call(.get, "sobjects").status == 200)
        }
    }

    @Test func routingErrors() async throws {
        try await withSandbox { h in
            try expectError(try await h.call(.get, "nope"), status: 404, code: "NOT_FOUND")
            try expectError(try await h.call(.get, "/services/nope"), status: 404, code: "NOT_FOUND")
            try expectError(try await h.call(.get, "sobjects/Nope__c/describe"), status: 404, code: "NOT_FOUND")
            let put = try await h.call(.put, "sobjects/Task", json: "{}")
            try expectError(put, status: 405, code: "METHOD_NOT_ALLOWED", fields: [])
            #expect(put.headers["Allow"] == "GET, POST")
            try expectError(try await h.call(.delete, "query?q=SELECT+Id+FROM+Lead"), status: 405, code: "METHOD_NOT_ALLOWED")
            // Any vNN.N version and trailing slashes.
            #expect(try await h.call(.get, "/services/data/v59.0/limits/").status == 200)
            #expect(try await h.call(.get, "/services/data/v62.0/query/?q=SELECT+Id+FROM+Lead").status == 200)
            try expectError(try await h.call(.get, "/services/data/62/limits"), status: 404, code: "NOT_FOUND")
        }
    }

    @Test func sessionErrors() async throws {
        try await withSandbox { h in
            let missing = try await h.call(.get, "limits", anonymous: true)
            try expectError(missing, status: 401, code: "INVALID_SESSION_ID", message: "Session expired or invalid")
            #expect(missing.headers["WWW-Authenticate"] == "Token")
            try expectError(try await h.call(.get, "limits", token: "00Dxx!bogus"), status: 401, code: "INVALID_SESSION_ID")
            #expect(try await h.call(.get, "limits", token: Demo.accessToken).status == 200)
            await h.org.expireAllAccessTokens()
            try expectError(try await h.call(.get, "limits"), status: 401, code: "INVALID_SESSION_ID")
        }
    }

    @Test func accessTokensExpireAfterLifetime() async throws {
        var seed = SandboxSeed.demo
        seed.accessTokenLifetimeSeconds = 1.5
        try await withSandbox(seed) { h in
            #expect(try await h.call(.get, "limits").status == 200)
            try await Task.sleep(for: .milliseconds(1700))
            try expectError(try await h.call(.get, "limits"), status: 401, code: "INVALID_SESSION_ID")
            let fresh = try await h.org.issueAccessToken()
            #expect(try await h.call(.get, "limits", token: fresh).status == 200)
        }
    }

    @Test func limitsCountingAndExhaustion() async throws {
        var seed = SandboxSeed.demo
        seed.limits = LimitsSeed(dailyApiRequests: 6, used: 0)
        try await withSandbox(seed) { h in
            let r1 = try await h.call(.get, "limits")
            #expect(r1.headers["Sforce-Limit-Info"] == "api-usage=1/6")
            let body = try json(r1)
            #expect(body["DailyApiRequests"]?["Max"]?.int == 6 && body["DailyApiRequests"]?["Remaining"]?.int == 5)
            // A composite with three subrequests is one call; so is a collection.
            let composite = #"{"compositeRequest":[{"method":"GET","url":"/services/data/v62.0/limits","referenceId":"a"},{"method":"GET","url":"/services/data/v62.0/limits","referenceId":"b"},{"method":"POST","url":"/services/data/v62.0/sobjects/Task","referenceId":"c","body":{"Subject":"x"}}]}"#
            let c = try await h.call(.post, "composite", json: composite)
            #expect(c.status == 200 && c.headers["Sforce-Limit-Info"] == "api-usage=2/6")
            let coll = try await h.call(.post, "composite/sobjects", json: #"{"records":[{"attributes":{"type":"Task"}},{"attributes":{"type":"Task"}}]}"#)
            #expect(coll.headers["Sforce-Limit-Info"] == "api-usage=3/6")
            // OAuth calls are not API calls and carry no header.
            let oauth = try await h.form("/services/oauth2/token", [("grant_type", "client_credentials"), ("client_id", Demo.clientId), ("client_secret", Demo.clientSecret)])
            #expect(oauth.status == 200 && oauth.headers["Sforce-Limit-Info"] == nil)
            // Control routes are not counted either.
            _ = try await h.call(.get, "/_sandbox/requests", anonymous: true)
            #expect(await h.org.apiUsage().used == 3)
            for _ in 0..<3 { #expect(try await h.call(.get, "limits").status == 200) }
            let over = try await h.call(.get, "limits")
            try expectError(over, status: 403, code: "REQUEST_LIMIT_EXCEEDED")
            #expect(over.headers["Sforce-Limit-Info"] == "api-usage=6/6")
        }
    }
}
