/// One Salesforce REST error, as it appears in the JSON array bodies Salesforce answers with:
/// `[{"message": "...", "errorCode": "...", "fields": [...]}]`.
public struct SalesforceError: Error, Sendable, Equatable {
    /// The HTTP status that carries this error.
    public var status: Int
    /// Salesforce's error code, e.g. `INVALID_FIELD`.
    public var errorCode: String
    /// Human-readable text, worded as Salesforce words it.
    public var message: String
    /// The fields concerned (often empty).
    public var fields: [String]
    /// For 405: the `Allow` header value.
    var allowedMethods: String?

    /// An error with its HTTP status.
    public init(status: Int = 400, _ errorCode: String, _ message: String, fields: [String] = []) {
        self.status = status
        self.errorCode = errorCode
        self.message = message
        self.fields = fields
    }

    /// The REST envelope element: `{"message","errorCode","fields"}`.
    public var restJSON: JSONValue {
        .object(JSONObject([("message", .string(message)), ("errorCode", .string(errorCode)), ("fields", .array(fields.map { .string($0) }))]))
    }

    /// The element of a save result (sObject Collections): `{"statusCode","message","fields"}`.
    public var saveResultJSON: JSONValue {
        .object(JSONObject([("statusCode", .string(errorCode)), ("message", .string(message)), ("fields", .array(fields.map { .string($0) }))]))
    }

    static func notFound() -> SalesforceError {
        SalesforceError(status: 404, "NOT_FOUND", "The requested resource does not exist")
    }
    static func entityIsDeleted() -> SalesforceError {
        SalesforceError(status: 404, "ENTITY_IS_DELETED", "entity is deleted")
    }
    static func jsonParser(_ message: String) -> SalesforceError {
        SalesforceError(status: 400, "JSON_PARSER_ERROR", message)
    }
    static let invalidSession = SalesforceError(status: 401, "INVALID_SESSION_ID", "Session expired or invalid")
    static let requestLimitExceeded = SalesforceError(status: 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    static let convertedLead = SalesforceError(status: 400, "CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
}
