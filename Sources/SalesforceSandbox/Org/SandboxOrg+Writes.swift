import Foundation

/// Record writes of the Salesforce routes (REST, composite, collections): they apply the duplicate rules
/// to creates and feed the change feed. Seeds, `POST /_sandbox/records` and ``SandboxOrg/create(_:_:)``
/// write to the store directly and do neither.
extension SandboxOrg {
    // MARK: In-process API

    /// The duplicate rules in force (canonical object and field names).
    public func duplicateRules() -> [DuplicateRuleSeed] { duplicateRuleSet }

    /// Replaces the duplicate rules; throws for an unknown object or field or an empty field list.
    public func setDuplicateRules(_ rules: [DuplicateRuleSeed]) throws(SalesforceError) {
        duplicateRuleSet = try store.validatedDuplicateRules(rules)
    }

    /// Successful record writes with `seq > after`, oldest first, at most `limit`.
    public func changes(after: Int = 0, limit: Int = 500) -> [SandboxChange] {
        changeFeed.page(after: after, limit: max(0, limit)).changes
    }

    // MARK: Writes of the Salesforce routes

    /// The rules a create with these request headers is checked against.
    func duplicatePolicy(_ headers: [(name: String, value: String)]) -> DuplicatePolicy {
        let allowSave = DuplicatePolicy.allowsSave(headers)
        return DuplicatePolicy(rules: duplicateRuleSet.filter { !(allowSave && $0.action == .alert) })
    }

    func apiCreate(
        type: String, body: JSONObject, userId: String, headers: [(name: String, value: String)],
        operation: SandboxChangeOperation = .create
    ) throws(SalesforceError) -> String {
        let now = Date()
        let id = try store.create(type: type, body: body, now: now, userId: userId, duplicates: duplicatePolicy(headers))
        noteChange(operation, id: id, at: now)
        return id
    }

    func apiUpdate(type: String, id: String, body: JSONObject, userId: String, operation: SandboxChangeOperation = .update) throws(SalesforceError) {
        let now = Date()
        try store.update(type: type, id: id, body: body, now: now, userId: userId)
        noteChange(operation, id: id, at: now)
    }

    func apiDelete(type: String, id: String) throws(SalesforceError) {
        let now = Date()
        try store.delete(type: type, id: id, now: now)
        noteChange(.delete, id: id, at: now)
    }

    private func noteChange(_ operation: SandboxChangeOperation, id: String, at date: Date) {
        guard let record = store.record(id: id) else { return }
        changeFeed.append(operation, record: record, at: date)
    }

    /// Where the change feed stands, to roll back to with the store (composite / collections `allOrNone`).
    var changeMark: Int { changeFeed.lastSeq }

    func rollBackChanges(to mark: Int) { changeFeed.rollBack(to: mark) }
}
