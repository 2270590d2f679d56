import Foundation
import HTTP

/// The one error type of the `Salesforce` module.
///
/// It carries what Salesforce said (``code``, ``message``, ``fields``, ``httpStatus``) and a
/// ``classification`` that tells a worker how to route the failure: retry it later, park it with
/// Salesforce's error, or park it and alert because the org must be connected again.
///
/// Errors that Salesforce reports per item (sObject Collections results, composite subresponses) are
/// decoded into this same type, so one routing rule covers every call.
public struct SalesforceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Salesforce's `errorCode` (or `statusCode` in per-item results, or OAuth's `error`), kept as sent.
    ///
    /// An extensible set: any string Salesforce sends is representable; the static members name the codes
    /// this module treats specially and the ones it produces itself (prefixed `CLIENT_`).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        // Salesforce's codes that matter for routing.
        /// 401: the access token expired or was revoked.
        public static let invalidSessionID = Code("INVALID_SESSION_ID")
        /// 403: daily API allocation used up, or too many concurrent long requests.
        public static let requestLimitExceeded = Code("REQUEST_LIMIT_EXCEEDED")
        /// Another transaction holds the record.
        public static let unableToLockRow = Code("UNABLE_TO_LOCK_ROW")
        /// 503: Salesforce is temporarily unavailable.
        public static let serverUnavailable = Code("SERVER_UNAVAILABLE")
        /// A required field has no value.
        public static let requiredFieldMissing = Code("REQUIRED_FIELD_MISSING")
        /// A text value exceeds the field's length.
        public static let stringTooLong = Code("STRING_TOO_LONG")
        /// A field does not exist (or is not accessible) on the object.
        public static let invalidField = Code("INVALID_FIELD")
        /// An id is not a well-formed Salesforce id.
        public static let malformedID = Code("MALFORMED_ID")
        /// The record was deleted.
        public static let entityIsDeleted = Code("ENTITY_IS_DELETED")
        /// The Lead was converted and is read-only.
        public static let cannotUpdateConvertedLead = Code("CANNOT_UPDATE_CONVERTED_LEAD")
        /// A value is not one of a restricted picklist's entries.
        public static let invalidOrNullForRestrictedPicklist = Code("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
        /// A duplicate rule blocked the save.
        public static let duplicatesDetected = Code("DUPLICATES_DETECTED")
        /// A unique field already holds the value: an upsert that raced another one on the same external id
        /// lost the insert (the record exists now; the same upsert again updates it).
        public static let duplicateValue = Code("DUPLICATE_VALUE")
        /// The SOQL does not parse.
        public static let malformedQuery = Code("MALFORMED_QUERY")
        /// A reference (WhoId, WhatId…) points at no usable record.
        public static let invalidCrossReferenceKey = Code("INVALID_CROSS_REFERENCE_KEY")
        /// 404: the resource or record does not exist.
        public static let notFound = Code("NOT_FOUND")
        /// OAuth: the refresh token or authorization code is invalid, expired or revoked.
        public static let invalidGrant = Code("invalid_grant")

        // Produced by this client.
        /// An upsert's external ID matched several records (HTTP 300).
        public static let multipleMatches = Code("CLIENT_MULTIPLE_MATCHES")
        /// The request did not complete within the configured timeout.
        public static let timeout = Code("CLIENT_TIMEOUT")
        /// Salesforce could not be reached.
        public static let connectFailed = Code("CLIENT_CONNECT_FAILED")
        /// The connection broke before a complete response arrived.
        public static let connectionLost = Code("CLIENT_CONNECTION_LOST")
        /// Any other transport failure (TLS, client shut down, libcurl error).
        public static let transportFailed = Code("CLIENT_TRANSPORT_FAILED")
        /// The response could not be decoded as the documented shape.
        public static let invalidResponse = Code("CLIENT_INVALID_RESPONSE")
        /// The call was refused before anything was sent (bad identifier in SOQL, too many subrequests…).
        public static let invalidArgument = Code("CLIENT_INVALID_ARGUMENT")
        /// An error response without a recognisable Salesforce error body.
        public static let unknown = Code("CLIENT_UNKNOWN_ERROR")
    }

    /// How a caller should route a failure.
    public enum Classification: String, Sendable, Hashable, CustomStringConvertible {
        /// Transient: server errors, row locks, API limits, timeouts, connection failures. Retry with backoff.
        case retryable
        /// The org's authorization is gone (refresh failed, or a refreshed token is still refused).
        /// Retrying will not help until someone reconnects the org.
        case needsReauthentication
        /// The request itself is wrong for this org (validation, bad ids, missing fields, 404…).
        case permanent

        public var description: String { rawValue }
    }

    /// Salesforce's error code.
    public var code: Code
    /// Salesforce's message, verbatim (it may quote field values; do not log it above debug).
    public var message: String
    /// The fields Salesforce blamed, when it said.
    public var fields: [String]
    /// The HTTP status of the response (or of the subrequest) that carried the error; `nil` for transport
    /// failures and client-side refusals.
    public var httpStatus: Int?
    /// How to route this failure.
    public var classification: Classification

    /// Creates an error; the classification defaults to ``classify(code:httpStatus:)``.
    public init(
        code: Code, message: String, fields: [String] = [], httpStatus: Int? = nil,
        classification: Classification? = nil
    ) {
        self.code = code
        self.message = message
        self.fields = fields
        self.httpStatus = httpStatus
        self.classification = classification ?? Self.classify(code: code, httpStatus: httpStatus)
    }

    public var description: String {
        var text = "SalesforceError(\(classification)) \(code.rawValue)"
        if let httpStatus { text += " [HTTP \(httpStatus)]" }
        text += ": \(message)"
        if !fields.isEmpty { text += " fields=\(fields)" }
        return text
    }

    // MARK: Classification

    private static let retryableCodes: Set<Code> = [
        .unableToLockRow, .requestLimitExceeded, .serverUnavailable,
        .timeout, .connectFailed, .connectionLost, .transportFailed,
    ]
    private static let reauthenticationCodes: Set<Code> = [.invalidGrant]

    /// The routing rule: the code decides when it is known to be transient or an authorization failure;
    /// otherwise 401 means re-authentication, 500/502/503/504 are retryable, and anything else is permanent.
    public static func classify(code: Code, httpStatus: Int?) -> Classification {
        if retryableCodes.contains(code) { return .retryable }
        if reauthenticationCodes.contains(code) { return .needsReauthentication }
        switch httpStatus {
        case 401: return .needsReauthentication
        case 500, 502, 503, 504: return .retryable
        default: return .permanent
        }
    }
}

