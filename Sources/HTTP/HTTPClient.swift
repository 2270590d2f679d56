import Foundation
import Logging
import ServiceLifecycle

/// An HTTP/1.1 client on libcurl's multi interface.
///
/// One dedicated thread drives every transfer of the client; `execute` only enqueues a request and
/// suspends on a continuation, so the cooperative pool is never blocked, however many requests are in
/// flight. Connections are pooled and reused per host by libcurl. TLS verification is always on; a CA
/// file can be added for private CAs.
///
/// ```swift
/// try await withHTTPClient(logger: logger) { client in
///     let response = try await client.execute(HTTPRequest(url: "https://example.org/"))
/// }
/// ```
///
/// ## Lifetime
///
/// The client is a `Service`: in a `ServiceGroup`, put it before the services that use it, and the group
/// shuts it down (``run()`` returns) after those have stopped. Without a group, scope it with
/// ``withHTTPClient(configuration:logger:_:)`` or call ``shutdown()``.
///
/// ## Logging
///
/// The client logs with the logger it was given, at `debug` only, with constant messages and `http-`
/// metadata keys. Transport failures are the caller's to log: they come back as ``HTTPClientError``.
public final class HTTPClient: Sendable {
    /// Client-wide settings.
    public struct Configuration: Sendable {
        /// The limit for a request that sets none itself.
        public var defaultTimeout: Duration
        /// Connection establishment limit (TCP + TLS).
        public var connectTimeout: Duration
        /// A PEM bundle of extra trusted CAs; `nil` uses the system's.
        public var caFile: String?
        /// Sent as `User-Agent` when a request sets none.
        public var userAgent: String
        /// Largest response body accepted; a larger one fails the request.
        public var maxResponseBytes: Int

        public init(
            defaultTimeout: Duration = .seconds(30),
            connectTimeout: Duration = .seconds(10),
            caFile: String? = nil,
            userAgent: String = "docsend-sync",
            maxResponseBytes: Int = 64 << 20
        ) {
            self.defaultTimeout = defaultTimeout
            self.connectTimeout = connectTimeout
            self.caFile = caFile
            self.userAgent = userAgent
            self.maxResponseBytes = maxResponseBytes
        }
    }

    public let configuration: Configuration
    private let engine: CurlMultiEngine

    /// Starts the client's transfer thread; the client logs to `logger` for its whole life.
    public init(configuration: Configuration = .init(), logger: Logger) throws {
        self.configuration = configuration
        self.engine = try CurlMultiEngine(configuration: configuration, logger: logger)
    }

    /// Sends `request` and returns the complete response. Any HTTP status is a response; only transport
    /// failures throw ``HTTPClientError``. Cancelling the calling task aborts the transfer.
    public func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await engine.execute(request)
    }

    /// Fails what is in flight with ``HTTPClientError/Code/shutdown``, stops the transfer thread and returns
    /// once it has stopped. Later requests fail with ``HTTPClientError/Code/shutdown`` too. Idempotent.
    public func shutdown() async {
        engine.requestShutdown()
        await engine.waitUntilStopped()
    }

    // The thread keeps the engine alive until it has stopped; nothing here waits for it.
    deinit { engine.requestShutdown() }
}

extension HTTPClient: Service {
    /// Keeps the client for a `ServiceGroup`. When graceful shutdown is triggered or the task is cancelled,
    /// shuts it down as ``shutdown()`` does and returns (a request still in flight then fails with
    /// ``HTTPClientError/Code/shutdown``); returns as well when someone else shut it down.
    public func run() async {
        await withTaskCancellationOrGracefulShutdownHandler {
            await engine.waitUntilStopped()
        } onCancelOrGracefulShutdown: { [engine] in
            engine.requestShutdown()
        }
    }
}

/// Runs `body` with a client that is shut down when `body` returns or throws.
public func withHTTPClient<Result>(
    configuration: HTTPClient.Configuration = .init(),
    logger: Logger,
    _ body: (HTTPClient) async throws -> Result
) async throws -> Result {
    let client = try HTTPClient(configuration: configuration, logger: logger)
    let result: Result
    do {
        result = try await body(client)
    } catch {
        await client.shutdown()
        throw error
    }
    await client.shutdown()
    return result
}
