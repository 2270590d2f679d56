import Foundation

/// One record as the org stores it: every field of its object, under the field's canonical name.
public struct SandboxRecord: Sendable, Equatable {
    /// The object name, e.g. `Task`.
    public let type: String
    /// Field values by canonical field name (unset fields are `null`).
    public var fields: JSONObject

    /// The 18-character id.
    public var id: String { fields["Id"]?.stringValue ?? "" }
    /// `true` once deleted (deleted records stay, as in the recycle bin).
    public var isDeleted: Bool { fields["IsDeleted"]?.boolValue ?? false }
    /// A field value, looked up case-insensitively.
    public subscript(field: String) -> JSONValue? {
        if let v = fields[field] { return v }
        return fields.keys.first { $0.caseInsensitiveCompare(field) == .orderedSame }.flatMap { fields[$0] }
    }
}

/// The org's records and schemas: a value type, so a transaction (composite `allOrNone`, collections)
/// is a copy kept aside and put back on failure.
struct RecordStore: Sendable {
    private(set) var schemas: [String: ObjectSchema] = [:]
    private var records: [String: [String: SandboxRecord]] = [:]
    private var order: [String: [String]] = [:]
    private var prefixes: [String: String] = [:]
    private var serial = 0
    /// The ids holding each value (``FieldDescription/comparable(_:)``) of each external-id or unique field, by object: upserts and the
    /// uniqueness rule find their records without reading every record of the object.
    private var valueIndex: [String: [String: [String: Set<String>]]] = [:]

    init(schemas: [ObjectSchema]) {
        for s in schemas { addSchema(s) }
    }

    mutating func addSchema(_ schema: ObjectSchema) {
        schemas[schema.name.lowercased()] = schema
        prefixes[schema.keyPrefix] = schema.name
    }

    mutating func addField(_ field: FieldDescription, to type: String) {
        guard var s = schema(type) else { return }
        s.add(field)
        schemas[s.name.lowercased()] = s
        reindex(s)
    }

    mutating func setSchema(_ schema: ObjectSchema) {
        schemas[schema.name.lowercased()] = schema
        reindex(schema)
    }

    private static func indexed(_ field: FieldDescription) -> Bool { field.externalId || field.unique }

    /// Builds the object's value index again (its indexed fields changed).
    private mutating func reindex(_ schema: ObjectSchema) {
        valueIndex[schema.name] = nil
        for record in (records[schema.name] ?? [:]).values { index(record, schema: schema) }
    }

    private mutating func index(_ record: SandboxRecord, schema: ObjectSchema) {
        for field in schema.fields where Self.indexed(field) {
            guard let value = record.fields[field.name]?.stringValue else { continue }
            valueIndex[schema.name, default: [:]][field.name, default: [:]][field.comparable(value), default: []].insert(record.id)
        }
    }

    private mutating func unindex(_ record: SandboxRecord, schema: ObjectSchema) {
        for field in schema.fields where Self.indexed(field) {
            guard let value = record.fields[field.name]?.stringValue else { continue }
            valueIndex[schema.name]?[field.name]?[field.comparable(value)]?.remove(record.id)
        }
    }

    /// Forgets an object's schema: its records stay, unreachable (the integration user cannot see the object).
    mutating func removeSchema(_ name: String) { schemas[name.lowercased()] = nil }

    func schema(_ name: String) -> ObjectSchema? { schemas[name.lowercased()] }

    /// The object an id's key prefix belongs to.
    func objectName(forId id: String) -> String? { prefixes[SalesforceID.keyPrefix(id)] }

    func record(id: String) -> SandboxRecord? {
        guard let full = SalesforceID.normalize(id), let type = objectName(forId: full) else { return nil }
        return records[type]?[full]
    }

    /// Every record of `type` (deleted ones included), in insertion order.
    func all(_ type: String) -> [SandboxRecord] {
        guard let s = schema(type) else { return [] }
        return (order[s.name] ?? []).compactMap { records[s.name]?[$0] }
    }

