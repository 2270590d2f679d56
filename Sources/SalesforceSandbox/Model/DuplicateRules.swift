import Foundation

/// What a duplicate rule does when a new record matches an existing one.
public enum DuplicateRuleAction: String, Sendable, Codable, Equatable {
    /// The save always fails with `DUPLICATES_DETECTED`.
    case block
    /// The save fails with `DUPLICATES_DETECTED` unless the request carries
    /// `Sforce-Duplicate-Rule-Header: allowSave=true`.
    case alert
}

/// A duplicate rule (a matching rule and its duplicate rule in one): a new record of ``object`` whose values
/// on every one of ``fields`` equal those of a live record of the same object (trimmed, case-insensitive;
/// an empty value never matches) is a duplicate. Converted Leads never match. Only creates are checked
/// (REST create, upsert that creates, composite and sObject Collections creates); updates are not.
///
/// JSON: `{"object": "Lead", "fields": ["Email"], "action": "block"}`.
public struct DuplicateRuleSeed: Sendable, Codable, Equatable {
    /// The object, e.g. `Lead` (any object of the org; matched case-insensitively).
    public var object: String
    /// The fields that must all match, e.g. `["Email"]` (at least one).
    public var fields: [String]
    /// `block` or `alert`.
    public var action: DuplicateRuleAction

    /// Creates a rule.
    public init(object: String, fields: [String], action: DuplicateRuleAction) {
        self.object = object
        self.fields = fields
        self.action = action
    }
}

extension SalesforceError {
    /// Salesforce's answer to a save a duplicate rule stopped.
    static let duplicatesDetected = SalesforceError(
        status: 400, "DUPLICATES_DETECTED", "You are creating a duplicate record. We recommend you use an existing record instead.")
}

/// The duplicate rules that apply to one create: the org's rules minus the `alert` ones when the request
/// allowed the save.
struct DuplicatePolicy: Sendable {
    /// Rules with canonical object and field names.
    var rules: [DuplicateRuleSeed]

    static let none = DuplicatePolicy(rules: [])

    /// `true` when the `Sforce-Duplicate-Rule-Header` value has the parameter `allowSave=true`
    /// (`;`-separated `name=value` parameters, names and values case-insensitive).
    static func allowsSave(_ headers: [(name: String, value: String)]) -> Bool {
        for h in headers where h.name.caseInsensitiveCompare("Sforce-Duplicate-Rule-Header") == .orderedSame {
            for parameter in h.value.split(separator: ";") {
                let kv = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if kv.count == 2, kv[0].caseInsensitiveCompare("allowSave") == .orderedSame,
                    kv[1].caseInsensitiveCompare("true") == .orderedSame
                {
                    return true
                }
            }
        }
        return false
    }

    /// The comparable form of a field value: trimmed and lower-cased text; nil for null or empty.
    static func key(_ value: JSONValue?) -> String? {
        guard let value, value != .null else { return nil }
        let text = (value.stringValue ?? value.description).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text.lowercased()
    }
}

extension RecordStore {
    /// Rules checked against the schemas: known object, at least one field, every field known. Returns the
    /// rules with canonical names.
    func validatedDuplicateRules(_ rules: [DuplicateRuleSeed]) throws(SalesforceError) -> [DuplicateRuleSeed] {
        var out: [DuplicateRuleSeed] = []
        for rule in rules {
            guard let schema = schema(rule.object) else {
                throw SalesforceError("INVALID_TYPE", "duplicate rule: sObject type '\(rule.object)' is not supported.")
            }
            guard !rule.fields.isEmpty else { throw SalesforceError("INVALID_INPUT", "duplicate rule on \(schema.name): fields is empty") }
            var fields: [String] = []
            for name in rule.fields {
                guard let f = schema.field(name) else {
                    throw SalesforceError("INVALID_FIELD", "duplicate rule: No such column '\(name)' on sobject of type \(schema.name)")
                }
                fields.append(f.name)
            }
            out.append(DuplicateRuleSeed(object: schema.name, fields: fields, action: rule.action))
        }
        return out
    }

    /// Throws `DUPLICATES_DETECTED` when a new record of `schema` with `fields` matches a live record under
    /// one of `policy`'s rules.
    func checkDuplicates(_ fields: JSONObject, schema: ObjectSchema, policy: DuplicatePolicy) throws(SalesforceError) {
        for rule in policy.rules where rule.object == schema.name {
            let wanted = rule.fields.map { DuplicatePolicy.key(fields[$0]) }
            guard wanted.allSatisfy({ $0 != nil }) else { continue }
            let duplicate = all(schema.name).contains { r in
                guard !r.isDeleted else { return false }
                if schema.name == "Lead", r["IsConverted"]?.boolValue == true { return false }
                return zip(rule.fields, wanted).allSatisfy { field, key in DuplicatePolicy.key(r.fields[field]) == key }
            }
            if duplicate { throw SalesforceError.duplicatesDetected }
        }
    }
}
