import Foundation

/// One Task field as a describe call (`GET /sobjects/Task/describe`) reports it: the parts the mapping checks.
public struct TaskFieldDescription: Sendable, Hashable, Codable {
    /// API name, e.g. `DocSend_Duration__c`.
    public var name: String
    /// Salesforce's type name: `string`, `textarea`, `url`, `double`, `int`, `percent`, `picklist`, …
    public var type: String
    /// Maximum length of a text field (0 for other types).
    public var length: Int
    /// Whether it is a custom field.
    public var custom: Bool
    /// Whether it can be set on create.
    public var createable: Bool
    /// Whether it can be set on update.
    public var updateable: Bool
    /// Whether it is flagged *External ID* (usable in an upsert URL).
    public var externalId: Bool
    /// Whether its values are unique among the object's records.
    public var unique: Bool
    /// Whether its values compare case-sensitively (for a unique field: `abc` and `ABC` are two values).
    public var caseSensitive: Bool

    /// Creates a field description.
    public init(
        name: String, type: String, length: Int = 0, custom: Bool = true, createable: Bool = true,
        updateable: Bool = true, externalId: Bool = false, unique: Bool = false, caseSensitive: Bool = false
    ) {
        self.name = name
        self.type = type
        self.length = length
        self.custom = custom
        self.createable = createable
        self.updateable = updateable
        self.externalId = externalId
        self.unique = unique
        self.caseSensitive = caseSensitive
    }
}

/// A custom Task field a property is written to, checked against the org: its name, type and length.
public struct MappedTaskField: Sendable, Hashable, Codable {
    /// API name, as the org spells it.
    public var name: String
    /// Describe type (`string`, `double`, …).
    public var type: String
    /// Maximum length for text fields (0 when not a text field).
    public var length: Int

    /// Creates a mapped field.
    public init(name: String, type: String, length: Int = 0) {
        self.name = name
        self.type = type
        self.length = length
    }
}

/// A ``FieldMapping`` checked against the org's Task fields: what rendering writes.
public struct ResolvedFieldMapping: Sendable, Hashable, Codable {
    /// Property → checked custom field.
    public var fields: [SyncedProperty: MappedTaskField]

    /// A resolved mapping (normally built by ``FieldMapping/resolve(against:)``).
    public init(_ fields: [SyncedProperty: MappedTaskField] = [:]) { self.fields = fields }

    /// No custom field: everything goes to Comments only.
    public static let none = ResolvedFieldMapping()
}

/// What is wrong with one entry of a field mapping.
public struct FieldMappingProblem: Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem.
    public enum Kind: Sendable, Hashable {
        /// The Task has no field with that API name.
        case fieldMissing
        /// The field is a standard field; only custom fields may be mapped.
        case notCustom
        /// The field cannot be set when a Task is created.
        case notCreateable
        /// The field cannot be set when a Task is updated (re-syncs update the Task).
        case notUpdateable
        /// The field's type cannot hold the property's value.
        case wrongType(found: String, expected: [String])
        /// Another property is mapped to the same field.
        case mappedTwice(with: SyncedProperty)
        /// The field name is empty or not a custom field API name.
        case invalidName
        /// An external-id field without the *External ID* flag: Salesforce refuses to upsert on it.
        case notExternalID
        /// An external-id field without *Unique*: two Tasks could hold one DocSend id, and an upsert on it then
        /// fails with 300 Multiple Choices instead of updating.
        case notUnique
        /// An external-id field that is unique case-insensitively: two DocSend ids differing only in case would
        /// name one Task.
        case notCaseSensitive
    }

    /// What is mapped: a property's label, or `External id (visit)`.
    public var subject: String
    /// The field name as the admin typed it.
    public var field: String
    /// The problem.
    public var kind: Kind

    /// Creates a problem.
    public init(subject: String, field: String, kind: Kind) {
        self.subject = subject
        self.field = field
        self.kind = kind
    }

    /// E.g. `Visit duration → "Notes__c": "Notes__c" is a string field; expected one of: double, int, percent`.
    public var description: String {
        let name = quoted(field)
        let reason: String
        switch kind {
        case .fieldMissing: reason = "the Task object has no field \(name)"
        case .notCustom: reason = "\(name) is a standard field; map to a custom field (ending in __c)"
        case .notCreateable: reason = "\(name) cannot be set when a Task is created (check field-level security)"
        case .notUpdateable: reason = "\(name) cannot be updated (check field-level security)"
        case .wrongType(let found, let expected):
            reason = "\(name) is a \(found) field; expected one of: \(expected.joined(separator: ", "))"
        case .mappedTwice(let other): reason = "\(name) is also mapped to \(other.label)"
        case .invalidName: reason = "\(name) is not a custom field API name"
        case .notExternalID: reason = "\(name) is not marked External ID (upserts need it)"
        case .notUnique: reason = "\(name) is not marked Unique (one DocSend id must name one Task)"
        case .notCaseSensitive:
            reason = "\(name) is unique case-insensitively; make it \"Unique, case sensitive\" (DocSend ids differ in case)"
        }
        return "\(subject) → \(quoted(field)): \(reason)"
    }
}

/// A field mapping that does not fit the org: every problem found, for the admin to fix at once.
public struct FieldMappingValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The problems, in property order.
    public var problems: [FieldMappingProblem]

    /// Creates the error.
    public init(problems: [FieldMappingProblem]) { self.problems = problems }

    public var description: String { problems.map(\.description).joined(separator: "; ") }
}

