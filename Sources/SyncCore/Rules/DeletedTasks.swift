/// What the sync does with a Task a sales rep deleted in Salesforce (team setting `deleted_tasks`).
///
/// A later write (a visit's re-sync, a link Task's visitor refresh) updates the Task by its Salesforce id and
/// finds it gone. An upsert on the external id would not find it either (Salesforce's upsert does not match a
/// record in the recycle bin) and would create a Task holding only the changing fields: no Subject, no
/// `WhoId`/`WhatId`, an open status, the integration user as owner. So the sync either writes the Task again
/// whole, as the first sync does, or writes nothing at all.
public enum DeletedTaskPolicy: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// Write the Task again whole (the default): the activity stays visible in Salesforce, as DocSend promises,
    /// and a Task deleted by mistake (or by a cleanup rule) comes back complete with the activity's progress.
    case recreate
    /// Leave it deleted: the object's later writes write nothing (a visit stops re-syncing, a link's visitors
    /// are no longer written), recorded as ``NotSyncedReason/taskDeletedInSalesforce``.
    case leave

    public var description: String { rawValue }
}

/// What to do once Salesforce said the Task is gone.
public enum DeletedTaskAction: Sendable, Hashable {
    /// Route the activity again and write its Task whole (relations, status, owner, subject, content).
    case recreate
    /// Write nothing now or later; record why.
    case leave(NotSyncedReason)
}

/// The rules for a Task that is no longer in Salesforce.
public enum DeletedTaskRule {
    /// Whether a per-record error of an update *by Id* says the record itself is gone:
    /// - `ENTITY_IS_DELETED`: in the recycle bin (or deleted for good: Salesforce keeps saying so);
    /// - `NOT_FOUND`: no such record;
    /// - `INVALID_CROSS_REFERENCE_KEY` / `INVALID_ID_FIELD` blaming the `Id` (or nothing): the id names no record.
    ///   Later writes send no reference field (``RenderedTask/updateFields``), so the only reference is the Id.
    ///
    /// Any other error (validation, locking, limits) is no deletion and goes the usual way.
    public static func isGone(errorCode: String, fields: [String]) -> Bool {
        switch errorCode {
        case "ENTITY_IS_DELETED", "NOT_FOUND":
            return true
        case "INVALID_CROSS_REFERENCE_KEY", "INVALID_ID_FIELD":
            return fields.allSatisfy { $0.caseInsensitiveCompare("Id") == .orderedSame }
        default:
            return false
        }
    }

    /// What `settings` say to do with a deleted Task.
    public static func action(settings: TeamSettings) -> DeletedTaskAction {
        switch settings.deletedTasks {
        case .recreate: .recreate
        case .leave: .leave(.taskDeletedInSalesforce)
        }
    }
}
