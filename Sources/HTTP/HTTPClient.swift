import Foundation
import Logging
import Synchronization

/// An HTTP/1.1 client on libcurl's multi interface.
///
/// One dedicated thread drives every transfer of the client; `execute` only enqueues a request and
/// suspends on a continuation, so the cooperative pool is never blocked, however many requests are in
/// flight. Connections are pooled and reused per host by libcurl. TLS verification is always on; a CA
/// file can be added for private CAs.
///
/// ```swift
/// try await withHTTPClient { client in
///     let response = try await client.execute(HTTPRequest(url: "https://example.org/"))
/// }
/// ```
public final class HTTPClient: Sendable {
    /// Client-wide settings.
    public struct Configuration: Sendable {
        /// The limit for a request that sets none itself.
        public var defaultTimeout: Duration
        /// Connection establishment limit (TCP + TLS).
        public var connectTimeout: Duration
        /// A PEM bundle of extra trusted CAs; `nil` uses the system's.
        public var caFile: String?
        /// Upper bound on open connections per host (0: no limit).
        public var maxConnectionsPerHost: Int
        /// Sent as `User-Agent` when a request sets none.
        public var userAgent: String
        /// Largest response body accepted; a larger one fails the request.
        public var maxResponseBytes: Int

        public init(
            defaultTimeout: Duration = .seconds(30),
            connectTimeout: Duration = .seconds(10),
            caFile: String? = nil,
            maxConnectionsPerHost: Int = 0,
            userAgent: String = "docsend-sync",
            maxResponseBytes: Int = 64 << 20
        ) {
            self.defaultTimeout = defaultTimeout
            self.connectTimeout = connectTimeout
            self.caFile = caFile
            self.maxConnectionsPerHost = maxConnectionsPerHost
            self.userAgent = userAgent
            self.maxResponseBytes = maxResponseBytes
        }
    }

    public let configuration: Configuration
    private let engine: CurlMultiEngine

    /// Starts the client's transfer thread.
    public init(configuration: Configuration = .init(), logger: Logger = Logger(label: "docsend-sync.http")) throws {
        self.configuration = configuration
        self.engine = try CurlMultiEngine(configuration: configuration, logger: logger)
    }

    /// Sends `request` and returns the complete response. Any HTTP status is a response; only transport
    /// failures throw ``HTTPClientError``. Cancelling the calling task aborts the transfer.
    public func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await engine.execute(request)
    }

    /// Fails what is in flight with ``HTTPClientError/Code/shutdown`` and stops the transfer thread.
    /// Idempotent.
    public func shutdown() {
        engine.shutdown()
    }

    deinit { engine.shutdown() }
}

/// Runs `body` with a client that is shut down when `body` returns or throws.
public func withHTTPClient<Result>(
    configuration: HTTPClient.Configuration = .init(),
    logger: Logger = Logger(label: "docsend-sync.http"),
    _ body: (HTTPClient) async throws -> Result
) async throws -> Result {
    let client = try HTTPClient(configuration: configuration, logger: logger)
    defer { client.shutdown() }
    return try await body(client)
}
