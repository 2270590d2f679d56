import Foundation
import Testing

@testable import SyncCore

/// What a later write does with a Task a rep deleted in Salesforce (issue 16): the setting, which errors mean
/// "deleted", and the action.
@Suite("Deleted Tasks")
struct DeletedTaskRuleTests {
    @Test("deleted_tasks: recreate unless set, stored as deleted_tasks, an unknown value read as the default")
    func setting() throws {
        #expect(TeamSettings().deletedTasks == .recreate)
        // Teams stored before the setting existed write deleted Tasks again.
        let old = try JSONDecoder().decode(TeamSettings.self, from: Data(#"{"sync_visits": true}"#.utf8))
        #expect(old.deletedTasks == .recreate)
        let leaving = TeamSettings(deletedTasks: .leave)
        let text = String(decoding: try JSONEncoder().encode(leaving), as: UTF8.self)
        #expect(text.contains(#""deleted_tasks":"leave""#), "\(text)")
        #expect(try JSONDecoder().decode(TeamSettings.self, from: Data(text.utf8)) == leaving)
        let unknown = try JSONDecoder().decode(TeamSettings.self, from: Data(#"{"deleted_tasks": "half"}"#.utf8))
        #expect(unknown.deletedTasks == .recreate)
    }

    @Test("the errors of an update by Id that mean the Task is gone, and only those")
    func goneErrors() {
        #expect(DeletedTaskRule.isGone(errorCode: "ENTITY_IS_DELETED", fields: []))
        #expect(DeletedTaskRule.isGone(errorCode: "NOT_FOUND", fields: []))
        #expect(DeletedTaskRule.isGone(errorCode: "INVALID_CROSS_REFERENCE_KEY", fields: []))
        #expect(DeletedTaskRule.isGone(errorCode: "INVALID_CROSS_REFERENCE_KEY", fields: ["Id"]))
        #expect(DeletedTaskRule.isGone(errorCode: "INVALID_ID_FIELD", fields: ["id"]))
        // A reference other than the Task's own id is another problem (a mapped field, say).
        #expect(!DeletedTaskRule.isGone(errorCode: "INVALID_CROSS_REFERENCE_KEY", fields: ["WhoId"]))
        for other in ["UNABLE_TO_LOCK_ROW", "STRING_TOO_LONG", "INVALID_FIELD", "REQUEST_LIMIT_EXCEEDED", "MALFORMED_ID", ""] {
            #expect(!DeletedTaskRule.isGone(errorCode: other, fields: []), "\(other)")
        }
    }

    @Test("recreate writes the Task again; leave writes nothing and says why")
    func action() {
        #expect(DeletedTaskRule.action(settings: TeamSettings()) == .recreate)
        let left = DeletedTaskRule.action(settings: TeamSettings(deletedTasks: .leave))
        #expect(left == .leave(.taskDeletedInSalesforce))
        #expect(NotSyncedReason.taskDeletedInSalesforce.code == "task_deleted_in_salesforce")
        #expect(NotSyncedReason.taskDeletedInSalesforce.description.contains("deleted the Task"))
        #expect(DeletedTaskPolicy.allCases.map(\.rawValue) == ["recreate", "leave"])
    }
}
