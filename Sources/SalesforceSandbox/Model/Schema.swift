/// The type of a field, as `describe` names it.
public struct FieldType: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The lower-case type name `describe` uses.
    public var rawValue: String
    /// Creates a value.
    public init(rawValue: String) { self.rawValue = rawValue.lowercased() }

    /// The record id field.
    public static let id = FieldType(rawValue: "id")
    /// Single-line text.
    public static let string = FieldType(rawValue: "string")
    /// Long text (not filterable in real orgs).
    public static let textarea = FieldType(rawValue: "textarea")
    /// Email address (format-checked).
    public static let email = FieldType(rawValue: "email")
    /// Phone number.
    public static let phone = FieldType(rawValue: "phone")
    /// URL text.
    public static let url = FieldType(rawValue: "url")
    /// Picklist (restricted ones reject unlisted values).
    public static let picklist = FieldType(rawValue: "picklist")
    /// Boolean.
    public static let boolean = FieldType(rawValue: "boolean")
    /// Date `YYYY-MM-DD`.
    public static let date = FieldType(rawValue: "date")
    /// Datetime `2026-11-24T10:00:00.000+0000`.
    public static let datetime = FieldType(rawValue: "datetime")
    /// Lookup to another record (an id).
    public static let reference = FieldType(rawValue: "reference")
    /// Floating-point number.
    public static let double = FieldType(rawValue: "double")
    /// Integer.
    public static let int = FieldType(rawValue: "int")

    /// Text-like types (compared case-insensitively, limited by `length`).
    public var isText: Bool { [.string, .textarea, .email, .phone, .url, .picklist, .id, .reference].contains(self) }
    /// The raw value.
    public var description: String { rawValue }
}

/// Metadata of one field: what `describe` returns and what validation enforces.
public struct FieldDescription: Sendable, Equatable {
    /// API name, e.g. `Subject` or `Task`.
    public var name: String
    /// Label (used in some error messages).
    public var label: String
    /// Field type.
    public var type: FieldType
    /// Maximum characters for text types (0 for others).
    public var length: Int
    /// `false` when a value is required.
    public var nillable: Bool
    /// Writable on create.
    public var createable: Bool
    /// Writable on update.
    public var updateable: Bool
    /// Picklist values (active), in order.
    public var picklistValues: [String]
    /// A restricted picklist rejects values that are not listed.
    public var restrictedPicklist: Bool
    /// Value set on create when none is given.
    public var defaultValue: JSONValue?
    /// A custom (`__c`) field.
    public var custom: Bool
    /// Usable in upsert URLs (`sobjects/{type}/{field}/{value}`).
    public var externalId: Bool
    /// Values must be unique among live records.
    public var unique: Bool
    /// Values compare case-sensitively (*Unique, case sensitive*; upserts match the exact value). Otherwise they
    /// compare case-insensitively, Salesforce's default for text.
    public var caseSensitive: Bool
    /// Object names a reference field may point to.
    public var referenceTo: [String]
    /// Computed by the org (formula-like); never written by a request.
    public var calculated: Bool

    /// A field description; read-only fields pass `createable: false, updateable: false`.
    public init(
        _ name: String, _ type: FieldType, length: Int = 0, label: String? = nil, nillable: Bool = true,
        createable: Bool = true, updateable: Bool = true, picklist: [String] = [], restricted: Bool = false,
        defaultValue: JSONValue? = nil, custom: Bool = false, externalId: Bool = false, unique: Bool = false,
        caseSensitive: Bool = false, referenceTo: [String] = [], calculated: Bool = false
    ) {
        self.name = name
        self.label = label ?? name
        self.type = type
        self.length = length
        self.nillable = nillable
        self.createable = createable
        self.updateable = updateable
        self.picklistValues = picklist
        self.restrictedPicklist = restricted
        self.defaultValue = defaultValue
        self.custom = custom
        self.externalId = externalId
        self.unique = unique
        self.caseSensitive = caseSensitive
        self.referenceTo = referenceTo
        self.calculated = calculated
    }

    /// The form a value is compared in: itself for a case-sensitive field, lowercased otherwise.
    func comparable(_ value: String) -> String { caseSensitive ? value : value.lowercased() }

    /// Required on create: not nillable, writable, and without a default.
    var isRequiredOnCreate: Bool { !nillable && createable && defaultValue == nil && type != .boolean }