    mutating func nextId(_ schema: ObjectSchema) -> String {
        while true {
            serial += 1
            let id = SalesforceID.make(keyPrefix: schema.keyPrefix, serial: serial)
            if records[schema.name]?[id] == nil { return id }
        }
    }

    /// Stores a record as given (seeding): fills system fields and derived values, no validation.
    @discardableResult
    mutating func insertRaw(type: String, values: JSONObject, now: Date, userId: String?) throws(SalesforceError) -> String {
        guard let schema = schema(type) else { throw SalesforceError(status: 400, "INVALID_TYPE", "sObject type '\(type)' is not supported.") }
        var id: String
        if let given = values["Id"]?.stringValue {
            guard let n = SalesforceID.normalize(given), SalesforceID.keyPrefix(n) == schema.keyPrefix else {
                throw SalesforceError("MALFORMED_ID", "\(schema.name) ID: id value of incorrect type: \(given)", fields: ["Id"])
            }
            id = n
        } else {
            id = nextId(schema)
        }
        var fields = JSONObject()
        for f in schema.fields { fields[f.name] = f.defaultValue ?? (f.type == .boolean ? .bool(false) : .null) }
        for (k, v) in values {
            guard let f = schema.field(k) else {
                throw SalesforceError("INVALID_FIELD", "No such column '\(k)' on sobject of type \(schema.name)", fields: [k])
            }
            if f.type == .reference, let ref = v.stringValue, let full = SalesforceID.normalize(ref) {
                fields[f.name] = .string(full)
            } else {
                fields[f.name] = v
            }
        }
        fields["Id"] = .string(id)
        stampNew(&fields, schema: schema, now: now, userId: userId)
        derive(&fields, schema: schema, now: now)
        put(SandboxRecord(type: schema.name, fields: fields))
        return id
    }

    private mutating func put(_ record: SandboxRecord) {
        let schema = schema(record.type)
        if let old = records[record.type]?[record.id] {
            if let schema { unindex(old, schema: schema) }
        } else {
            order[record.type, default: []].append(record.id)
        }
        records[record.type, default: [:]][record.id] = record
        if let schema { index(record, schema: schema) }
    }

    private func stampNew(_ fields: inout JSONObject, schema: ObjectSchema, now: Date, userId: String?) {
        let ts = JSONValue.string(SalesforceDate.dateTimeString(now))
        for name in ["CreatedDate", "LastModifiedDate", "SystemModstamp"] where schema.field(name) != nil {
            if fields[name] == nil || fields[name] == .null { fields[name] = ts }
        }
        if schema.field("IsDeleted") != nil { fields["IsDeleted"] = .bool(false) }
        if let userId {
            for name in ["CreatedById", "LastModifiedById", "OwnerId"] where schema.field(name) != nil {
                if fields[name] == nil || fields[name] == .null { fields[name] = .string(userId) }
            }
        }
    }

    /// Values the org computes: names, Task.IsClosed / IsHighPriority / AccountId.
    private func derive(_ fields: inout JSONObject, schema: ObjectSchema, now: Date) {
        if schema.field("Name")?.calculated == true {
            let parts = [fields["FirstName"]?.stringValue, fields["LastName"]?.stringValue].compactMap { $0 }.filter { !$0.isEmpty }
            fields["Name"] = parts.isEmpty ? .null : .string(parts.joined(separator: " "))
        }
        guard schema.name == "Task" else { return }
        let status = fields["Status"]?.stringValue
        let closed = all("TaskStatus").first { $0["ApiName"]?.stringValue == status }?["IsClosed"]?.boolValue ?? false
        let wasClosed = fields["IsClosed"]?.boolValue ?? false
        fields["IsClosed"] = .bool(closed)
        if closed && !wasClosed {
            fields["CompletedDateTime"] = .string(SalesforceDate.dateTimeString(now))
        } else if !closed {
            fields["CompletedDateTime"] = .null
        }
        fields["IsHighPriority"] = .bool(fields["Priority"]?.stringValue == "High")
        var accountId: JSONValue = .null
        if let what = fields["WhatId"]?.stringValue, objectName(forId: what) == "Account" {
            accountId = .string(what)
        } else if let who = fields["WhoId"]?.stringValue, objectName(forId: who) == "Contact",
            let contact = record(id: who)
        {
            accountId = contact["AccountId"] ?? .null
        }
        fields["AccountId"] = accountId
    }

