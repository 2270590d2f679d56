import AMQP
import Foundation
import Logging

/// The private broker `scripts/test` starts, described by environment variables; shared by every test
/// target that talks to RabbitMQ.
public enum TestBroker {
    public static let environment = ProcessInfo.processInfo.environment
    public static let url = environment["DOCSEND_TEST_AMQP_URL"]
    public static let tlsURL = environment["DOCSEND_TEST_AMQPS_URL"]
    public static let caFile = environment["DOCSEND_TEST_AMQP_CA_FILE"]
    public static let node = environment["DOCSEND_TEST_RABBITMQ_NODE"]

    /// Broker tests run when a broker is described, and fail (rather than skip) when `scripts/test`
    /// says one must be there.
    public static let isAvailable = url != nil || environment["DOCSEND_TEST_REQUIRE_SERVICES"] == "1"

    public static func configuration(heartbeat: Int = 30, name: String = #function) throws -> AMQPConfiguration {
        var configuration = try AMQPConfiguration(url: url ?? "amqp://guest:guest@127.0.0.1:5672/")
        configuration.heartbeat = heartbeat
        configuration.connectionName = "docsend-sync tests: \(name)"
        return configuration
    }

    public static func connect(heartbeat: Int = 30, name: String = #function) async throws -> AMQPConnection {
        try await AMQPConnection.connect(configuration(heartbeat: heartbeat, name: name), logger: logger)
    }

    /// A logger that drops everything, for connections under test.
    public static let logger = Logger(label: "docsend-sync.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A queue name no other test uses.
    public static func uniqueName(_ prefix: String = #function) -> String {
        let cleaned = prefix.filter { $0.isLetter || $0.isNumber }
        return "test.\(cleaned).\(UUID().uuidString.prefix(8))"
    }

    /// Runs `rabbitmqctl` against the private node; returns its exit status and output.
    public static func runRabbitmqctl(_ arguments: [String]) throws -> (status: Int32, output: String) {
        guard let node else { throw TestFailure("DOCSEND_TEST_RABBITMQ_NODE is not set") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["rabbitmqctl", "-n", node, "-q"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, text)
    }

    /// Starts the node's RabbitMQ application again (after `stop_app`) and waits until it takes new quorum queues:
    /// right after `start_app` a queue declaration can still fail with `INTERNAL_ERROR` while the quorum-queue
    /// system comes up, which failed the next test's topology once in CI.
    public static func startApp(timeout: Duration = .seconds(60)) async throws {
        try rabbitmqctl("start_app")
        try rabbitmqctl("await_startup")
        let probe = uniqueName("startupprobe")
        try await eventually(timeout: timeout, "the broker taking new quorum queues") {
            guard let connection = try? await connect(name: "startup probe") else { return false }
            var declared = true
            do {
                try await connection.declare(
                    Topology(queues: [.init(name: probe, arguments: ["x-queue-type": "quorum"])]), redeclareOnReconnect: false)
                try await connection.deleteQueue(probe)
            } catch {
                declared = false
            }
            await connection.close()
            return declared
        }
    }

    /// Runs `rabbitmqctl` against the private node; throws with its output when it fails.
    @discardableResult
    public static func rabbitmqctl(_ arguments: String...) throws -> String {
        let result = try runRabbitmqctl(arguments)
        guard result.status == 0 else {
            throw TestFailure("rabbitmqctl \(arguments.joined(separator: " ")) failed: \(result.output)")
        }
        return result.output
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Waits until `condition` holds, polling; fails after `timeout`.
public func eventually(
    timeout: Duration = .seconds(20), _ what: String, _ condition: () async throws -> Bool
) async throws {
    try await eventually(timeout: timeout, what) { try await condition() ? () : nil }
}

/// Polls `value` until it gives something, for at most `timeout`; returns it.
public func eventually<Value>(
    timeout: Duration = .seconds(20), _ what: String, _ value: () async throws -> Value?
) async throws -> Value {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let found = try await value() { return found }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("timed out waiting for: \(what)")
}