    var describeJSON: JSONValue {
        var o = JSONObject()
        o["name"] = .string(name)
        o["label"] = .string(label)
        o["type"] = .string(type.rawValue)
        o["length"] = .number(Double(length))
        o["nillable"] = .bool(nillable)
        o["createable"] = .bool(createable)
        o["updateable"] = .bool(updateable)
        o["custom"] = .bool(custom)
        o["externalId"] = .bool(externalId)
        o["unique"] = .bool(unique)
        o["caseSensitive"] = .bool(caseSensitive)
        o["calculated"] = .bool(calculated)
        o["defaultedOnCreate"] = .bool(defaultValue != nil || type == .boolean || !createable)
        o["defaultValue"] = defaultValue ?? .null
        o["referenceTo"] = .array(referenceTo.map { .string($0) })
        o["restrictedPicklist"] = .bool(restrictedPicklist)
        o["picklistValues"] = .array(
            picklistValues.map { v in
                .object(JSONObject([
                    ("active", .bool(true)), ("defaultValue", .bool(defaultValue == .string(v))),
                    ("label", .string(v)), ("validFor", .null), ("value", .string(v)),
                ]))
            })
        o["filterable"] = .bool(true)
        o["sortable"] = .bool(type != .textarea)
        return .object(o)
    }
}

/// An object's metadata: name, key prefix and fields.
public struct ObjectSchema: Sendable {
    /// API name, e.g. `Subject` or `Task`.
    public var name: String
    /// The 3-character id prefix, e.g. `00T`.
    public var keyPrefix: String
    /// Writable on create.
    public var createable: Bool
    /// Writable on update.
    public var updateable: Bool
    /// `DELETE` allowed.
    public var deletable: Bool
    /// Fields in describe order.
    public private(set) var fields: [FieldDescription]
    private var index: [String: Int]

    /// Creates a value.
    public init(name: String, keyPrefix: String, createable: Bool = true, updateable: Bool = true,
                deletable: Bool = true, fields: [FieldDescription]) {
        self.name = name
        self.keyPrefix = keyPrefix
        self.createable = createable
        self.updateable = updateable
        self.deletable = deletable
        self.fields = []
        self.index = [:]
        for f in fields { add(f) }
    }

    /// The field called `name`, compared case-insensitively as Salesforce does.
    public func field(_ name: String) -> FieldDescription? {
        index[name.lowercased()].map { fields[$0] }
    }

    /// Adds or replaces a field.
    public mutating func add(_ field: FieldDescription) {
        if let i = index[field.name.lowercased()] {
            fields[i] = field
        } else {
            index[field.name.lowercased()] = fields.count
            fields.append(field)
        }
    }

    /// Removes the field called `name`, if any.
    mutating func remove(_ name: String) {
        guard index[name.lowercased()] != nil else { return }
        let kept = fields.filter { $0.name.caseInsensitiveCompare(name) != .orderedSame }
        fields = []
        index = [:]
        for f in kept { add(f) }
    }

    mutating func setPicklist(_ field: String, values: [String], defaultValue: String?, restricted: Bool? = nil) {
        guard var f = self.field(field) else { return }
        f.picklistValues = values
        f.defaultValue = defaultValue.map { .string($0) }
        if let restricted { f.restrictedPicklist = restricted }
        add(f)
    }
}

extension ObjectSchema {
    static func systemFields(owner: Bool = true) -> [FieldDescription] {
        var fields = [
            FieldDescription("Id", .id, length: 18, nillable: false, createable: false, updateable: false),
            FieldDescription("IsDeleted", .boolean, nillable: false, createable: false, updateable: false),
            FieldDescription("CreatedDate", .datetime, nillable: false, createable: false, updateable: false),
            FieldDescription("CreatedById", .reference, length: 18, nillable: false, createable: false, updateable: false, referenceTo: ["User"]),
            FieldDescription("LastModifiedDate", .datetime, nillable: false, createable: false, updateable: false),
            FieldDescription("LastModifiedById", .reference, length: 18, nillable: false, createable: false, updateable: false, referenceTo: ["User"]),
            FieldDescription("SystemModstamp", .datetime, nillable: false, createable: false, updateable: false),
        ]
        if owner {
            fields.append(FieldDescription("OwnerId", .reference, length: 18, label: "Owner ID", nillable: false, referenceTo: ["User"]))
        }
        return fields
    }

