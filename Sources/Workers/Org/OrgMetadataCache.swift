import Jobs
import Logging
import Salesforce
import SyncCore
import Synchronization

/// What the workers need to know of an org's set-up: Task statuses and the field mapping checked against the
/// Task's fields.
struct OrgMetadata: Sendable {
    var statuses: [TaskStatusRecord]
    var mapping: ResolvedFieldMapping
}

/// Each team's org metadata (Task statuses, the Task's fields as `describe` gives them, Users by email), read from
/// Salesforce and kept for ``lifetime``; a team's entry is forgotten when Salesforce says a field is gone.
final class OrgMetadataCache: Sendable {
    private struct Entry {
        var metadata: (value: OrgMetadata, mapping: FieldMapping, loadedAt: ContinuousClock.Instant)?
        var users: [String: (user: SalesforceUser?, loadedAt: ContinuousClock.Instant)] = [:]
    }

    let lifetime: Duration
    private let entries = Mutex<[String: Entry]>([:])

    init(lifetime: Duration) { self.lifetime = lifetime }

    /// Forgets what is known of the team's org (a field the mapping uses is gone, a picklist changed).
    func forget(teamID: String) { entries.withLock { $0[teamID] = nil } }

    /// The org's Task statuses and the team's mapping resolved against the Task's fields.
    ///
    /// - Throws: ``WorkFailure`` `field_mapping_invalid` (parked) listing every problem of the settings against
    ///   the org's fields.
    func metadata(teamID: String, client: SalesforceClient, settings: TeamSettings, logger: Logger)
        async throws -> OrgMetadata
    {
        let now = ContinuousClock.now
        if let cached = entries.withLock({ $0[teamID]?.metadata }), cached.mapping == settings.fieldMapping,
            now - cached.loadedAt < lifetime
        {
            return cached.value
        }
        let statusRows = try await client.query(
            .select(["ApiName", "MasterLabel", "IsClosed", "IsDefault"], from: "TaskStatus"), logger: logger)
        let statuses = statusRows.map { row in
            TaskStatusRecord(
                apiName: row["ApiName"]?.stringValue, masterLabel: row["MasterLabel"]?.stringValue ?? "",
                isClosed: row["IsClosed"]?.boolValue ?? false, isDefault: row["IsDefault"]?.boolValue ?? false)
        }
        let fields = try await client.taskFields(logger: logger)
        var problems = settings.externalIDFields.problems(against: fields)
        var mapping = ResolvedFieldMapping.none
        switch settings.fieldMapping.resolve(against: fields) {
        case .success(let resolved): mapping = resolved
        case .failure(let error): problems += error.problems
        }
        if !problems.isEmpty {
            throw WorkFailure.permanent(
                code: "field_mapping_invalid",
                "team \(teamID)'s Task fields do not fit its settings: "
                    + problems.map(\.description).joined(separator: "; "))
        }
        let metadata = OrgMetadata(statuses: statuses, mapping: mapping)
        entries.withLock { $0[teamID, default: Entry()].metadata = (metadata, settings.fieldMapping, now) }
        return metadata
    }

    /// The active User with `email`: one or none.
    func users(teamID: String, email: String?, client: SalesforceClient, logger: Logger) async throws -> [SalesforceUser] {
        guard let email = Matching.normalizedEmail(email)?.lowercased() else { return [] }
        let now = ContinuousClock.now
        if let cached = entries.withLock({ $0[teamID]?.users[email] }), now - cached.loadedAt < lifetime {
            return cached.user.map { [$0] } ?? []
        }
        let rows = try await client.query(
            .select(["Id", "Email", "IsActive"], from: "User").where(.equals("Email", .string(email))), logger: logger)
        let users = rows.compactMap { row -> SalesforceUser? in
            guard let id = row.id else { return nil }
            return SalesforceUser(
                id: id, email: row["Email"]?.stringValue ?? "", isActive: row["IsActive"]?.boolValue ?? false)
        }
        let chosen = Matching.user(forEmail: email, among: users)
        entries.withLock { $0[teamID, default: Entry()].users[email] = (chosen, now) }
        return chosen.map { [$0] } ?? []
    }
}

extension SalesforceClient {
    /// The org's Task fields as the mapping checks see them (`describe`).
    func taskFields(logger: Logger) async throws -> [TaskFieldDescription] {
        try await describe("Task", logger: logger).fields.map {
            TaskFieldDescription(
                name: $0.name, type: $0.type, length: $0.length, custom: $0.custom, createable: $0.createable,
                updateable: $0.updateable)
        }
    }
}
