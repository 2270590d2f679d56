import Foundation

/// An HTTP method. Extensible: any token is accepted.
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue.uppercased() }

    public static let get = HTTPMethod(rawValue: "GET")
    public static let head = HTTPMethod(rawValue: "HEAD")
    public static let post = HTTPMethod(rawValue: "POST")
    public static let put = HTTPMethod(rawValue: "PUT")
    public static let patch = HTTPMethod(rawValue: "PATCH")
    public static let delete = HTTPMethod(rawValue: "DELETE")

    public var description: String { rawValue }
}

/// Ordered, case-insensitive HTTP header fields. Repeated names are kept.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}
    public init(_ fields: [(String, String)]) { self.fields = fields.map { (name: $0.0, value: $0.1) } }
    public init(dictionaryLiteral elements: (String, String)...) { self.init(elements) }

    /// The first value for `name`, compared case-insensitively.
    public subscript(name: String) -> String? {
        get { fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value }
        set {
            fields.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
            if let newValue { fields.append((name: name, value: newValue)) }
        }
    }

    public mutating func add(name: String, value: String) { fields.append((name: name, value: value)) }

    public func makeIterator() -> some IteratorProtocol<(name: String, value: String)> { fields.makeIterator() }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// A request for ``HTTPClient/execute(_:)``.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// An absolute `http://` or `https://` URL.
    public var url: String
    public var headers: HTTPHeaders
    public var body: Data?
    /// The whole transfer's limit (connect, send, wait, receive). `nil` uses the client's default.
    public var timeout: Duration?

    public init(
        method: HTTPMethod = .get, url: String, headers: HTTPHeaders = [:], body: Data? = nil,
        timeout: Duration? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// A complete response: status, headers of the final response, and the whole body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data

    public init(status: Int, headers: HTTPHeaders, body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// The one error type of the HTTP module. Transport failures only: any HTTP status, 4xx and 5xx
/// included, is a successful ``HTTPResponse``.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case timeout, connectFailed, tls, connectionLost, invalidRequest, cancelled, shutdown, other
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The request did not complete within its timeout.
        public static let timeout = Code(.timeout)
        /// The server could not be reached (refused, unreachable, name not resolved).
        public static let connectFailed = Code(.connectFailed)
        /// TLS handshake or certificate verification failed.
        public static let tls = Code(.tls)
        /// The connection broke before a complete response arrived.
        public static let connectionLost = Code(.connectionLost)
        /// The request could not be sent as given (bad URL, bad option).
        public static let invalidRequest = Code(.invalidRequest)
        /// The calling task was cancelled.
        public static let cancelled = Code(.cancelled)
        /// The client was shut down.
        public static let shutdown = Code(.shutdown)
        public static let other = Code(.other)

        public var description: String { "\(value)" }
    }

    public let code: Code
    /// libcurl's own description of what went wrong, when it said one.
    public let message: String
    public let url: String

    public init(code: Code, message: String, url: String) {
        self.code = code
        self.message = message
        self.url = url
    }

    public var description: String { "HTTP \(code) for \(url): \(message)" }
}
