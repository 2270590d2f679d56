import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// A worker process's HTTP listener for its operators and its orchestrator:
///
/// - `GET /metrics`: the process's metrics in Prometheus' text format;
/// - `GET /healthz`: `200 ok` while the process runs (a liveness probe);
/// - `GET /readyz`: `200 ready` when every readiness check passes, else `503` with one line per failing check (a
///   readiness probe: the broker connected, every consumer running, the store answering).
///
/// Anything else is `404`; a method other than GET or HEAD is `405`. Request bodies are never read.
public struct MonitoringServer: Service {
    /// Where it listens (`metrics.host`, `metrics.port`; port 0 picks a free port).
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int

        public init(host: String = "0.0.0.0", port: Int = 9400) {
            self.host = host
            self.port = port
        }
    }

    /// The metrics, rendered in Prometheus' text format.
    public typealias Metrics = @Sendable () -> [UInt8]
    /// The readiness checks that fail right now, each in words; none means ready.
    public typealias Readiness = @Sendable () async -> [String]

    let configuration: Configuration
    let metrics: Metrics
    let readiness: Readiness
    let onListening: @Sendable (Int) -> Void
    let logger: Logger

    /// A server of `metrics` and `readiness`; `onListening` gets the bound port once it listens.
    public init(
        configuration: Configuration, metrics: @escaping Metrics, readiness: @escaping Readiness,
        onListening: @escaping @Sendable (Int) -> Void = { _ in }, logger: Logger
    ) {
        self.configuration = configuration
        self.metrics = metrics
        self.readiness = readiness
        self.onListening = onListening
        self.logger = logger
    }

    public func run() async throws {
        let responder = CallbackResponder<BasicRequestContext> { [metrics, readiness] request, _ in
            await Self.respond(to: request, metrics: metrics, readiness: readiness)
        }
        let host = configuration.host
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: nil),
            onServerRunning: { [logger, onListening] channel in
                let port = channel.localAddress?.port ?? 0
                logger.info(
                    "serving metrics and health checks",
                    metadata: [
                        "docsend-url": "\(Self.localURL(host: host, port: port))", "docsend-paths": "/metrics /healthz /readyz",
                    ])
                onListening(port)
            },
            logger: logger)
        try await app.run()
    }

    /// `http://HOST:PORT` of a listener bound to `host` (a wildcard address shown as loopback), for the log line
    /// scripts and tests read (`docsend-url=`).
    package static func localURL(host: String, port: Int) -> String {
        let shown = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host.contains(":") ? "[\(host)]" : host
        return "http://\(shown):\(port)"
    }

    static func respond(to request: Request, metrics: Metrics, readiness: Readiness) async -> Response {
        guard request.method == .get || request.method == .head else {
            return text(.methodNotAllowed, "only GET and HEAD\n", extra: [.allow: "GET, HEAD"])
        }
        switch request.uri.path {
        case "/metrics":
            var response = Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics())))
            response.headers[.cacheControl] = "no-store"
            return response
        case "/healthz":
            return text(.ok, "ok\n")
        case "/readyz":
            let failing = await readiness()
            return failing.isEmpty ? text(.ok, "ready\n") : text(.serviceUnavailable, failing.map { $0 + "\n" }.joined())
        default:
            return text(.notFound, "not found: /metrics, /healthz and /readyz are served here\n")
        }
    }

    static func text(_ status: HTTPResponse.Status, _ body: String, extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
