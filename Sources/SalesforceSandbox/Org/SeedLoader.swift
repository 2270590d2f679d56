import Foundation

/// Applies a seed to a store and the OAuth tables (plain value work, shared by init, apply and reset).
struct SeedLoader {
    var store: RecordStore
    let orgId: String
    var defaultUserId: String?
    var clients: [String: OAuthClient] = [:]
    var refreshTokens: [String: RefreshGrant] = [:]
    var accessTokens: [String: AccessGrant] = [:]
    var refs: [String: String] = [:]

    init(store: RecordStore, orgId: String) {
        self.store = store
        self.orgId = orgId
    }

    mutating func apply(_ seed: SandboxSeed, replacing: Bool) throws {
        let now = Date()
        var custom = seed.customFields ?? [:]
        if let t = seed.customTaskFields { custom["Task", default: []] += t }
        for (object, fields) in custom {
            guard store.schema(object) != nil else { throw SalesforceError("INVALID_TYPE", "sObject type '\(object)' is not supported.") }
            for f in fields { store.addField(f.fieldDescription, to: object) }
        }
        for (key, picklist) in (seed.picklists ?? [:]).sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, var schema = store.schema(parts[0]), schema.field(parts[1])?.type == .picklist else {
                throw SalesforceError("INVALID_FIELD", "picklists: \(key) is not a picklist field (Object.Field)")
            }
            schema.setPicklist(parts[1], values: picklist.values, defaultValue: picklist.defaultValue, restricted: picklist.restricted)
            store.setSchema(schema)
        }
        let statuses = seed.taskStatuses ?? (replacing ? TaskStatusSeed.standard : nil)
        if let statuses {
            let start = store.all("TaskStatus").count
            for (i, st) in statuses.enumerated() {
                try store.insertRaw(
                    type: "TaskStatus",
                    values: JSONObject([
                        ("ApiName", .string(st.apiName)), ("MasterLabel", .string(st.label ?? st.apiName)),
                        ("IsClosed", .bool(st.isClosed)), ("IsDefault", .bool(st.isDefault)), ("SortOrder", .number(Double(start + i + 1))),
                    ]), now: now, userId: nil)
            }
        }
        for u in seed.users ?? [] {
            let id = try insert(type: "User", u, now: now)
            if defaultUserId == nil { defaultUserId = id }
        }
        let order = ["Account", "Contact", "Lead", "Task"]
        let types = (seed.records ?? [:]).keys.sorted { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }
        for type in types {
            for r in seed.records?[type] ?? [] { try insert(type: type, r, now: now) }
        }
        for c in seed.oauthClients ?? [] {
            clients[c.clientId] = OAuthClient(seed: c)
            for t in c.refreshTokens ?? [] {
                guard let uid = defaultUserId else { continue }
                refreshTokens[t] = RefreshGrant(clientId: c.clientId, userId: uid, scope: c.scopes ?? "api refresh_token", family: -refreshTokens.count - 1, active: true)
            }
        }
        for t in seed.accessTokens ?? [] {
            let uid = t.username.flatMap { name in
                store.all("User").first { $0["Username"]?.stringValue?.caseInsensitiveCompare(name) == .orderedSame }?.id
            } ?? defaultUserId
            guard let uid else { throw SalesforceError("INVALID_USER", "access token \(t.token.prefix(6))… names no known user") }
            accessTokens[t.token] = AccessGrant(userId: uid, clientId: nil, issuedAt: now, family: nil)
        }
        try applyAccess(seed.access ?? [:])
    }

    /// Narrows what the signed-in user may do (``SandboxSeed/access``), after the seeded records are in.
    private mutating func applyAccess(_ access: [String: AccessSeed]) throws {
        for (key, level) in (access).sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard (1...2).contains(parts.count), var schema = store.schema(parts[0]),
                parts.count == 1 || schema.field(parts[1]) != nil
            else { throw SalesforceError("INVALID_FIELD", "access: \(key) names no object or field (Object or Object.Field)") }
            if parts.count == 1 {
                guard level != .none else {
                    store.removeSchema(parts[0])
                    continue
                }
                schema.createable = level == .edit
                schema.updateable = level == .edit
                schema.deletable = level == .edit
            } else if level == .none {
                schema.remove(parts[1])
            } else if var field = schema.field(parts[1]) {
                field.createable = level == .edit
                field.updateable = level == .edit
                schema.add(field)
            }
            store.setSchema(schema)
        }
    }

    @discardableResult
    mutating func insert(type: String, _ value: JSONValue, now: Date) throws -> String {
        guard var fields = value.objectValue else { throw SalesforceError("INVALID_SEED", "\(type) seed records must be JSON objects") }
        let ref = fields["_ref"]?.stringValue
        fields["_ref"] = nil
        for (k, v) in fields {
            if let s = v.stringValue, s.hasPrefix("@"), let id = refs[String(s.dropFirst())] { fields[k] = .string(id) }
        }
        if type == "User", fields["Email"] == nil, let u = fields["Username"] { fields["Email"] = u }
        let id = try store.insertRaw(type: type, values: fields, now: now, userId: type == "User" ? nil : defaultUserId)
        if let ref { refs[ref] = id }
        return id
    }
}
