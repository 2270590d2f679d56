import Foundation
import Salesforce
import Store
import SyncCore
import Workers

// Account links and the search of Accounts, recent activity, parked messages: what the page shows below the
// settings.
extension AdminService {
    // MARK: Account links

    /// The team's account links, ordered by DocSend account id.
    public func accountLinks(teamID: String, by principal: AdminPrincipal) async throws -> [AccountLink] {
        try authorize(principal, teamID)
        return try await store.accountLinks(teamID: teamID)
    }

    /// Links a DocSend account to a Salesforce Account (checked to exist in the org).
    public func setAccountLink(
        teamID: String, docSendAccountID: String, salesforceAccountID: String, by principal: AdminPrincipal
    ) async throws {
        try authorize(principal, teamID)
        guard Self.isDocSendID(docSendAccountID) else {
            throw AdminError.invalid("a DocSend account id is 1 to 255 printable characters")
        }
        guard Self.isSalesforceID(salesforceAccountID, prefix: "001") else {
            throw AdminError(
                .validationFailed, "not an Account id", status: 422,
                fields: [.init(field: "salesforce_account_id", message: "expected a 15 or 18 character Account id (001…)")])
        }
        let previous = try await store.accountLink(teamID: teamID, docSendAccountID: docSendAccountID)
        do {
            try await mapped {
                try await administration.linkAccount(
                    teamID: teamID, docSendAccountID: docSendAccountID, salesforceAccountID: salesforceAccountID)
            }
        } catch let error as AdminError where error.code == .salesforceFailed {
            throw AdminError(
                .validationFailed, "the org has no such Account", status: 422,
                fields: [.init(field: "salesforce_account_id", message: "the org has no Account \(salesforceAccountID)")])
        }
        try await audit(
            principal, teamID: teamID, "account_link.set",
            [
                "docsend_account_id": .string(docSendAccountID), "salesforce_account_id": .string(salesforceAccountID),
                "previous_salesforce_account_id": previous.map(AuditValue.string) ?? .null,
            ])
    }

    /// Removes a link; ``AdminError/Code/notFound`` when there is none.
    public func deleteAccountLink(teamID: String, docSendAccountID: String, by principal: AdminPrincipal) async throws {
        try authorize(principal, teamID)
        guard Self.isDocSendID(docSendAccountID),
            let previous = try await store.accountLink(teamID: teamID, docSendAccountID: docSendAccountID),
            try await store.deleteAccountLink(teamID: teamID, docSendAccountID: docSendAccountID)
        else { throw AdminError(.notFound, "the DocSend account is not linked", status: 404) }
        try await audit(
            principal, teamID: teamID, "account_link.delete",
            ["docsend_account_id": .string(docSendAccountID), "salesforce_account_id": .string(previous)])
    }

    /// Accounts of the org whose name contains `name` (case-insensitive, at most 20, by name); the text is a SOQL
    /// literal, escaped by the client, with `%` and `_` matching themselves.
    public func searchAccounts(teamID: String, name: String, by principal: AdminPrincipal) async throws -> [AccountMatch] {
        try authorize(principal, teamID)
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 80 else {
            throw AdminError.invalid("give 1 to 80 characters of the Account's name")
        }
        let records = try await mapped {
            let client = try await administration.client(teamID: teamID)
            return try await client.query(
                SOQL.select(["Id", "Name"], from: "Account").where(.like("Name", .contains(trimmed)))
                    .orderBy("Name", .ascending).limit(20), logger: logger)
        }
        let instance = try await store.connection(teamID: teamID)?.instanceURL ?? ""
        return records.compactMap { record in
            guard let id = record.id else { return nil }
            return AccountMatch(id: id, name: record["Name"]?.stringValue ?? "", url: Self.recordURL(instance, id))
        }
    }

    // MARK: Activity

