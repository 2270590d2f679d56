import Foundation

/// The org a sandbox starts with (JSON: see `docs/salesforce-sandbox.md`). Every member is optional.
public struct SandboxSeed: Sendable, Codable, Equatable {
    /// 15- or 18-character org id (`00D…`).
    public var orgId: String?
    /// User records (`Username`, `LastName`, `Email` …). The first user runs seeded writes and owns records.
    public var users: [JSONValue]?
    /// Records per object name. Values may be `"@ref"` to point at a seeded record carrying `"_ref": "ref"`.
    public var records: [String: [JSONValue]]?
    /// Task statuses (defaults: Not Started (default), In Progress, Completed (closed), Waiting on someone else, Deferred).
    public var taskStatuses: [TaskStatusSeed]?
    /// Custom fields per object name.
    public var customFields: [String: [CustomFieldSeed]]?
    /// Custom Task fields (same as `customFields["Task"]`).
    public var customTaskFields: [CustomFieldSeed]?
    /// Picklist fields' values, replaced, by `Object.Field` (e.g. `Lead.LeadSource` restricted to a list without
    /// `DocSend`).
    public var picklists: [String: PicklistSeed]?
    /// What the signed-in user may do, by `Object` or `Object.Field` (a profile or permission set missing):
    /// `none` (the object or field is not there for it), `read` (describe says neither createable nor updateable,
    /// and writes are refused), `edit` (the default).
    public var access: [String: AccessSeed]?
    /// Connected apps.
    public var oauthClients: [OAuthClientSeed]?
    /// Access tokens valid from the start.
    public var accessTokens: [AccessTokenSeed]?
    /// Daily API allocation.
    public var limits: LimitsSeed?
    /// Fault injection at start.
    public var faults: FaultSettings?
    /// Access tokens expire this many seconds after issue (nil: never).
    public var accessTokenLifetimeSeconds: Double?
    /// Duplicate rules checked when records are created through the Salesforce routes (nil: none).
    public var duplicateRules: [DuplicateRuleSeed]?

    /// Creates a value.
    public init(
        orgId: String? = nil, users: [JSONValue]? = nil, records: [String: [JSONValue]]? = nil,
        taskStatuses: [TaskStatusSeed]? = nil, customFields: [String: [CustomFieldSeed]]? = nil,
        customTaskFields: [CustomFieldSeed]? = nil, picklists: [String: PicklistSeed]? = nil,
        access: [String: AccessSeed]? = nil, oauthClients: [OAuthClientSeed]? = nil, accessTokens: [AccessTokenSeed]? = nil, limits: LimitsSeed? = nil,
        faults: FaultSettings? = nil, accessTokenLifetimeSeconds: Double? = nil,
        duplicateRules: [DuplicateRuleSeed]? = nil
    ) {
        self.orgId = orgId
        self.users = users
        self.records = records
        self.taskStatuses = taskStatuses
        self.customFields = customFields
        self.customTaskFields = customTaskFields
        self.picklists = picklists
        self.access = access
        self.oauthClients = oauthClients
        self.accessTokens = accessTokens
        self.limits = limits
        self.faults = faults
        self.accessTokenLifetimeSeconds = accessTokenLifetimeSeconds
        self.duplicateRules = duplicateRules
    }

    /// Decodes a seed from JSON.
    public static func decode(_ data: Data) throws -> SandboxSeed {
        try JSONDecoder().decode(SandboxSeed.self, from: data)
    }

