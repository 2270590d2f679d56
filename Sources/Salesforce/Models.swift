import Foundation
import JSON

/// The org's daily API usage as reported by the `Sforce-Limit-Info` header (`api-usage=used/max`).
public struct APIUsage: Sendable, Hashable, CustomStringConvertible {
    /// Calls counted in the rolling 24 hours.
    public var used: Int
    /// The org's allocation.
    public var max: Int

    /// Usage of `used` calls out of `max`.
    public init(used: Int, max: Int) {
        self.used = used
        self.max = max
    }

    /// Calls left before `REQUEST_LIMIT_EXCEEDED`.
    public var remaining: Int { Swift.max(0, max - used) }

    public var description: String { "\(used)/\(max)" }

    /// Parses a `Sforce-Limit-Info` value such as
    /// `api-usage=10018/100000` or `api-usage=18/5000; per-app-api-usage=17/250(appName=x)`.
    /// Only the `api-usage` item counts (not `per-app-api-usage`); `nil` when it is missing or malformed.
    public static func parse(limitInfo header: String) -> APIUsage? {
        for item in header.split(whereSeparator: { $0 == ";" || $0 == "," }) {
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("api-usage=") else { continue }
            let value = trimmed.dropFirst("api-usage=".count)
            let numbers = value.split(separator: "/", maxSplits: 1)
            guard numbers.count == 2,
                numbers.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }),
                let used = Int(numbers[0]), let max = Int(numbers[1])
            else { return nil }
            return APIUsage(used: used, max: max)
        }
        return nil
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

/// One page of a query: `{"totalSize","done","nextRecordsUrl","records"}`.
public struct QueryPage<Record: Decodable & Sendable>: Decodable, Sendable {
    /// Records matching the query, over all pages.
    public var totalSize: Int
    /// Whether this is the last page.
    public var done: Bool
    /// A path (`/services/data/vXX.X/query/01g…-2000`) to fetch against the instance URL.
    public var nextRecordsUrl: String?
    /// This page's records.
    public var records: [Record]
}

/// The result of a create: `{"id","success","errors"}`.
public struct SaveResult: Sendable, Hashable, Decodable {
    /// The record's id; `nil` when the item failed (and in some per-item results, when not given).
    public var id: String?
    /// Whether the record was saved.
    public var success: Bool
    /// Per-item errors (Salesforce's `statusCode` is mapped to ``SalesforceError/code``).
    public var errors: [SalesforceError]
    /// For upserts in newer API versions: whether the record was created.
    public var created: Bool?

    /// A result as Salesforce would send it.
    public init(id: String?, success: Bool, errors: [SalesforceError], created: Bool? = nil) {
        self.id = id
        self.success = success
        self.errors = errors
        self.created = created
    }

    enum CodingKeys: String, CodingKey { case id, success, errors, created }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id)
        success = try container.decodeIfPresent(Bool.self, forKey: .success) ?? false
        created = try container.decodeIfPresent(Bool.self, forKey: .created)
        // Per-item errors carry no HTTP status of their own; a failed item in a 200 response is still the
        // item's failure, classified by its code.
        errors = (try container.decodeIfPresent([WireError].self, forKey: .errors) ?? []).map {
            $0.toError(httpStatus: nil)
        }
    }
}

/// What an upsert by external id did.
public enum UpsertResult: Sendable, Hashable {
    /// No record matched: one was created (HTTP 201).
    case created(id: String)
    /// One record matched and was updated (HTTP 200 with a body, or 204 without one, so the id may be
    /// unknown).
    case updated(id: String?)
}