extension FieldMapping {
    /// Every problem of this mapping against the org's Task fields; empty when it is valid.
    ///
    /// A mapped field must exist (names compare case-insensitively, as Salesforce's do), be custom, be
    /// createable and updateable, have a type that holds the property's value
    /// (``SyncedProperty/ValueKind/acceptedFieldTypes``), and hold one property only.
    public func problems(against taskFields: [TaskFieldDescription]) -> [FieldMappingProblem] {
        resolveEntries(against: taskFields).problems
    }

    /// The mapping checked against the org's Task fields, or all its problems.
    public func resolve(against taskFields: [TaskFieldDescription]) -> Result<
        ResolvedFieldMapping, FieldMappingValidationError
    > {
        let (resolved, problems) = resolveEntries(against: taskFields)
        return problems.isEmpty ? .success(resolved) : .failure(FieldMappingValidationError(problems: problems))
    }

    private func resolveEntries(against taskFields: [TaskFieldDescription]) -> (
        resolved: ResolvedFieldMapping, problems: [FieldMappingProblem]
    ) {
        var resolved: [SyncedProperty: MappedTaskField] = [:]
        var problems: [FieldMappingProblem] = []
        var claimed: [String: SyncedProperty] = [:]
        for property in SyncedProperty.allCases {
            guard let name = fields[property] else { continue }
            let found = checkField(
                subject: property.label, name: name, accepting: property.valueKind.acceptedFieldTypes,
                among: taskFields, problems: &problems)
            guard let field = found else { continue }
            let key = field.name.lowercased()
            if let other = claimed[key] {
                problems.append(.init(subject: property.label, field: name, kind: .mappedTwice(with: other)))
                continue
            }
            claimed[key] = property
            resolved[property] = MappedTaskField(name: field.name, type: field.type, length: field.length)
        }
        return (ResolvedFieldMapping(resolved), problems)
    }
}

extension ExternalIDFields {
    /// Every problem of the external-id fields of `kinds` (all by default) against the org's Task fields; empty
    /// when they are usable.
    ///
    /// Each must exist, be custom, createable, a text (`string`) field, and flagged *External ID* and *Unique,
    /// case sensitive* (describe's `externalId`, `unique`, `caseSensitive`): an upsert is idempotent only when one
    /// DocSend id names one Task, whatever its case.
    public func problems(
        against taskFields: [TaskFieldDescription], kinds: [ActivityKind] = ActivityKind.allCases
    ) -> [FieldMappingProblem] {
        var problems: [FieldMappingProblem] = []
        for kind in kinds {
            let subject = "External id (\(kind))"
            let name = field(for: kind)
            guard
                let found = checkField(
                    subject: subject, name: name, accepting: ["string"], among: taskFields, problems: &problems,
                    needsUpdate: false)
            else { continue }
            if !found.externalId { problems.append(.init(subject: subject, field: name, kind: .notExternalID)) }
            if !found.unique {
                problems.append(.init(subject: subject, field: name, kind: .notUnique))
            } else if !found.caseSensitive {
                problems.append(.init(subject: subject, field: name, kind: .notCaseSensitive))
            }
        }
        return problems
    }
}

/// The team's settings checked against the org's Task fields once per kind of Task: a sync checks only the fields
/// its Task uses (its external id, the mapped properties it carries). A missing space-link field does not stop
/// visits; a visit-only property mapped to a wrong field does not stop links.
public struct TaskFieldFit: Sendable, Hashable {
    /// Per kind of Task: the mapping its Tasks write, or every problem of the fields they need.
    public var kinds: [ActivityKind: Result<ResolvedFieldMapping, FieldMappingValidationError>]

    /// `settings`' external ids and mapping against `taskFields`.
    public init(_ settings: TeamSettings, against taskFields: [TaskFieldDescription]) {
        var kinds: [ActivityKind: Result<ResolvedFieldMapping, FieldMappingValidationError>] = [:]
        for kind in ActivityKind.allCases {
            let mapping = FieldMapping(settings.fieldMapping.fields.filter { $0.key.activities.contains(kind) })
            let idProblems = settings.externalIDFields.problems(against: taskFields, kinds: [kind])
            switch mapping.resolve(against: taskFields) {
            case .success(let resolved) where idProblems.isEmpty: kinds[kind] = .success(resolved)
            case .success: kinds[kind] = .failure(FieldMappingValidationError(problems: idProblems))
            case .failure(let error): kinds[kind] = .failure(FieldMappingValidationError(problems: idProblems + error.problems))
            }
        }
        self.kinds = kinds
    }

    /// The mapping Tasks of `kind` write, or the problems of the fields they need.
    public func mapping(for kind: ActivityKind) -> Result<ResolvedFieldMapping, FieldMappingValidationError> {
        kinds[kind] ?? .success(.none)
    }
}

/// Checks one mapped field; appends its problems and returns the field when usable.
private func checkField(
    subject: String, name: String, accepting types: [String], among taskFields: [TaskFieldDescription],
    problems: inout [FieldMappingProblem], needsUpdate: Bool = true
) -> TaskFieldDescription? {
    func problem(_ kind: FieldMappingProblem.Kind) -> TaskFieldDescription? {
        problems.append(.init(subject: subject, field: name, kind: kind))
        return nil
    }
    let trimmed = name.trimmingCharacters(in: .whitespaces)
    guard !trimmed.isEmpty, trimmed.utf8.count <= 80,
        trimmed.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
    else { return problem(.invalidName) }
    guard let field = taskFields.first(where: { $0.name.caseInsensitiveCompare(trimmed) == .orderedSame }) else {
        return problem(.fieldMissing)
    }
    guard field.custom else { return problem(.notCustom) }
    guard types.contains(field.type.lowercased()) else {
        return problem(.wrongType(found: field.type, expected: types))
    }
    guard field.createable else { return problem(.notCreateable) }
    guard !needsUpdate || field.updateable else { return problem(.notUpdateable) }
    return field
}