    // MARK: Writes through the API (validated)

    mutating func create(
        type: String, body: JSONObject, now: Date, userId: String?, duplicates: DuplicatePolicy = .none
    ) throws(SalesforceError) -> String {
        guard let schema = schema(type) else { throw SalesforceError.notFound() }
        guard schema.createable else {
            throw SalesforceError("INVALID_TYPE_FOR_OPERATION", "entity type \(schema.name) does not support insert")
        }
        if body.keys.contains(where: { $0.caseInsensitiveCompare("Id") == .orderedSame }) {
            throw SalesforceError("INVALID_FIELD", "The Id field should not be specified in the sobject data.")
        }
        let values = try validatedValues(body, schema: schema, creating: true)
        var fields = JSONObject()
        for f in schema.fields { fields[f.name] = f.defaultValue ?? (f.type == .boolean ? .bool(false) : .null) }
        if schema.name == "Task",
            let d = all("TaskStatus").first(where: { $0["IsDefault"]?.boolValue == true })?["ApiName"]
        {
            fields["Status"] = d
        }
        for (k, v) in values { fields[k] = v }
        if let userId, schema.field("OwnerId") != nil, fields["OwnerId"] == nil || fields["OwnerId"] == .null {
            fields["OwnerId"] = .string(userId)
        }
        let missing = schema.fields.filter { f in
            !f.nillable && f.createable && f.type != .boolean && (fields[f.name] == nil || fields[f.name] == .null)
        }.map(\.name)
        if !missing.isEmpty {
            throw SalesforceError("REQUIRED_FIELD_MISSING", "Required fields are missing: [\(missing.joined(separator: ", "))]", fields: missing)
        }
        try checkRecordRules(fields, schema: schema, existingId: nil)
        try checkDuplicates(fields, schema: schema, policy: duplicates)
        let id = nextId(schema)
        fields["Id"] = .string(id)
        stampNew(&fields, schema: schema, now: now, userId: userId)
        derive(&fields, schema: schema, now: now)
        put(SandboxRecord(type: schema.name, fields: fields))
        return id
    }

    mutating func update(type: String, id: String, body: JSONObject, now: Date, userId: String?) throws(SalesforceError) {
        guard let schema = schema(type) else { throw SalesforceError.notFound() }
        var existing = try existingRecord(schema: schema, id: id)
        if schema.name == "Lead", existing["IsConverted"]?.boolValue == true { throw SalesforceError.convertedLead }
        var body = body
        if let key = body.keys.first(where: { $0.caseInsensitiveCompare("Id") == .orderedSame }) {
            guard let given = body[key]?.stringValue, SalesforceID.normalize(given) == existing.id else {
                throw SalesforceError("INVALID_FIELD", "The Id field should not be specified in the sobject data.")
            }
            body[key] = nil
        }
        let values = try validatedValues(body, schema: schema, creating: false)
        for (k, v) in values { existing.fields[k] = v }
        let missing = values.filter { k, v in v == .null && schema.field(k).map { !$0.nillable && $0.type != .boolean } == true }.map(\.key)
        if !missing.isEmpty {
            throw SalesforceError("REQUIRED_FIELD_MISSING", "Required fields are missing: [\(missing.joined(separator: ", "))]", fields: missing)
        }
        try checkRecordRules(existing.fields, schema: schema, existingId: existing.id)
        let ts = JSONValue.string(SalesforceDate.dateTimeString(now))
        existing.fields["LastModifiedDate"] = ts
        existing.fields["SystemModstamp"] = ts
        if let userId, schema.field("LastModifiedById") != nil { existing.fields["LastModifiedById"] = .string(userId) }
        derive(&existing.fields, schema: schema, now: now)
        put(existing)
    }