    /// What the workers wrote to Salesforce lately for the team, newest first (`limit` 1…200), with links to the
    /// records.
    public func activity(teamID: String, limit: Int = 50, by principal: AdminPrincipal) async throws -> [ActivityItem] {
        try authorize(principal, teamID)
        let entries = try await store.recentLedgerEntries(teamID: teamID, limit: min(max(limit, 1), 200))
        var instance = try await store.connection(teamID: teamID)?.instanceURL
        if instance == nil { instance = try await store.teamOrg(teamID: teamID)?.instanceURL }
        return entries.map { entry in
            ActivityItem(
                kind: entry.kind.rawValue, objectID: entry.objectID, salesforceType: entry.salesforceType,
                salesforceID: entry.salesforceID, recordURL: instance.map { Self.recordURL($0, entry.salesforceID) },
                at: entry.createdAt)
        }
    }

    // MARK: Parked messages

    /// The team's parked messages with their reasons (a bounded peek; nothing leaves the parking lot).
    public func parked(teamID: String, limit: Int = 100, by principal: AdminPrincipal) async throws -> [ParkedItem] {
        try authorize(principal, teamID)
        return try await requiredParking().parked(teamID: teamID, limit: min(max(limit, 1), 1000))
    }

    /// Sends the team's parked messages back to work; other teams' stay.
    public func replayParked(teamID: String, by principal: AdminPrincipal) async throws -> ReplayResult {
        try authorize(principal, teamID)
        let result = try await requiredParking().replay(teamID: teamID)
        try await audit(principal, teamID: teamID, "parking.replay", ["replayed": .int(result.replayed)])
        return result
    }

    private func requiredParking() throws -> any AdminParking {
        guard let parking else {
            throw AdminError(.parkingUnavailable, "this admin process has no broker connection", status: 503)
        }
        return parking
    }

    // MARK: Checks

    static func recordURL(_ instanceURL: String, _ id: String) -> String {
        (instanceURL.hasSuffix("/") ? String(instanceURL.dropLast()) : instanceURL) + "/" + id
    }

    static func isDocSendID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 255 && !text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    static func isSalesforceID(_ text: String, prefix: String) -> Bool {
        (text.count == 15 || text.count == 18) && text.hasPrefix(prefix)
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }
}

/// An Account found by name.
public struct AccountMatch: Sendable, Encodable, Equatable {
    public var id: String
    public var name: String
    /// `<instance URL>/<id>`.
    public var url: String
}

/// One Salesforce write of the team.
public struct ActivityItem: Sendable, Encodable, Equatable {
    /// `visit`, `link`, `space_link`, `lead`.
    public var kind: String
    /// The DocSend object.
    public var objectID: String
    public var salesforceType: String
    public var salesforceID: String
    /// `<instance URL>/<id>`, when the org's instance is known.
    public var recordURL: String?
    public var at: Date

    enum CodingKeys: String, CodingKey {
        case kind, objectID = "object_id", salesforceType = "salesforce_type", salesforceID = "salesforce_id"
        case recordURL = "record_url", at
    }
}

/// A parked message of the team, with why it is there.
public struct ParkedItem: Sendable, Encodable, Equatable {
    public var messageID: String?
    public var type: String?
    public var failureCode: String?
    public var failureReason: String?
    public var failedAt: String?
    public var attempts: Int

    public init(
        messageID: String?, type: String?, failureCode: String?, failureReason: String?, failedAt: String?, attempts: Int
    ) {
        self.messageID = messageID
        self.type = type
        self.failureCode = failureCode
        self.failureReason = failureReason
        self.failedAt = failedAt
        self.attempts = attempts
    }

    enum CodingKeys: String, CodingKey {
        case messageID = "message_id", type, failureCode = "failure_code", failureReason = "failure_reason"
        case failedAt = "failed_at", attempts
    }
}

/// What a replay did.
public struct ReplayResult: Sendable, Encodable, Equatable {
    /// Messages of the team sent back to work.
    public var replayed: Int

    public init(replayed: Int) { self.replayed = replayed }
}

/// The parking lot as the admin service reads it: one team's messages.
public protocol AdminParking: Sendable {
    /// The team's parked messages (at most `limit`).
    func parked(teamID: String, limit: Int) async throws -> [ParkedItem]
    /// Sends the team's parked messages back to work.
    func replay(teamID: String) async throws -> ReplayResult
}
