import Foundation
import HTTP
import JSON
import SalesforceSandbox
import Testing

@testable import Salesforce

/// `PATCH composite/sobjects` by Id through the client, against the sandbox over HTTP: each record's own result, in
/// order, one API call per 200; a deleted record fails alone and nothing is created (where an upsert on the external
/// id creates another Task, as Salesforce's upsert does not match records in the recycle bin).
@Suite("sObject Collections update by Id")
struct CollectionsUpdateTests {
    private func task(_ visit: String, _ subject: String) -> [String: JSON.JSONValue] {
        ["DocSend_Visit_Id__c": .string(visit), "Subject": .string(subject), "Status": "Completed"]
    }

    @Test("updates by Id in order; a deleted Task says ENTITY_IS_DELETED and is not created again")
    func updatesByIDAndNeverCreates() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http)
            let created = try await client.upsertRecords(
                "Task", externalIDField: "DocSend_Visit_Id__c", records: (0..<3).map { task("visit-\($0)", "Visit \($0)") })
            let ids = created.compactMap(\.id)
            #expect(ids.count == 3)
            try await client.delete("Task", id: ids[1])
            let tasksBefore = await sandbox.org.records("Task").count

            let updated = try await client.updateRecords(
                "Task", ids: ids, records: ids.map { _ in ["Description": JSON.JSONValue.string("Percent viewed: 40%")] })
            #expect(updated.map(\.success) == [true, false, true])
            #expect(updated[1].errors.first?.code == .entityIsDeleted)
            #expect(await sandbox.field(ids[0], "Description") == "Percent viewed: 40%")
            #expect(await sandbox.field(ids[0], "Subject") == "Visit 0", "only the fields sent change")
            #expect(await sandbox.org.records("Task").count == tasksBefore, "an update creates nothing")
            #expect(await sandbox.restRequests(method: "PATCH", suffix: "/composite/sobjects") == 1)

            // What the fix avoids: the upsert on the external id does not see the deleted Task and makes a half one.
            let upserted = try await client.upsertRecords(
                "Task", externalIDField: "DocSend_Visit_Id__c",
                records: [["DocSend_Visit_Id__c": JSON.JSONValue.string("visit-1"), "Description": "Percent viewed: 40%"]])
            #expect(upserted.first?.created == true)
            #expect(upserted.first?.id != ids[1])
            #expect(await sandbox.field(try #require(upserted.first?.id), "Subject") == nil)
        }
    }

    @Test("ids and records must pair up")
    func pairs() async throws {
        try await withSandbox { sandbox, http in
            let client = makeClient(sandbox, http)
            await #expect(throws: Salesforce.SalesforceError.self) {
                _ = try await client.updateRecords("Task", ids: ["00T000000000001"], records: [[String: JSON.JSONValue]]())
            }
            await #expect(throws: Salesforce.SalesforceError.self) {
                _ = try await client.updateRecords("Task", ids: [""], records: [["Subject": JSON.JSONValue.string("x")]])
            }
        }
    }
}