    /// Reads a seed file.
    public static func load(path: String) throws -> SandboxSeed {
        try decode(try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

/// A TaskStatus picklist value.
public struct TaskStatusSeed: Sendable, Codable, Equatable {
    /// Picklist value, e.g. `Completed`.
    public var apiName: String
    /// Label (default: the API name / field name).
    public var label: String?
    /// A closed status (sets Task.IsClosed).
    public var isClosed: Bool
    /// The default status of new Tasks.
    public var isDefault: Bool
    /// Creates a value.
    public init(_ apiName: String, label: String? = nil, isClosed: Bool = false, isDefault: Bool = false) {
        self.apiName = apiName
        self.label = label
        self.isClosed = isClosed
        self.isDefault = isDefault
    }

    /// Salesforce's usual statuses.
    public static let standard: [TaskStatusSeed] = [
        .init("Not Started", isDefault: true), .init("In Progress"), .init("Completed", isClosed: true),
        .init("Waiting on someone else"), .init("Deferred"),
    ]
}

/// What the signed-in user may do with an object or a field (``SandboxSeed/access``).
public enum AccessSeed: String, Sendable, Codable, Equatable {
    case none, read, edit
}

/// A picklist field's values (``SandboxSeed/picklists``).
public struct PicklistSeed: Sendable, Codable, Equatable {
    /// The active values, in order.
    public var values: [String]
    /// Reject unlisted values (`INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`); unchanged when absent.
    public var restricted: Bool?
    /// The value a create without one gets.
    public var defaultValue: String?

    /// Creates a value.
    public init(values: [String], restricted: Bool? = nil, defaultValue: String? = nil) {
        self.values = values
        self.restricted = restricted
        self.defaultValue = defaultValue
    }
}

/// A custom field declaration.
public struct CustomFieldSeed: Sendable, Codable, Equatable {
    /// API name; `__c` is appended when missing.
    public var name: String
    /// `string` (default), `textarea`, `email`, `url`, `phone`, `picklist`, `boolean`, `date`, `datetime`, `double`, `int`.
    public var type: FieldType?
    /// Maximum characters (default 255 for text).
    public var length: Int?
    /// Label (default: the API name / field name).
    public var label: String?
    /// Usable for upsert.
    public var externalId: Bool?
    /// Unique among live records.
    public var unique: Bool?
    /// Values compare case-sensitively (*Unique, case sensitive*); default case-insensitive.
    public var caseSensitive: Bool?
    /// Required on create.
    public var required: Bool?
    /// Picklist values.
    public var picklistValues: [String]?
    /// Reject unlisted picklist values.
    public var restricted: Bool?

    /// Creates a value.
    public init(
        name: String, type: FieldType? = nil, length: Int? = nil, label: String? = nil, externalId: Bool? = nil,
        unique: Bool? = nil, caseSensitive: Bool? = nil, required: Bool? = nil, picklistValues: [String]? = nil,
        restricted: Bool? = nil
    ) {
        self.name = name
        self.type = type
        self.length = length
        self.label = label
        self.externalId = externalId
        self.unique = unique
        self.caseSensitive = caseSensitive
        self.required = required
        self.picklistValues = picklistValues
        self.restricted = restricted
    }

    var fieldDescription: FieldDescription {
        let apiName = name.hasSuffix("__c") ? name : name + "__c"
        let t = type ?? .string
        let defaultLength = t == .textarea ? 32768 : (t.isText ? 255 : 0)
        return FieldDescription(
            apiName, t, length: length ?? defaultLength, label: label ?? name, nillable: !(required ?? false),
            picklist: picklistValues ?? [], restricted: restricted ?? false, custom: true,
            externalId: externalId ?? false, unique: unique ?? false, caseSensitive: caseSensitive ?? false)
    }
}

/// A connected app (OAuth client).
public struct OAuthClientSeed: Sendable, Codable, Equatable {
    /// Consumer key.
    public var clientId: String
    /// Consumer secret.
    public var clientSecret: String
    /// Allowed callback URLs (exact match; `"*"` allows any).
    public var redirectURIs: [String]?
    /// Refresh token rotation: each refresh returns a new refresh token and invalidates the old one.
    public var rotateRefreshTokens: Bool?
    /// Scopes granted when the request names none (default `"api refresh_token"`).
    public var scopes: String?
    /// Run-as user for the client credentials flow (by Username; nil disables the flow).
    public var clientCredentialsUsername: String?
    /// Refresh tokens valid from the start (issued to the first user).
    public var refreshTokens: [String]?

    /// Creates a value.
    public init(
        clientId: String, clientSecret: String, redirectURIs: [String]? = nil, rotateRefreshTokens: Bool? = nil,
        scopes: String? = nil, clientCredentialsUsername: String? = nil, refreshTokens: [String]? = nil
    ) {
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.redirectURIs = redirectURIs
        self.rotateRefreshTokens = rotateRefreshTokens
        self.scopes = scopes
        self.clientCredentialsUsername = clientCredentialsUsername
        self.refreshTokens = refreshTokens
    }
}

/// A pre-issued access token.
public struct AccessTokenSeed: Sendable, Codable, Equatable {
    /// The bearer token.
    public var token: String
    /// The user it acts as (default: the first user).
    public var username: String?
    /// Creates a value.
    public init(token: String, username: String? = nil) {
        self.token = token
        self.username = username
    }
}

/// The daily API allocation.
public struct LimitsSeed: Sendable, Codable, Equatable {
    /// `DailyApiRequests.Max` (default 15000, a Developer Edition).
    public var dailyApiRequests: Int?
    /// Calls already spent.
    public var used: Int?
    /// Creates a value.
    public init(dailyApiRequests: Int? = nil, used: Int? = nil) {
        self.dailyApiRequests = dailyApiRequests
        self.used = used
    }
}

extension SandboxSeed {
    /// Names and secrets of the demo seed, for tests and the local run.
    public enum Demo {
        /// Org id of the demo seed.
        public static let orgId = "00D5g000004SbxQEAS"
        /// The first (admin) user.
        public static let username = "admin@sandbox.example"
        /// Consumer key.
        public static let clientId = "sandbox-client-id"
        /// Consumer secret.
        public static let clientSecret = "sandbox-client-secret"
        /// A refresh token of the demo client (no rotation).
        public static let refreshToken = "sandbox-refresh-token"
        /// An access token valid from the start (admin user).
        public static let accessToken = "sandbox-access-token"
        /// A registered callback of the demo client.
        public static let redirectURI = "http://localhost:8080/oauth/callback"
        /// Account "Acme Corp".
        public static let acmeAccountId = SalesforceID.normalize("0015g00000AcmeA") ?? ""
        /// Contact Alice Anders (Acme), alice@acme.example.
        public static let aliceContactId = SalesforceID.normalize("0035g00000Alice") ?? ""
        /// Open lead Carol Chen (Initech), carol@initech.example.
        public static let carolLeadId = SalesforceID.normalize("00Q5g00000Carol") ?? ""
        /// Converted lead Dan Drake (Globex), dan@globex.example.
        public static let convertedLeadId = SalesforceID.normalize("00Q5g00000DanCv") ?? ""
    }

    /// A small demo org: two users, two accounts, contacts, leads (one converted), Task custom fields
    /// for DocSend ids, one OAuth client and a ready access token (see ``Demo``).
    public static var demo: SandboxSeed { (try? decode(Data(demoJSON.utf8))) ?? SandboxSeed() }

    /// The demo seed as JSON (also an example of the seed format).
    public static let demoJSON = #"""
        {
          "orgId": "00D5g000004SbxQEAS",
          "users": [
            {"Id": "0055g00000Admin", "Username": "admin@sandbox.example", "FirstName": "Ada", "LastName": "Admin", "Email": "admin@sandbox.example"},
            {"Id": "0055g00000RexRp", "Username": "rep@sandbox.example", "FirstName": "Rex", "LastName": "Rep", "Email": "rep@sandbox.example"}
          ],
          "records": {
            "Account": [
              {"Id": "0015g00000AcmeA", "Name": "Acme Corp", "Website": "https://acme.example"},
              {"Id": "0015g00000Globx", "Name": "Globex", "Website": "https://globex.example"}
            ],
            "Contact": [
              {"Id": "0035g00000Alice", "FirstName": "Alice", "LastName": "Anders", "Email": "alice@acme.example", "AccountId": "0015g00000AcmeA"},
              {"Id": "0035g000000DanC", "FirstName": "Dan", "LastName": "Drake", "Email": "dan@globex.example", "AccountId": "0015g00000Globx"}
            ],
            "Lead": [
              {"Id": "00Q5g00000Carol", "FirstName": "Carol", "LastName": "Chen", "Company": "Initech", "Email": "carol@initech.example"},
              {"Id": "00Q5g00000DanCv", "FirstName": "Dan", "LastName": "Drake", "Company": "Globex", "Email": "dan@globex.example",
               "IsConverted": true, "Status": "Closed - Converted", "ConvertedContactId": "0035g000000DanC", "ConvertedAccountId": "0015g00000Globx", "ConvertedDate": "2026-01-15"}
            ]
          },
          "customTaskFields": [
            {"name": "DocSend_Visit_Id__c", "type": "string", "length": 255, "externalId": true, "unique": true},
            {"name": "DocSend_Link_Id__c", "type": "string", "length": 255, "externalId": true}
          ],
          "oauthClients": [
            {"clientId": "sandbox-client-id", "clientSecret": "sandbox-client-secret",
             "redirectURIs": ["http://localhost:8080/oauth/callback", "*"], "rotateRefreshTokens": false,
             "clientCredentialsUsername": "admin@sandbox.example", "refreshTokens": ["sandbox-refresh-token"]}
          ],
          "accessTokens": [{"token": "sandbox-access-token", "username": "admin@sandbox.example"}],
          "limits": {"dailyApiRequests": 15000, "used": 0}
        }
        """#
}

extension OAuthClientSeed {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Decodes camelCase keys (`clientId`, `redirectURIs` …) or OAuth-style snake_case ones
    /// (`client_id`, `client_secret`, `redirect_uris`, `rotate_refresh_tokens`, `client_credentials_username`, `refresh_tokens`).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        func value<T: Decodable>(_ type: T.Type, _ names: String...) throws -> T? {
            for name in names where c.contains(Key(stringValue: name)) {
                return try c.decodeIfPresent(T.self, forKey: Key(stringValue: name))
            }
            return nil
        }
        guard let id = try value(String.self, "clientId", "client_id"), let secret = try value(String.self, "clientSecret", "client_secret") else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "an OAuth client needs clientId and clientSecret"))
        }
        self.init(
            clientId: id, clientSecret: secret,
            redirectURIs: try value([String].self, "redirectURIs", "redirect_uris", "redirectUris"),
            rotateRefreshTokens: try value(Bool.self, "rotateRefreshTokens", "rotate_refresh_tokens"),
            scopes: try value(String.self, "scopes", "scope"),
            clientCredentialsUsername: try value(String.self, "clientCredentialsUsername", "client_credentials_username"),
            refreshTokens: try value([String].self, "refreshTokens", "refresh_tokens"))
    }
}
