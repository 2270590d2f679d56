import ArgumentParser
import Foundation
import Logging
import SalesforceSandbox
import ServiceLifecycle

/// `salesforce-sandbox`: serve an in-memory Salesforce org over HTTP on loopback.
@main
struct SalesforceSandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "salesforce-sandbox",
        abstract: "A Salesforce REST/OAuth emulator with fault injection (control routes under /_sandbox).")

    @Option(help: "Interface to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind; 0 picks a free port (printed on start).")
    var port = 8443

    @Option(help: "A built-in seed (demo, activity-demo) or a seed JSON file (default: demo). A file called like a built-in seed needs a path: ./demo.")
    var seed: String?

    @Flag(help: "Start with an empty org instead of the demo seed (ignored with --seed).")
    var empty = false

    @Option(help: "Daily API allocation (DailyApiRequests.Max).")
    var apiMax: Int?

    @Option(help: "Access tokens expire this many seconds after issue.")
    var tokenLifetime: Double?

    @Option(help: "Fixed latency added to every Salesforce request, in milliseconds.")
    var latencyMs: Int?

    @Option(help: "Seed for the fault engine's random source.")
    var faultSeed: UInt64?

    @Option(help: "Fault rule KIND[:PROBABILITY] (kinds: server_error, service_unavailable, unable_to_lock_row, invalid_session, request_limit_exceeded, hang, drop_connection). Repeatable.")
    var fault: [String] = []

    mutating func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        for f in fault { _ = try Self.rule(f) }
    }

    static func rule(_ text: String) throws -> FaultRule {
        let parts = text.split(separator: ":").map(String.init)
        guard (1...2).contains(parts.count), FaultKind.all.map(\.rawValue).contains(parts[0]) else {
            throw ValidationError("--fault expects KIND[:PROBABILITY], got \(text)")
        }
        let p = parts.count == 2 ? Double(parts[1]) : 1
        guard let p, (0...1).contains(p) else { throw ValidationError("--fault probability must be 0...1: \(text)") }
        return FaultRule(kind: FaultKind(rawValue: parts[0]), probability: p)
    }

    func run() async throws {
        var s = try seed.map { try SandboxSeed.builtIn(named: $0) ?? SandboxSeed.load(path: $0) } ?? (empty ? SandboxSeed() : SandboxSeed.demo)
        if let apiMax { s.limits = LimitsSeed(dailyApiRequests: apiMax, used: s.limits?.used) }
        if let tokenLifetime { s.accessTokenLifetimeSeconds = tokenLifetime }
        if latencyMs != nil || faultSeed != nil || !fault.isEmpty {
            var f = s.faults ?? FaultSettings()
            if let latencyMs { f.latency = .fixed(milliseconds: latencyMs) }
            if let faultSeed { f.randomSeed = faultSeed }
            f.rules += try fault.map(Self.rule)
            s.faults = f
        }
        let logger = Logger(label: "salesforce-sandbox")
        let sandbox = try await SalesforceSandbox.start(configuration: .init(host: host, port: port, seed: s))
        // Written unbuffered so a parent process reading the pipe sees the port at once.
        FileHandle.standardOutput.write(Data("salesforce-sandbox listening on \(sandbox.baseURL) (control routes under \(sandbox.baseURL)/_sandbox)\n".utf8))
        // SIGTERM and SIGINT stop it gracefully (hanging requests released, the listener closed).
        try await ServiceGroup(
            configuration: .init(services: [sandbox], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        ).run()
    }
}