/// A field of ``SObjectDescription``.
public struct FieldDescription: Sendable, Hashable, Decodable {
    /// The field's API name.
    public var name: String
    public var label: String?
    /// Salesforce's type name: `string`, `textarea`, `picklist`, `reference`, `datetime`, …
    public var type: String
    /// Maximum length for text fields (0 otherwise).
    public var length: Int
    /// Whether it is a custom field (`__c`).
    public var custom: Bool
    public var updateable: Bool
    public var createable: Bool
    public var nillable: Bool
    /// The entries of a picklist field.
    public var picklistValues: [PicklistValue]
    /// For reference fields, the objects it may point to.
    public var referenceTo: [String]
    /// Flagged *External ID*: usable in an upsert URL.
    public var externalId: Bool
    /// Values are unique among the object's records.
    public var unique: Bool
    /// Values compare case-sensitively (`abc` and `ABC` are two values of a unique field).
    public var caseSensitive: Bool
    /// A restricted picklist refuses values it does not list (`INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`).
    public var restrictedPicklist: Bool

    enum CodingKeys: String, CodingKey {
        case name, label, type, length, custom, updateable, createable, nillable, picklistValues, referenceTo
        case externalId, unique, caseSensitive, restrictedPicklist
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        label = try c.decodeIfPresent(String.self, forKey: .label)
        type = try c.decode(String.self, forKey: .type)
        length = try c.decodeIfPresent(Int.self, forKey: .length) ?? 0
        custom = try c.decodeIfPresent(Bool.self, forKey: .custom) ?? false
        updateable = try c.decodeIfPresent(Bool.self, forKey: .updateable) ?? false
        createable = try c.decodeIfPresent(Bool.self, forKey: .createable) ?? false
        nillable = try c.decodeIfPresent(Bool.self, forKey: .nillable) ?? false
        picklistValues = try c.decodeIfPresent([PicklistValue].self, forKey: .picklistValues) ?? []
        referenceTo = try c.decodeIfPresent([String].self, forKey: .referenceTo) ?? []
        externalId = try c.decodeIfPresent(Bool.self, forKey: .externalId) ?? false
        unique = try c.decodeIfPresent(Bool.self, forKey: .unique) ?? false
        caseSensitive = try c.decodeIfPresent(Bool.self, forKey: .caseSensitive) ?? false
        restrictedPicklist = try c.decodeIfPresent(Bool.self, forKey: .restrictedPicklist) ?? false
    }
}

/// A picklist entry of a field.
public struct PicklistValue: Sendable, Hashable, Decodable {
    /// The API value written to the field.
    public var value: String
    public var label: String?
    public var active: Bool
    /// Whether it is the field's default.
    public var defaultValue: Bool

    enum CodingKeys: String, CodingKey { case value, label, active, defaultValue }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        value = try c.decode(String.self, forKey: .value)
        label = try c.decodeIfPresent(String.self, forKey: .label)
        active = try c.decodeIfPresent(Bool.self, forKey: .active) ?? true
        defaultValue = try c.decodeIfPresent(Bool.self, forKey: .defaultValue) ?? false
    }
}

/// `GET /sobjects/{type}/describe`, the parts this project uses.
public struct SObjectDescription: Sendable, Hashable, Decodable {
    /// The object's API name.
    public var name: String
    public var label: String?
    public var custom: Bool
    public var queryable: Bool
    public var createable: Bool
    public var updateable: Bool
    /// Every field of the object.
    public var fields: [FieldDescription]

    enum CodingKeys: String, CodingKey { case name, label, custom, queryable, createable, updateable, fields }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        label = try c.decodeIfPresent(String.self, forKey: .label)
        custom = try c.decodeIfPresent(Bool.self, forKey: .custom) ?? false
        queryable = try c.decodeIfPresent(Bool.self, forKey: .queryable) ?? false
        createable = try c.decodeIfPresent(Bool.self, forKey: .createable) ?? false
        updateable = try c.decodeIfPresent(Bool.self, forKey: .updateable) ?? false
        fields = try c.decodeIfPresent([FieldDescription].self, forKey: .fields) ?? []
    }

    /// The field named `name` (case-insensitive, as Salesforce's API names are).
    public func field(_ name: String) -> FieldDescription? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }
}

/// One entry of `GET /limits`.
public struct OrgLimit: Sendable, Hashable, Decodable {
    /// The allocation.
    public var max: Int
    /// What is left of it.
    public var remaining: Int

    enum CodingKeys: String, CodingKey {
        case max = "Max"
        case remaining = "Remaining"
    }
}

