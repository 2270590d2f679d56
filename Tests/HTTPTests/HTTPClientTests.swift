import Foundation
import HTTP
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Drops everything the client logs.
let testLogger = Logger(label: "http-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// A request context that remembers the client's port, so tests can tell reused connections apart.
struct PeerContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let peerPort: Int?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerPort = source.channel.remoteAddress?.port
    }
}

/// How many requests reached the test server's `/hang` (which answers after 30 s): a test that sees the
/// count go up knows its request is in flight.
let hangArrivals = Atomic<Int>(0)

/// Runs `body` against a local Hummingbird server with a few test routes.
func withTestServer(_ body: @Sendable (String) async throws -> Void) async throws {
    let router = Router(context: PeerContext.self)
    router.get("/echo/:id") { _, context in
        try await Task.sleep(for: .milliseconds(50))
        return "echo \(context.parameters.get("id") ?? "")"
    }
    router.on("/inspect", method: .patch) { request, _ -> Response in
        let body = try await request.body.collect(upTo: 1 << 20)
        let text = "\(request.method) \(request.headers[.init("X-Trace")!] ?? "-") \(String(buffer: body))"
        return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
    router.get("/status/:code") { _, context -> Response in
        let code = Int(context.parameters.get("code") ?? "") ?? 500
        return Response(status: .init(code: code), headers: [.init("X-Reason")!: "asked"], body: .init(byteBuffer: ByteBuffer(string: "status \(code)")))
    }
    router.get("/peer") { _, context in "\(context.peerPort ?? -1)" }
    router.get("/big") { _, _ in String(repeating: "x", count: 200_000) }
    router.get("/hang") { _, _ in
        hangArrivals.add(1, ordering: .relaxed)
        try await Task.sleep(for: .seconds(30))
        return "late"
    }
    router.get("/slow") { _, _ in
        try await Task.sleep(for: .seconds(30))
        return "late"
    }

    let port = Mutex<Int?>(nil)
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } },
        logger: {
            var logger = Logger(label: "test-server")
            logger.logLevel = .critical  // cancelling the server at the end of a test is expected
            return logger
        }())
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.runService() }
        // Generous: on a loaded machine, many servers start at once.
        let deadline = ContinuousClock.now + .seconds(60)
        while port.withLock({ $0 }) == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let bound = try #require(port.withLock { $0 })
        try await body("http://127.0.0.1:\(bound)")
        group.cancelAll()
    }
}

/// A TCP listener that accepts connections (in the kernel's backlog) and never answers.
final class SilentServer {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw HTTPClientError(code: .other, message: "could not listen on loopback", url: "")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}

@Suite("HTTP client on libcurl")
struct HTTPClientTests {
    @Test("200 concurrent requests from one process all complete")
    func concurrentRequests() async throws {
        try await withTestServer { base in
            try await withHTTPClient(logger: testLogger) { client in
                let bodies = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                    for index in 0..<200 {
                        group.addTask {
                            let response = try await client.execute(HTTP.HTTPRequest(url: "\(base)/echo/\(index)", timeout: .seconds(30)))
                            #expect(response.status == 200)
                            return (index, String(decoding: response.body, as: UTF8.self))
                        }
                    }
                    return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
                }
                #expect(bodies.count == 200)
                #expect(bodies.allSatisfy { $0.value == "echo \($0.key)" })
            }
        }
    }

    @Test("A request to a server that never answers fails at its timeout")
    func timeout() async throws {
        let server = try SilentServer()
        try await withHTTPClient(logger: testLogger) { client in
            let started = ContinuousClock.now
            let error = await #expect(throws: HTTPClientError.self) {
                _ = try await client.execute(HTTP.HTTPRequest(url: "http://127.0.0.1:\(server.port)/", timeout: .milliseconds(700)))
            }
            let elapsed = ContinuousClock.now - started
            #expect(error?.code == .timeout)
            #expect(elapsed >= .milliseconds(650))
            #expect(elapsed < .seconds(10))
        }
    }

    @Test("Method, headers and body reach the server; any status is a response, with its headers")
    func requestAndResponse() async throws {
        try await withTestServer { base in
            try await withHTTPClient(logger: testLogger) { client in
                let patched = try await client.execute(
                    HTTP.HTTPRequest(method: .patch, url: "\(base)/inspect", headers: ["X-Trace": "t-1"], body: Data("payload".utf8)))
                #expect(String(decoding: patched.body, as: UTF8.self) == "PATCH t-1 payload")
                #expect(patched.headers["content-type"] == "text/plain")

                let failed = try await client.execute(HTTP.HTTPRequest(url: "\(base)/status/503"))
                #expect(failed.status == 503)
                #expect(failed.headers["x-reason"] == "asked")
                #expect(String(decoding: failed.body, as: UTF8.self) == "status 503")
            }
        }
    }

    @Test("Sequential requests to one host reuse the connection")
    func connectionReuse() async throws {
        try await withTestServer { base in
            try await withHTTPClient(logger: testLogger) { client in
                var ports = Set<String>()
                for _ in 0..<5 {
                    let response = try await client.execute(HTTP.HTTPRequest(url: "\(base)/peer"))
                    ports.insert(String(decoding: response.body, as: UTF8.self))
                }
                #expect(ports.count == 1)
            }
        }
    }

    @Test("A refused connection, a cancelled task and an oversized body fail with their own codes")
    func failures() async throws {
        let closedPort = try SilentServer().port  // listener closed again when the value goes away
        try await withTestServer { base in
            try await withHTTPClient(configuration: .init(maxResponseBytes: 100_000), logger: testLogger) { client in
                let refused = await #expect(throws: HTTPClientError.self) {
                    _ = try await client.execute(HTTP.HTTPRequest(url: "http://127.0.0.1:\(closedPort)/"))
                }
                #expect(refused?.code == .connectFailed)

                let task = Task { try await client.execute(HTTP.HTTPRequest(url: "\(base)/slow")) }
                try await Task.sleep(for: .milliseconds(200))
                task.cancel()
                let cancelled = await #expect(throws: HTTPClientError.self) { _ = try await task.value }
                #expect(cancelled?.code == .cancelled)

                let tooBig = await #expect(throws: HTTPClientError.self) {
                    _ = try await client.execute(HTTP.HTTPRequest(url: "\(base)/big"))
                }
                #expect(tooBig?.message.contains("100000") == true)

                let malformed = await #expect(throws: HTTPClientError.self) {
                    _ = try await client.execute(HTTP.HTTPRequest(url: "ftp://127.0.0.1/file"))
                }
                #expect(malformed?.code == .invalidRequest)
                // Header injection is refused before anything is sent.
                await #expect(throws: HTTPClientError.self) {
                    _ = try await client.execute(HTTP.HTTPRequest(url: "\(base)/peer", headers: ["X-Evil": "a\r\nInjected: 1"]))
                }
            }
        }
    }
}
