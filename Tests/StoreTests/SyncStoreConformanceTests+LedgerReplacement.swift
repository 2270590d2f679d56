import Foundation
@testable import Store
import Testing

extension SyncStoreConformanceTests {
    // MARK: Ledger: a deleted Task written again

    @Test(arguments: Backend.available)
    func ledgerReplacesOnlyTheDeletedEntry(_ backend: Backend) async throws {
        try await withStore(backend) { store, _ async throws in
            // Nothing recorded yet: inserted.
            let inserted = try await store.replaceLedgerEntry(
                teamID: "team_1", kind: .visit, objectID: "v1", salesforceType: "Task", salesforceID: "00T1",
                replacing: "00T0")
            #expect(inserted.salesforceID == "00T1")
            // The recorded Task was deleted and written again: replaced.
            let replaced = try await store.replaceLedgerEntry(
                teamID: "team_1", kind: .visit, objectID: "v1", salesforceType: "Task", salesforceID: "00T2",
                replacing: "00T1")
            #expect(replaced.salesforceID == "00T2")
            #expect(try await store.ledgerEntry(teamID: "team_1", kind: .visit, objectID: "v1")?.salesforceID == "00T2")
            // A worker that still thinks 00T1 is recorded changes nothing and learns what is.
            let stale = try await store.replaceLedgerEntry(
                teamID: "team_1", kind: .visit, objectID: "v1", salesforceType: "Task", salesforceID: "00T3",
                replacing: "00T1")
            #expect(stale.salesforceID == "00T2")
            #expect(try await store.ledgerEntry(teamID: "team_1", kind: .visit, objectID: "v1")?.salesforceID == "00T2")
            // Other objects keep theirs.
            #expect(try await store.ledgerEntry(teamID: "team_1", kind: .link, objectID: "v1") == nil)
        }
    }
}
