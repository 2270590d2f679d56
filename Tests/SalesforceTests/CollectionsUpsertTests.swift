import Foundation
import HTTP
import JSON
import SalesforceSandbox
import Testing

@testable import Salesforce

/// `PATCH composite/sobjects/{type}/{externalIdField}` through the client, against the sandbox over HTTP: each
/// record's own result, in order, one API call per 200.
@Suite("sObject Collections upsert")
struct CollectionsUpsertTests {
    private func task(_ visit: String, _ subject: String) -> [String: JSON.JSONValue] {
        ["DocSend_Visit_Id__c": .string(visit), "Subject": .string(subject), "Status": "Completed"]
    }

    @Test("creates then updates on the external id, one call per 200 records, created said per record")
    func createsThenUpdates() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http)
            let records = (0..<250).map { task("visit-\($0)", "Visit \($0)") }
            let created = try await client.upsertRecords("Task", externalIDField: "DocSend_Visit_Id__c", records: records)
            #expect(created.count == 250)
            #expect(created.allSatisfy { $0.success && $0.created == true && $0.id != nil })
            #expect(await sandbox.restRequests(method: "PATCH", suffix: "/composite/sobjects/Task/DocSend_Visit_Id__c") == 2)

            // Visit 3 again (an update, whatever the case of its id) and a new one.
            let again = try await client.upsertRecords(
                "Task", externalIDField: "DocSend_Visit_Id__c", records: [task("VISIT-3", "Again"), task("visit-new", "New")])
            #expect(again.map(\.created) == [false, true])
            #expect(again[0].id == created[3].id)
            #expect(await sandbox.field(try #require(created[3].id), "Subject") == "Again")
            #expect(await sandbox.ids("Task", where: "DocSend_Visit_Id__c", equals: "visit-3").count == 1)
        }
    }

    @Test("allOrNone false: a record Salesforce refuses fails alone; a repeated external id fails each copy")
    func ownResults() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http)
            var records = (0..<5).map { task("visit-\($0)", "Visit \($0)") }
            records[1]["Subject"] = .string(String(repeating: "x", count: 256))
            records[3]["WhatId"] = "001000000000999"
            records.append(task("twice", "One"))
            records.append(task("TWICE", "Two"))
            records.append(["Subject": "no external id"])
            let results = try await client.upsertRecords("Task", externalIDField: "DocSend_Visit_Id__c", records: records)
            #expect(results.map(\.success) == [true, false, true, false, true, false, false, false])
            #expect(results[1].errors.first?.code == .stringTooLong)
            #expect(results[3].errors.first?.code.rawValue == "INVALID_CROSS_REFERENCE_KEY")
            #expect(results[3].errors.first?.classification == .permanent)
            #expect(results[5].errors.first?.code.rawValue == "DUPLICATE_EXTERNAL_ID")
            #expect(results[6].errors.first?.code.rawValue == "DUPLICATE_EXTERNAL_ID")
            #expect(results[7].errors.first?.code.rawValue == "MISSING_ARGUMENT")
            #expect(await sandbox.ids("Task", where: "DocSend_Visit_Id__c", equals: "twice").isEmpty)
            #expect(await sandbox.ids("Task", where: "DocSend_Visit_Id__c", equals: "visit-4").count == 1)
        }
    }

    @Test("allOrNone true: one refused record rolls back the others")
    func allOrNone() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http)
            var records = (0..<3).map { task("rolled-\($0)", "Visit \($0)") }
            records[2]["Subject"] = .string(String(repeating: "x", count: 256))
            let results = try await client.upsertRecords(
                "Task", externalIDField: "DocSend_Visit_Id__c", records: records, allOrNone: true)
            #expect(results.allSatisfy { !$0.success })
            #expect(results[0].errors.first?.code.rawValue == "ALL_OR_NONE_OPERATION_ROLLED_BACK")
            #expect(await sandbox.ids("Task", where: "DocSend_Visit_Id__c", equals: "rolled-0").isEmpty)
        }
    }

    @Test("an external-id field that is not one, and a wrong attributes type, are refused")
    func refused() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http)
            let record = task("a", "b")
            await #expect(throws: ClientError.self) {
                try await client.upsertRecords("Task", externalIDField: "Subject", records: [record])
            }
            let response = try await http.execute(
                HTTPRequest(
                    method: .patch, url: sandbox.baseURL + "/services/data/v62.0/composite/sobjects/Task/DocSend_Visit_Id__c",
                    headers: ["Authorization": "Bearer \(Demo.accessToken)", "Content-Type": "application/json"],
                    body: Data(#"{"records":[{"attributes":{"type":"Lead"},"DocSend_Visit_Id__c":"x"}]}"#.utf8)))
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self).contains("INVALID_TYPE"))
        }
    }

    @Test("queries: up to five in one composite request (one API call), each its own records or its own error")
    func queriesInOneCall() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http)
            let results = try await client.queries([
                .select(["Id", "Email"], from: "Contact").where(.in("Email", [.string("ALICE@acme.example"), .string("nobody@x.example")])),
                .select(["Id"], from: "Lead").where(.equals("IsConverted", .bool(false))),
                .select(["Id", "Nope__c"], from: "Account"),
            ])
            #expect(results.count == 3)
            #expect(try results[0].get().count == 1)
            #expect(try results[1].get().isEmpty == false)
            guard case .failure(let error) = results[2] else {
                Issue.record("a query of a missing field succeeded")
                return
            }
            #expect(error.code == .invalidField)
            #expect(await sandbox.restRequests(method: "POST", suffix: "/composite") == 1)
            #expect(await sandbox.restRequests(method: "GET", suffix: "/query") == 0)
            await #expect(throws: ClientError.self) { try await client.queries([]) }
        }
    }
}