    mutating func delete(type: String, id: String, now: Date) throws(SalesforceError) {
        guard let schema = schema(type) else { throw SalesforceError.notFound() }
        guard schema.deletable else {
            throw SalesforceError("INVALID_TYPE_FOR_OPERATION", "entity type \(schema.name) does not support delete")
        }
        var existing = try existingRecord(schema: schema, id: id)
        existing.fields["IsDeleted"] = .bool(true)
        existing.fields["SystemModstamp"] = .string(SalesforceDate.dateTimeString(now))
        put(existing)
    }

    /// A live record of `schema` by id: MALFORMED_ID / NOT_FOUND / ENTITY_IS_DELETED otherwise.
    func existingRecord(schema: ObjectSchema, id: String) throws(SalesforceError) -> SandboxRecord {
        guard let full = SalesforceID.normalize(id) else {
            throw SalesforceError("MALFORMED_ID", "\(schema.name) ID: id value of incorrect type: \(id)", fields: ["Id"])
        }
        guard SalesforceID.keyPrefix(full) == schema.keyPrefix, let r = records[schema.name]?[full] else {
            throw SalesforceError.notFound()
        }
        if r.isDeleted { throw SalesforceError.entityIsDeleted() }
        return r
    }

    /// Live records of `schema` whose `field` equals `value` (a text match, case-insensitive unless the field is
    /// case-sensitive).
    func matching(schema: ObjectSchema, field: FieldDescription, value: String) -> [SandboxRecord] {
        let key = field.comparable(value)
        func matches(_ r: SandboxRecord) -> Bool {
            !r.isDeleted && r.fields[field.name]?.stringValue.map { field.comparable($0) == key } == true
        }
        if Self.indexed(field) {
            let ids = valueIndex[schema.name]?[field.name]?[key] ?? []
            return ids.compactMap { records[schema.name]?[$0] }.filter(matches)
                .sorted { (order[schema.name]?.firstIndex(of: $0.id) ?? 0) < (order[schema.name]?.firstIndex(of: $1.id) ?? 0) }
        }
        return all(schema.name).filter(matches)
    }

    // MARK: Validation