/// One subrequest of a composite request.
public struct CompositeSubrequest: Sendable, Hashable, Encodable {
    /// `GET`, `POST`, `PATCH` or `DELETE`.
    public var method: String
    /// A path: either full (`/services/data/v62.0/sobjects/Account`) or relative to the pinned version
    /// (`/sobjects/Account`), which the client completes. May contain `@{ref.field}` references.
    public var url: String
    /// Names this subrequest's result for later `@{referenceId.id}` references. Letters, digits and `_`.
    public var referenceId: String
    /// The JSON body, for `POST` and `PATCH`.
    public var body: JSONValue?

    /// A subrequest; see the properties.
    public init(method: String, url: String, referenceId: String, body: JSONValue? = nil) {
        self.method = method.uppercased()
        self.url = url
        self.referenceId = referenceId
        self.body = body
    }

    /// `POST /sobjects/{type}` with `fields`.
    public static func create(_ type: String, referenceId: String, fields: [String: JSONValue]) -> Self {
        .init(method: "POST", url: "/sobjects/\(type)", referenceId: referenceId, body: .object(fields))
    }

    /// `PATCH /sobjects/{type}/{id}` with `fields` (the id may be a `@{ref.id}` reference).
    public static func update(_ type: String, id: String, referenceId: String, fields: [String: JSONValue]) -> Self {
        .init(method: "PATCH", url: "/sobjects/\(type)/\(id)", referenceId: referenceId, body: .object(fields))
    }

    /// `GET /query?q=…` with a built query.
    public static func query(_ soql: SOQL, referenceId: String) throws(SalesforceError) -> Self {
        .init(method: "GET", url: "/query?q=" + percentEncodeQueryValue(try soql.render()), referenceId: referenceId)
    }

    enum CodingKeys: String, CodingKey { case method, url, referenceId, body }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(method, forKey: .method)
        try c.encode(url, forKey: .url)
        try c.encode(referenceId, forKey: .referenceId)
        try c.encodeIfPresent(body, forKey: .body)
    }
}

/// One subresponse of a composite request, in request order.
public struct CompositeSubresponse: Sendable, Hashable, Decodable {
    /// The subrequest's `referenceId`.
    public var referenceId: String
    /// The subrequest's HTTP status (the composite call itself is 200).
    public var httpStatusCode: Int
    /// Headers Salesforce reports for the subrequest (e.g. `Location`).
    public var httpHeaders: [String: String]
    /// The subresponse's body; `.null` when there was none (204).
    public var body: JSONValue

    enum CodingKeys: String, CodingKey { case referenceId, httpStatusCode, httpHeaders, body }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        referenceId = try c.decode(String.self, forKey: .referenceId)
        httpStatusCode = try c.decode(Int.self, forKey: .httpStatusCode)
        httpHeaders = try c.decodeIfPresent([String: String].self, forKey: .httpHeaders) ?? [:]
        body = try c.decodeIfPresent(JSONValue.self, forKey: .body) ?? .null
    }

    /// Whether the subrequest succeeded (2xx).
    public var isSuccess: Bool { (200..<300).contains(httpStatusCode) }

    /// The subrequest's errors, decoded like a top-level error response; empty when it succeeded.
    /// With `allOrNone`, rolled-back subrequests report `PROCESSING_HALTED`.
    public var errors: [SalesforceError] {
        guard !isSuccess else { return [] }
        let data = (try? JSONEncoder().encode(body)) ?? Data()
        return SalesforceError.decode(status: httpStatusCode, data: data)
    }

    /// The record id in a create's body, when present.
    public var id: String? { body["id"]?.stringValue }
}

/// Percent-encodes a query-string value: everything but RFC 3986 unreserved characters, so `+`, `&`, `=`,
/// `%`, `#` and spaces in literals travel intact.
func percentEncodeQueryValue(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
}

/// Percent-encodes one path segment (a record id, an external id value).
func percentEncodePathSegment(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
}

private let unreserved: CharacterSet = {
    var set = CharacterSet()
    set.insert(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    return set
}()