    /// The standard objects of a fresh sandbox org.
    public static func standardObjects() -> [ObjectSchema] {
        let user = ObjectSchema(
            name: "User", keyPrefix: "005",
            fields: systemFields(owner: false) + [
                FieldDescription("Username", .string, length: 80, nillable: false, unique: true),
                FieldDescription("FirstName", .string, length: 40),
                FieldDescription("LastName", .string, length: 80, nillable: false),
                FieldDescription("Name", .string, length: 121, createable: false, updateable: false, calculated: true),
                FieldDescription("Email", .email, length: 128, nillable: false),
                FieldDescription("IsActive", .boolean, nillable: false, defaultValue: .bool(true)),
            ])
        let account = ObjectSchema(
            name: "Account", keyPrefix: "001",
            fields: systemFields() + [
                FieldDescription("Name", .string, length: 255, label: "Account Name", nillable: false),
                FieldDescription("Type", .picklist, length: 255, picklist: ["Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"]),
                FieldDescription("Industry", .picklist, length: 255, picklist: ["Technology", "Finance", "Manufacturing", "Retail", "Other"]),
                FieldDescription("Website", .url, length: 255),
                FieldDescription("Phone", .phone, length: 40),
                FieldDescription("Description", .textarea, length: 32000),
            ])
        let contact = ObjectSchema(
            name: "Contact", keyPrefix: "003",
            fields: systemFields() + [
                FieldDescription("AccountId", .reference, length: 18, label: "Account ID", referenceTo: ["Account"]),
                FieldDescription("FirstName", .string, length: 40),
                FieldDescription("LastName", .string, length: 80, nillable: false),
                FieldDescription("Name", .string, length: 121, createable: false, updateable: false, calculated: true),
                FieldDescription("Email", .email, length: 80),
                FieldDescription("Title", .string, length: 128),
                FieldDescription("Phone", .phone, length: 40),
            ])
        let lead = ObjectSchema(
            name: "Lead", keyPrefix: "00Q",
            fields: systemFields() + [
                FieldDescription("FirstName", .string, length: 40),
                FieldDescription("LastName", .string, length: 80, nillable: false),
                FieldDescription("Name", .string, length: 121, createable: false, updateable: false, calculated: true),
                FieldDescription("Company", .string, length: 255, nillable: false),
                FieldDescription("Email", .email, length: 80),
                FieldDescription("Title", .string, length: 128),
                FieldDescription("Status", .picklist, length: 255, nillable: false,
                                 picklist: ["Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"],
                                 restricted: true, defaultValue: .string("Open - Not Contacted")),
                FieldDescription("LeadSource", .picklist, length: 255, picklist: ["Web", "Phone Inquiry", "Partner Referral", "Other"]),
                FieldDescription("IsConverted", .boolean, nillable: false, createable: false, updateable: false),
                FieldDescription("ConvertedDate", .date, createable: false, updateable: false),
                FieldDescription("ConvertedContactId", .reference, length: 18, createable: false, updateable: false, referenceTo: ["Contact"]),
                FieldDescription("ConvertedAccountId", .reference, length: 18, createable: false, updateable: false, referenceTo: ["Account"]),
            ])
        let task = ObjectSchema(
            name: "Task", keyPrefix: "00T",
            fields: systemFields() + [
                FieldDescription("Subject", .string, length: 255),
                FieldDescription("Description", .textarea, length: 32000, label: "Comments"),
                FieldDescription("WhoId", .reference, length: 18, label: "Name ID", referenceTo: ["Contact", "Lead"]),
                FieldDescription("WhatId", .reference, length: 18, label: "Related To ID", referenceTo: ["Account"]),
                FieldDescription("AccountId", .reference, length: 18, createable: false, updateable: false, referenceTo: ["Account"], calculated: true),
                FieldDescription("ActivityDate", .date, label: "Due Date Only"),
                FieldDescription("Status", .picklist, length: 255, nillable: false, restricted: true),
                FieldDescription("Priority", .picklist, length: 40, nillable: false, picklist: ["High", "Normal", "Low"],
                                 restricted: true, defaultValue: .string("Normal")),
                FieldDescription("IsClosed", .boolean, nillable: false, createable: false, updateable: false, calculated: true),
                FieldDescription("IsHighPriority", .boolean, nillable: false, createable: false, updateable: false, calculated: true),
                FieldDescription("Type", .picklist, length: 40, picklist: ["Call", "Email", "Meeting", "Other"]),
                FieldDescription("TaskSubtype", .picklist, length: 40, updateable: false,
                                 picklist: ["Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"], restricted: true,
                                 defaultValue: .string("Task")),
                FieldDescription("CompletedDateTime", .datetime, createable: false, updateable: false),
            ])
        let taskStatus = ObjectSchema(
            name: "TaskStatus", keyPrefix: "01J", createable: false, updateable: false, deletable: false,
            fields: [
                FieldDescription("Id", .id, length: 18, nillable: false, createable: false, updateable: false),
                FieldDescription("ApiName", .string, length: 255, createable: false, updateable: false),
                FieldDescription("MasterLabel", .string, length: 255, createable: false, updateable: false),
                FieldDescription("IsClosed", .boolean, nillable: false, createable: false, updateable: false),
                FieldDescription("IsDefault", .boolean, nillable: false, createable: false, updateable: false),
                FieldDescription("SortOrder", .int, createable: false, updateable: false),
                FieldDescription("CreatedDate", .datetime, nillable: false, createable: false, updateable: false),
                FieldDescription("LastModifiedDate", .datetime, nillable: false, createable: false, updateable: false),
                FieldDescription("SystemModstamp", .datetime, nillable: false, createable: false, updateable: false),
            ])
        return [user, account, contact, lead, task, taskStatus]
    }
}