    /// Checks each field of a request body against the schema; returns canonical names and normalised values.
    private func validatedValues(_ body: JSONObject, schema: ObjectSchema, creating: Bool) throws(SalesforceError) -> [(key: String, value: JSONValue)] {
        var out = [(key: String, value: JSONValue)]()
        for (key, raw) in body where key != "attributes" {
            guard let f = schema.field(key) else {
                throw SalesforceError("INVALID_FIELD", "No such column '\(key)' on sobject of type \(schema.name)", fields: [key])
            }
            if creating ? !f.createable : !f.updateable {
                throw SalesforceError(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    "Unable to create/update fields: \(f.name). Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                    fields: [f.name])
            }
            out.append((f.name, try validatedValue(raw, field: f, schema: schema)))
        }
        return out
    }

    private func validatedValue(_ raw: JSONValue, field f: FieldDescription, schema: ObjectSchema) throws(SalesforceError) -> JSONValue {
        func parserError(_ what: String) -> SalesforceError {
            SalesforceError.jsonParser("Cannot deserialize instance of \(what) from \(raw) value for field \(f.name)")
        }
        if raw == .null { return .null }
        switch f.type {
        case .boolean:
            guard case .bool = raw else { throw parserError("boolean") }
            return raw
        case .double, .int:
            guard case .number = raw else { throw parserError(f.type.rawValue) }
            return raw
        case .date:
            guard let s = raw.stringValue else { throw parserError("date") }
            if SalesforceDate.isDate(s) { return raw }
            if s.count > 10, SalesforceDate.parseDateTime(s) != nil { return .string(String(s.prefix(10))) }
            throw parserError("date")
        case .datetime:
            guard let s = raw.stringValue, let d = SalesforceDate.parseDateTime(s) else { throw parserError("datetime") }
            return .string(SalesforceDate.dateTimeString(d))
        default:
            break
        }
        var text: String
        switch raw {
        case .string(let s): text = s
        case .number, .bool: text = raw.description
        default: throw parserError("string")
        }
        if text.isEmpty { return .null }
        if f.length > 0, text.count > f.length {
            throw SalesforceError(
                "STRING_TOO_LONG", "\(f.name): data value too large: \(text.prefix(80)) (max length=\(f.length))", fields: [f.name])
        }
        switch f.type {
        case .email:
            let parts = text.split(separator: "@", omittingEmptySubsequences: false)
            if parts.count != 2 || parts[0].isEmpty || !parts[1].contains(".") || text.contains(where: \.isWhitespace) {
                throw SalesforceError("INVALID_EMAIL_ADDRESS", "\(f.name): invalid email address: \(text)", fields: [f.name])
            }
        case .picklist:
            let values = schema.name == "Task" && f.name == "Status" ? taskStatusValues : f.picklistValues
            if f.restrictedPicklist, !values.contains(text) {
                throw SalesforceError(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "\(f.label): bad value for restricted picklist field: \(text)", fields: [f.name])
            }
        case .reference:
            try checkReference(text, field: f)
            return .string(SalesforceID.normalize(text) ?? text)
        default:
            break
        }
        return .string(text)
    }

    var taskStatusValues: [String] { all("TaskStatus").compactMap { $0["ApiName"]?.stringValue } }

    private func checkReference(_ value: String, field f: FieldDescription) throws(SalesforceError) {
        guard let id = SalesforceID.normalize(value) else {
            throw SalesforceError("MALFORMED_ID", "\(f.label): id value of incorrect type: \(value)", fields: [f.name])
        }
        guard let type = objectName(forId: id), f.referenceTo.contains(type) else {
            throw SalesforceError("FIELD_INTEGRITY_EXCEPTION", "\(f.label): id value of incorrect type: \(value)", fields: [f.name])
        }
        guard let target = records[type]?[id] else {
            throw SalesforceError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", fields: [f.name])
        }
        if target.isDeleted { throw SalesforceError("ENTITY_IS_DELETED", "entity is deleted", fields: [f.name]) }
        if type == "Lead", target["IsConverted"]?.boolValue == true {
            throw SalesforceError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", fields: [f.name])
        }
    }

    /// Rules across fields: Task WhoId Lead + WhatId, unique external ids.
    private func checkRecordRules(_ fields: JSONObject, schema: ObjectSchema, existingId: String?) throws(SalesforceError) {
        if schema.name == "Task", let who = fields["WhoId"]?.stringValue, objectName(forId: who) == "Lead",
            fields["WhatId"]?.stringValue != nil
        {
            throw SalesforceError(
                "FIELD_INTEGRITY_EXCEPTION", "Related To ID: You can't associate a lead with a related to record.", fields: ["WhatId"])
        }
        if schema.name == "Task", let who = fields["WhoId"]?.stringValue, let lead = record(id: who), lead.type == "Lead",
            lead["IsConverted"]?.boolValue == true
        {
            throw SalesforceError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", fields: ["WhoId"])
        }
        for f in schema.fields where f.unique && f.custom {
            guard let v = fields[f.name]?.stringValue else { continue }
            if let other = matching(schema: schema, field: f, value: v).first(where: { $0.id != existingId }) {
                throw SalesforceError(
                    "DUPLICATE_VALUE", "duplicate value found: \(f.name) duplicates value on record with id: \(other.id)", fields: [f.name])
            }
        }
    }
}
