import AMQP

/// The headers a worker sets on a message it sends to a retry tier or to the parking queue.
///
/// A re-published message carries only what the fleet owns (``republished(_:)``): every other header, the
/// broker's `x-` headers included (RabbitMQ would otherwise take the message's trip through a tier for a
/// dead-letter cycle and drop it), and the producer's `expiration`, `priority`, `user_id`, `reply_to` … are left
/// behind, so that a parked message stays until an operator acts on it.
public enum WorkHeaders {
    /// How many times handling the message failed (an integer, 1 after the first failure).
    public static let attempts = "docsend-attempts"
    /// The last failure's stable code, e.g. `contract_violation.missing_key`, `salesforce.INVALID_FIELD`.
    public static let failureCode = "docsend-failure-code"
    /// The last failure, in words (at most ``reasonLimit`` UTF-16 units).
    public static let failureReason = "docsend-failure-reason"
    /// How long a failure reason may be.
    public static let reasonLimit = 1000
    /// When it failed (RFC 3339, UTC).
    public static let failedAt = "docsend-failed-at"
    /// The work queue the message came from: where a replay sends it back.
    public static let originQueue = "docsend-origin-queue"

    /// The most attempts a message is taken to have had: a larger (or hostile) header value counts as this.
    public static let maximumAttempts = 1_000

    /// The failed attempts a message's headers record: 0 when the header is missing, not an integer, or not
    /// positive; never more than ``maximumAttempts`` (a producer may send any value, `Int64.max` included).
    public static func attempts(in headers: [String: AMQPValue]) -> Int {
        guard case .int(let value)? = headers[attempts], value > 0 else { return 0 }
        return Int(min(value, Int64(maximumAttempts)))
    }

    /// The properties a retried or parked copy of a message carries: the contract's (`content_type`,
    /// `message_id`, `type`, `timestamp`, `app_id`), persistent, and the fleet's own `docsend-` headers. Nothing else
    /// a producer set survives: no `expiration` (a parked message would vanish), `priority`, `user_id`,
    /// `reply_to`, `correlation_id` or foreign header.
    public static func republished(_ properties: AMQPProperties) -> AMQPProperties {
        AMQPProperties(
            contentType: properties.contentType,
            headers: properties.headers.filter { $0.key.hasPrefix("docsend-") }, persistent: true,
            messageID: properties.messageID, timestamp: properties.timestamp, type: properties.type,
            appID: properties.appID)
    }
}
