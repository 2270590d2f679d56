import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The Salesforce sandbox: an in-memory org served over HTTP with Salesforce's REST wire format.
///
/// ```swift
/// let sandbox = try await SalesforceSandbox.start(configuration: .init(port: 0, seed: .demo))
/// defer { Task { await sandbox.shutdown() } }  // or run it in a `ServiceGroup`: it is a `Service`
/// let token = try await sandbox.org.issueAccessToken()
/// // GET \(sandbox.baseURL)/services/data/v62.0/query?q=SELECT+Id+FROM+Lead
/// ```
public final class SalesforceSandbox: Sendable {
    /// Where to listen and what to load.
    public struct Configuration: Sendable {
        /// Interface to bind (loopback by default).
        public var host: String
        /// Port to bind; 0 picks a free one (see ``SalesforceSandbox/port``).
        public var port: Int
        /// The org to start with.
        public var seed: SandboxSeed
        /// Logger for the server (default: one at `critical`, since cancelling the server at shutdown logs errors).
        public var logger: Logger?

        /// A configuration; `port: 0` picks a free port.
        public init(host: String = "127.0.0.1", port: Int = 0, seed: SandboxSeed = .demo, logger: Logger? = nil) {
            self.host = host
            self.port = port
            self.seed = seed
            self.logger = logger
        }
    }

    /// The in-memory org (records, tokens, faults, request log).
    public let org: SandboxOrg
    /// The bound port.
    public let port: Int
    /// `http://host:port`, the `instance_url` of the org.
    public let baseURL: String
    private let runTask: Task<Void, any Error>
    private let stopping: Stopping

    private init(org: SandboxOrg, port: Int, baseURL: String, runTask: Task<Void, any Error>, stopping: Stopping) {
        self.org = org
        self.port = port
        self.baseURL = baseURL
        self.runTask = runTask
        self.stopping = stopping
    }

    /// Starts a sandbox and returns once it listens.
    public static func start(configuration: Configuration = Configuration()) async throws -> SalesforceSandbox {
        let org = try SandboxOrg(seed: configuration.seed)
        let stopping = Stopping()
        var logger = configuration.logger ?? Logger(label: "salesforce-sandbox")
        if configuration.logger == nil { logger.logLevel = .critical }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let responder = CallbackResponder<SandboxRequestContext> { request, context in
            try await Self.respond(to: request, context: context, org: org, stopping: stopping)
        }
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        let task = Task {
            defer { continuation.finish() }
            try await app.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            if case .failure(let error) = await task.result { throw error }
            throw SandboxStartError(message: "the server stopped before listening on \(configuration.host):\(configuration.port)")
        }
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        let baseURL = "http://\(host):\(port)"
        await org.setBaseURL(baseURL)
        return SalesforceSandbox(org: org, port: port, baseURL: baseURL, runTask: task, stopping: stopping)
    }

    /// Stops listening, releases hanging requests and waits for the server to finish.
    public func shutdown() async {
        stopping.stop()
        runTask.cancel()
        _ = await runTask.result
    }


    // MARK: HTTP glue

    static func respond(to request: Request, context: SandboxRequestContext, org: SandboxOrg, stopping: Stopping) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 32 << 20)
        // Kept percent-encoded: routes split it on "/" first and decode each segment, as Salesforce does
        // (an external id may contain an encoded slash).
        let path = request.uri.path
        let sreq = SandboxHTTPRequest(
            method: request.method.rawValue, path: path, query: SandboxHTTPRequest.parseForm(request.uri.query ?? ""),
            headers: request.headers.map { (name: $0.name.rawName, value: $0.value) }, body: Data(buffer.readableBytesView))
        if path == SandboxOrg.controlPrefix || path.hasPrefix(SandboxOrg.controlPrefix + "/") {
            return makeResponse(await org.control(sreq))
        }
        let decision = await org.decideFault(method: sreq.method, path: path)
        if decision.latency > .zero { try? await Task.sleep(for: decision.latency) }
        switch decision.fault {
        case .dropConnection?:
            await org.logUnanswered(sreq, fault: .dropConnection)
            try? await context.channel.close()
            throw SandboxConnectionClosed()
        case .hang?:
            await org.logUnanswered(sreq, fault: .hang)
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: decision.hang)
            while clock.now < deadline, !stopping.isStopping, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(20))
            }
            try? await context.channel.close()
            throw SandboxConnectionClosed()
        case .duplicateValue?:
            _ = await org.handle(sreq)
            return makeResponse(await org.faultResponse(.duplicateValue, for: sreq))
        case let kind?:
            return makeResponse(await org.faultResponse(kind, for: sreq))
        case nil:
            return makeResponse(await org.handle(sreq))
        }
    }

    static func makeResponse(_ r: SandboxHTTPResponse) -> Response {
        var fields = HTTPFields()
        for h in r.headers {
            if let name = HTTPFields.Element.Name(h.name) { fields.append(HTTPFields.Element(name: name, value: h.value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: r.status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: r.body)))
    }
}

/// The sandbox could not start.
public struct SandboxStartError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    /// Same as ``message``.
    public var description: String { message }
}

/// Thrown after the channel was closed on purpose, so no response is written.
struct SandboxConnectionClosed: Error {}

/// Set once at shutdown; polled by hanging requests.
final class Stopping: Sendable {
    private let flag = Atomic<Bool>(false)
    func stop() { flag.store(true, ordering: .relaxed) }
    var isStopping: Bool { flag.load(ordering: .relaxed) }
}

extension SalesforceSandbox: Service {
    /// Serves until graceful shutdown or cancellation, then stops as ``shutdown()`` does. Throws when the server
    /// failed by itself.
    public func run() async throws {
        let result = await withTaskCancellationOrGracefulShutdownHandler {
            await runTask.result
        } onCancelOrGracefulShutdown: { [stopping, runTask] in
            stopping.stop()
            runTask.cancel()
        }
        if case .failure(let error) = result, !stopping.isStopping { throw error }
    }
}

/// Request context that keeps the connection's channel, so a fault can close it without a response.
struct SandboxRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
