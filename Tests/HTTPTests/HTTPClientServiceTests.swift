import Foundation
import HTTP
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TestSupport

@Suite("HTTPClient as a Service", .timeLimit(.minutes(1)))
struct HTTPClientServiceTests {
    @Test("In a ServiceGroup, graceful shutdown shuts the client down; later requests fail with .shutdown")
    func gracefulShutdown() async throws {
        try await withTestServer { base in
            let client = try HTTPClient(logger: testLogger)
            let group = ServiceGroup(configuration: .init(services: [client], logger: testLogger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let response = try await client.execute(HTTPRequest(url: "\(base)/echo/1"))
                #expect(response.status == 200)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            let error = await #expect(throws: HTTPClientError.self) {
                _ = try await client.execute(HTTPRequest(url: "\(base)/echo/2"))
            }
            #expect(error?.code == .shutdown)
        }
    }

    @Test("A request in flight when the group shuts the client down fails with .shutdown at once")
    func inFlightRequestFailsClearly() async throws {
        try await withTestServer { base in
            let client = try HTTPClient(logger: testLogger)
            let group = ServiceGroup(configuration: .init(services: [client], logger: testLogger))
            let arrivedBefore = hangArrivals.load(ordering: .relaxed)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let request = Task { try await client.execute(HTTPRequest(url: "\(base)/hang", timeout: .seconds(60))) }
                let deadline = ContinuousClock.now + .seconds(20)
                while hangArrivals.load(ordering: .relaxed) == arrivedBefore, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(hangArrivals.load(ordering: .relaxed) > arrivedBefore, "the request reached the server")
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                // The server answers after 30 s and the suite's limit is 1 minute: only the shutdown ends it early.
                let error = await #expect(throws: HTTPClientError.self) { _ = try await request.value }
                #expect(error?.code == .shutdown)
                #expect(error?.message == "the client was shut down")
            }
        }
    }

    @Test("shutdown() is awaited from async code, is idempotent, and ends the service's run()")
    func shutdownEndsRun() async throws {
        let client = try HTTPClient(logger: testLogger)
        let running = Task { await client.run() }
        await client.shutdown()
        await running.value
        await client.shutdown()
        let error = await #expect(throws: HTTPClientError.self) {
            _ = try await client.execute(HTTPRequest(url: "http://127.0.0.1:9/"))
        }
        #expect(error?.code == .shutdown)
    }

    @Test("Cancelling the service's task shuts the client down")
    func cancellationShutsDown() async throws {
        let client = try HTTPClient(logger: testLogger)
        let running = Task { await client.run() }
        running.cancel()
        await running.value
        let error = await #expect(throws: HTTPClientError.self) {
            _ = try await client.execute(HTTPRequest(url: "http://127.0.0.1:9/"))
        }
        #expect(error?.code == .shutdown)
    }

    @Test("The client logs below info, with constant messages and http- metadata keys only")
    func loggingContract() async throws {
        let recording = RecordingLogHandler.Recording()
        try await withTestServer { base in
            try await withHTTPClient(logger: recording.logger()) { client in
                _ = try await client.execute(HTTPRequest(url: "\(base)/echo/7"))
                _ = try await client.execute(HTTPRequest(url: "\(base)/status/503"))
            }
        }
        let records = recording.all
        #expect(!records.isEmpty, "the client logs its shutdown at debug")
        #expect(records.allSatisfy { $0.level < .info })
        #expect(records.allSatisfy { $0.metadata.keys.allSatisfy { $0.hasPrefix("http-") } })
    }
}
