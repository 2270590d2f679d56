import Foundation
import HTTP
import SalesforceSandbox
import Testing

@Suite("SOQL over HTTP")
struct QueryTests {
    typealias Demo = SandboxSeed.Demo

    func ids(_ r: HTTPResponse) throws -> [String] {
        try json(r)["records"]?.arrayValue?.compactMap { $0["Id"]?.stringValue } ?? []
    }

    @Test func whereOrderLimitAndShapes() async throws {
        try await withSandbox { h in
            let r = try await h.query("SELECT Id, Email, IsConverted FROM Lead WHERE Email = 'CAROL@initech.example' AND IsConverted = false")
            #expect(r.status == 200 && r.headers["Sforce-Limit-Info"] != nil)
            let body = try json(r)
            #expect(body["totalSize"]?.int == 1 && body["done"] == true && body["nextRecordsUrl"] == nil)
            let rec = try #require(body["records"]?.arrayValue?.first)
            #expect(rec["attributes"]?["type"] == "Lead")
            #expect(rec["attributes"]?["url"]?.stringValue == "/services/data/v62.0/sobjects/Lead/\(Demo.carolLeadId)")
            #expect(rec.objectValue?.keys == ["attributes", "Id", "Email", "IsConverted"])

            #expect(try ids(try await h.query("SELECT Id FROM Lead WHERE IsConverted = true")) == [Demo.convertedLeadId])
            #expect(try ids(try await h.query("SELECT Id FROM Lead WHERE NOT IsConverted = true")) == [Demo.carolLeadId])
            #expect(try ids(try await h.query("SELECT Id FROM Lead WHERE Id IN ('\(Demo.carolLeadId)', '00Q5g00000Nope1')")) == [Demo.carolLeadId])
            #expect(try ids(try await h.query("SELECT Id FROM Lead WHERE Id NOT IN ('\(Demo.carolLeadId)')")) == [Demo.convertedLeadId])
            #expect(try ids(try await h.query("SELECT Id FROM Lead WHERE Email LIKE 'carol@%'")) == [Demo.carolLeadId])
            #expect(try ids(try await h.query("SELECT Id FROM Lead WHERE Email LIKE 'c_rol@%'")) == [Demo.carolLeadId])
            #expect(try ids(try await h.query("SELECT Id FROM Lead WHERE Email LIKE 'c\\_rol@%'")) == [])
            #expect(try ids(try await h.query("SELECT Id FROM Lead WHERE Title = null AND (Company = 'Initech' OR Company = 'Globex') ORDER BY LastName DESC")).count == 2)
            #expect(try ids(try await h.query("SELECT Id FROM Lead WHERE ConvertedContactId != null")) == [Demo.convertedLeadId])
            #expect(try ids(try await h.query("SELECT Id FROM Lead WHERE ConvertedDate > 2026-01-01")) == [Demo.convertedLeadId])
            #expect(try ids(try await h.query("SELECT Id FROM Lead WHERE CreatedDate > 2020-01-01T00:00:00Z")).count == 2)
            #expect(try ids(try await h.query("SELECT Id FROM Lead WHERE CreatedDate < 2020-01-01T00:00:00Z")).isEmpty)
            let ordered = try json(try await h.query("SELECT FirstName FROM Lead ORDER BY FirstName ASC NULLS LAST LIMIT 1"))
            #expect(ordered["records"]?.arrayValue?.first?["FirstName"] == "Carol" && ordered["totalSize"]?.int == 1)
            let desc = try json(try await h.query("SELECT FirstName FROM Lead ORDER BY FirstName DESC"))
            #expect(desc["records"]?.arrayValue?.compactMap { $0["FirstName"]?.stringValue } == ["Dan", "Carol"])
            let count = try json(try await h.query("SELECT COUNT() FROM Contact"))
            #expect(count["totalSize"]?.int == 2 && count["records"] == [])

            try expectError(try await h.query("SELECT Id, Bogus FROM Lead"), status: 400, code: "INVALID_FIELD")
            try expectError(try await h.query("SELECT Id FROM Lead WHERE"), status: 400, code: "MALFORMED_QUERY")
            try expectError(try await h.query("SELECT Id FROM Lead WHERE Email = 'a\\qb'"), status: 400, code: "MALFORMED_QUERY")
            try expectError(try await h.call(.get, "query"), status: 400, code: "MALFORMED_QUERY")
        }
    }

