/// The one error type of the AMQP module.
///
/// Broker refusals carry the broker's reply code and text (for example `404` / `NOT_FOUND - no queue
/// 'x' in vhost '/'`); library failures carry rabbitmq-c's status text.
public struct AMQPError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case connectionFailed, connectionClosed, channelClosed, unroutable, nacked, timeout, invalidURL,
                invalidArgument, closed, library
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The broker could not be reached, or refused the login.
        public static let connectionFailed = Code(.connectionFailed)
        /// The broker closed the connection (reply code and text say why), or it broke.
        public static let connectionClosed = Code(.connectionClosed)
        /// The broker closed a channel because of an operation on it (reply code and text say why).
        public static let channelClosed = Code(.channelClosed)
        /// A mandatory message was returned: no queue is bound for its routing key.
        public static let unroutable = Code(.unroutable)
        /// The broker refused to take responsibility for a published message (`basic.nack`).
        public static let nacked = Code(.nacked)
        /// The operation did not finish in time.
        public static let timeout = Code(.timeout)
        /// The broker URL could not be understood.
        public static let invalidURL = Code(.invalidURL)
        /// An argument was out of range.
        public static let invalidArgument = Code(.invalidArgument)
        /// The connection was closed by its owner.
        public static let closed = Code(.closed)
        /// rabbitmq-c reported a failure of its own.
        public static let library = Code(.library)

        public var description: String { "\(value)" }
    }

    public let code: Code
    /// The broker's AMQP reply code (e.g. 312 NO_ROUTE, 404 NOT_FOUND, 406 PRECONDITION_FAILED), if it sent one.
    public let replyCode: UInt16?
    public let message: String

    public init(code: Code, replyCode: UInt16? = nil, message: String) {
        self.code = code
        self.replyCode = replyCode
        self.message = message
    }

    public var description: String {
        if let replyCode { return "AMQP \(code) (\(replyCode)): \(message)" }
        return "AMQP \(code): \(message)"
    }
}