// MARK: - Decoding Salesforce's error bodies

/// `{"message","errorCode","fields"}` (REST) or `{"message","statusCode","fields"}` (per-item results).
struct WireError: Codable, Sendable {
    var message: String?
    var errorCode: String?
    var statusCode: String?
    var fields: [String]?

    func toError(httpStatus: Int?) -> SalesforceError {
        SalesforceError(
            code: .init(errorCode ?? statusCode ?? SalesforceError.Code.unknown.rawValue),
            message: message ?? "", fields: fields ?? [], httpStatus: httpStatus)
    }
}

/// OAuth's `{"error","error_description"}`.
struct OAuthWireError: Decodable, Sendable {
    var error: String
    var errorDescription: String?

    enum CodingKeys: String, CodingKey {
        case error
        case errorDescription = "error_description"
    }
}

extension SalesforceError {
    /// Decodes every error an error response carries (REST array, single object, or OAuth shape).
    /// Never empty: an unrecognisable body yields one ``Code/unknown`` error.
    static func decode(status: Int, data: Data) -> [SalesforceError] {
        let decoder = JSONDecoder()
        if let list = try? decoder.decode([WireError].self, from: data),
            list.contains(where: { $0.errorCode != nil || $0.statusCode != nil })
        {
            return list.map { $0.toError(httpStatus: status) }
        }
        if let one = try? decoder.decode(WireError.self, from: data), one.errorCode != nil || one.statusCode != nil {
            return [one.toError(httpStatus: status)]
        }
        if let oauth = try? decoder.decode(OAuthWireError.self, from: data) {
            return [SalesforceError(code: .init(oauth.error), message: oauth.errorDescription ?? "", httpStatus: status)]
        }
        return [
            SalesforceError(
                code: .unknown, message: "HTTP \(status) without a Salesforce error body", httpStatus: status)
        ]
    }

    /// The first error of an error response: the one callers route on.
    static func first(status: Int, data: Data) -> SalesforceError {
        // `decode` never returns an empty list.
        decode(status: status, data: data).first
            ?? SalesforceError(code: .unknown, message: "HTTP \(status)", httpStatus: status)
    }

    /// Maps a transport failure of the HTTP layer. Cancellation is not mapped (callers rethrow
    /// `CancellationError`).
    init(transport error: HTTPClientError) {
        switch error.code {
        case .timeout:
            self.init(code: .timeout, message: "the request to Salesforce timed out")
        case .connectFailed:
            self.init(code: .connectFailed, message: "could not connect to Salesforce: \(error.message)")
        case .connectionLost:
            self.init(code: .connectionLost, message: "the connection to Salesforce broke: \(error.message)")
        case .tls:
            // A handshake can fail for a moment (a connection reset mid-handshake, a front being replaced); a
            // certificate that does not verify keeps failing and is parked once the retries are used up.
            self.init(
                code: .transportFailed, message: "TLS failure talking to Salesforce: \(error.message)",
                classification: .retryable)
        case .invalidRequest:
            self.init(
                code: .invalidArgument, message: "the request could not be sent: \(error.message)",
                classification: .permanent)
        default:
            self.init(code: .transportFailed, message: "transport failure (\(error.code)): \(error.message)")
        }
    }

    static func invalidArgument(_ message: String) -> SalesforceError {
        SalesforceError(code: .invalidArgument, message: message, classification: .permanent)
    }

    /// A wait of the client's own ran out (a session store call, another process's refresh): retryable.
    static func timedOut(_ message: String) -> SalesforceError {
        SalesforceError(code: .timeout, message: message, classification: .retryable)
    }

    static func invalidResponse(_ message: String, httpStatus: Int?) -> SalesforceError {
        SalesforceError(code: .invalidResponse, message: message, httpStatus: httpStatus, classification: .permanent)
    }
}