    @Test func deletedRecordsLeaveQueries() async throws {
        try await withSandbox { h in
            #expect(try await h.call(.delete, "sobjects/Lead/\(Demo.carolLeadId)").status == 204)
            #expect(try ids(try await h.query("SELECT Id FROM Lead WHERE Email = 'carol@initech.example'")).isEmpty)
            let all = try await h.call(.get, "queryAll?q=\(enc("SELECT Id, IsDeleted FROM Lead WHERE Email = 'carol@initech.example'"))")
            #expect(try json(all)["records"]?.arrayValue?.first?["IsDeleted"] == true)
        }
    }

    @Test func pagingWithBatchSize() async throws {
        var seed = SandboxSeed.demo
        seed.records?["Task"] = (0..<450).map { i in ["Subject": .string(String(format: "task %03d", i))] }
        try await withSandbox(seed) { h in
            var seen: [String] = []
            var page = try json(try await h.query("SELECT Id, Subject FROM Task ORDER BY Subject", batchSize: 200))
            var pages = 1
            #expect(page["totalSize"]?.int == 450)
            seen += page["records"]?.arrayValue?.compactMap { $0["Subject"]?.stringValue } ?? []
            while page["done"] == false {
                let next = try #require(page["nextRecordsUrl"]?.stringValue)
                #expect(next.hasPrefix("/services/data/v62.0/query/01g") && next.hasSuffix("-\(seen.count)"))
                let r = try await h.call(.get, next)
                #expect(r.status == 200)
                page = try json(r)
                pages += 1
                seen += page["records"]?.arrayValue?.compactMap { $0["Subject"]?.stringValue } ?? []
                #expect(pages <= 3)
            }
            #expect(pages == 3)
            #expect(seen == (0..<450).map { String(format: "task %03d", $0) })
            // Default batch is 2000: one page; a batch size below 200 is raised to 200.
            #expect(try json(try await h.query("SELECT Id FROM Task"))["done"] == true)
            #expect(try json(try await h.query("SELECT Id FROM Task", batchSize: 10))["records"]?.arrayValue?.count == 200)
            try expectError(try await h.call(.get, "query/01gNOPE-200"), status: 400, code: "INVALID_QUERY_LOCATOR")
        }
    }

    @Test func hostileValuesMatchExactlyTheirRecord() async throws {
        let hostile = [
            "o'brien@x.com", "o\\'brien@x.com", "back\\slash@x.com", "back\\\\slash@x.com", "100%real@x.com", "100xreal@x.com",
            "under_score@x.com", "underXscore@x.com", "' OR Name != '@x.com", "' OR Email LIKE '%", "quote\"d@x.com",
            "line\nbreak@x.com", "tab\there@x.com", "ünïcødé@例え.jp", "emoji😀@x.com", "%", "_", "\\", "'",
            String(repeating: "a", count: 294) + "@x.com",
        ]
        var seed = SandboxSeed.demo
        seed.customFields = ["Lead": [CustomFieldSeed(name: "Visitor_Email__c", length: 320)]]
        seed.records?["Lead"] = hostile.map { ["LastName": "H", "Company": "C", "Visitor_Email__c": .string($0)] }
        try await withSandbox(seed) { h in
            let leads = await h.org.records("Lead")
            for value in hostile {
                let expected = leads.filter { $0["Visitor_Email__c"]?.stringValue == value }.map(\.id)
                #expect(expected.count == 1)
                let r = try await h.query("SELECT Id, Visitor_Email__c FROM Lead WHERE Visitor_Email__c = '\(soqlEscape(value))'")
                #expect(r.status == 200, "\(value): \(String(decoding: r.body, as: UTF8.self))")
                #expect(try ids(r) == expected, "value \(value)")
                #expect(try json(r)["records"]?.arrayValue?.first?["Visitor_Email__c"]?.stringValue == value)
            }
            // Text equality is case-insensitive, as in Salesforce.
            #expect(try ids(try await h.query("SELECT Id FROM Lead WHERE Visitor_Email__c = 'O\\'BRIEN@X.COM'")).count == 1)
            // An unescaped quote is a syntax error.
            try expectError(try await h.query("SELECT Id FROM Lead WHERE Visitor_Email__c = 'o'brien@x.com'"), status: 400, code: "MALFORMED_QUERY")
        }
    }
}
