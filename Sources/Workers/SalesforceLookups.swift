import Foundation
import Logging
import Salesforce
import Store
import SyncCore

/// The queries the rules need, each one SOQL round trip with every literal escaped.
extension TeamOrg {
    /// Contacts and unconverted Leads whose email is `email` (Salesforce compares emails case-insensitively).
    func people(email: String?, logger: Logger) async throws -> [SalesforcePerson] {
        guard let email = Matching.normalizedEmail(email) else { return [] }
        let contacts = try await client.query(
            .select(["Id", "Email", "AccountId", "LastModifiedDate"], from: "Contact")
                .where(.equals("Email", .string(email))).limit(50), logger: logger)
        let leads = try await client.query(
            .select(["Id", "Email", "IsConverted", "LastModifiedDate"], from: "Lead")
                .where(.equals("Email", .string(email)) && .equals("IsConverted", .bool(false))).limit(50),
            logger: logger)
        return contacts.compactMap { person($0, kind: .contact) } + leads.compactMap { person($0, kind: .lead) }
    }

    private func person(_ row: SObjectRecord, kind: SalesforcePerson.Kind) -> SalesforcePerson? {
        guard let id = row.id else { return nil }
        return SalesforcePerson(
            kind: kind, id: id, email: row["Email"]?.stringValue, isConverted: row["IsConverted"]?.boolValue ?? false,
            lastModifiedDate: SalesforceDateTime.parse(row["LastModifiedDate"]?.stringValue) ?? .distantPast,
            accountID: row["AccountId"]?.stringValue)
    }

    /// The DocSend account with its Salesforce link: the event's `salesforce_account_id`, else the link an
    /// admin stored for the DocSend account.
    func linkedAccount(_ account: AccountInfo?) async throws -> AccountInfo? {
        guard var account else { return nil }
        if account.salesforceAccountID?.trimmingCharacters(in: .whitespaces).isEmpty ?? true {
            account.salesforceAccountID = try await orgs.store.accountLink(teamID: teamID, docSendAccountID: account.id)
        }
        return account
    }

    /// Accounts named exactly like `account` when it has no Salesforce link (none needed otherwise).
    func accountCandidates(for account: AccountInfo?, logger: Logger) async throws -> [SalesforceAccount] {
        guard let account, account.salesforceAccountID == nil, !account.name.isEmpty else { return [] }
        let rows = try await client.query(
            .select(["Id", "Name", "LastModifiedDate"], from: "Account")
                .where(.equals("Name", .string(account.name))).limit(20), logger: logger)
        return rows.compactMap { row in
            guard let id = row.id else { return nil }
            return SalesforceAccount(
                id: id, name: row["Name"]?.stringValue ?? "",
                lastModifiedDate: SalesforceDateTime.parse(row["LastModifiedDate"]?.stringValue) ?? .distantPast)
        }
    }

    /// The active User with `email`, as a list for the rules (empty when there is none).
    func users(email: String?, logger: Logger) async throws -> [SalesforceUser] {
        try await orgs.users(teamID: teamID, email: email, client: client, logger: logger)
    }

    /// Writes a Task by upsert on its external id and returns its id, recorded in the ledger for `kind`.
    /// (An upsert that updated may not say which record it updated: the id then comes from a query.)
    func upsertTask(_ task: RenderedTask, fields: [String: FieldValue], kind: SyncObjectKind, logger: Logger)
        async throws -> String
    {
        let result: UpsertResult
        do {
            result = try await client.upsert(
                "Task", externalIDField: task.externalIDField, value: task.externalID, fields: fields, logger: logger)
        } catch let error as SalesforceError where error.code == .duplicateValue {
            // Two upserts of one external id at once: both looked, found nothing, and the other inserted first.
            // The Task exists now, so the same upsert updates it.
            logger.debug("a concurrent upsert created the Task first; upserting again", metadata: ["task": "\(task.externalID)"])
            result = try await client.upsert(
                "Task", externalIDField: task.externalIDField, value: task.externalID, fields: fields, logger: logger)
        }
        var id: String?
        switch result {
        case .created(let created): id = created
        case .updated(let updated): id = updated
        }
        if id == nil {
            id = try await client.query(
                .select(["Id"], from: "Task").where(.equals(task.externalIDField, .string(task.externalID))).limit(1),
                logger: logger
            ).first?.id
        }
        guard let id else {
            throw WorkFailure.retryable(
                code: "task_not_found", "Salesforce accepted the Task upsert but no Task has \(task.externalIDField) \(task.externalID)")
        }
        return try await orgs.store.recordLedgerEntry(
            teamID: teamID, kind: kind, objectID: task.externalID, salesforceType: "Task", salesforceID: id
        ).salesforceID
    }
}
