import Foundation
import HTTP
import SalesforceSandbox
import Testing

@Suite("Fault injection observed over HTTP")
struct FaultTests {
    @Test(arguments: [
        (FaultKind.serverError, 500, "UNKNOWN_EXCEPTION"), (.serviceUnavailable, 503, "SERVER_UNAVAILABLE"),
        (.unableToLockRow, 400, "UNABLE_TO_LOCK_ROW"), (.invalidSession, 401, "INVALID_SESSION_ID"),
        (.requestLimitExceeded, 403, "REQUEST_LIMIT_EXCEEDED"),
    ])
    func errorFaultsHitTheNextRequests(kind: FaultKind, status: Int, code: String) async throws {
        try await withSandbox { h in
            await h.org.addFault(.next(2, kind, path: "/services/data/*/sobjects/Task*"))
            #expect(try await h.call(.get, "limits").status == 200)
            for _ in 0..<2 {
                let r = try await h.call(.post, "sobjects/Task", json: #"{"Subject":"x"}"#)
                try expectError(r, status: status, code: code)
                #expect(r.headers["Sforce-Limit-Info"] != nil)
            }
            #expect(try await h.call(.post, "sobjects/Task", json: #"{"Subject":"x"}"#).status == 201)
            #expect(await h.org.records("Task").count == 1)
            let log = await h.org.requests()
            #expect(log.filter { $0.fault == kind.rawValue }.count == 2)
        }
    }

    @Test func hangOutlastsTheClientTimeout() async throws {
        try await withSandbox { h in
            await h.org.setFaults(FaultSettings(rules: [.next(1, .hang)], hangSeconds: 3))
            let start = ContinuousClock.now
            do {
                _ = try await h.call(.get, "limits", timeout: .milliseconds(300))
                Issue.record("expected a timeout")
            } catch let error as HTTPClientError {
                #expect(error.code == .timeout)
            }
            #expect(ContinuousClock.now - start < .seconds(2))
            // On a loaded machine the 300 ms may pass before the request reaches the sandbox: the hang rule would then
            // still be pending and catch the next request. Cleared, the next request shows the sandbox still serves.
            await h.org.setFaults(FaultSettings())
            #expect(try await h.call(.get, "limits").status == 200)
        }
    }

    @Test func droppedConnectionHasNoResponse() async throws {
        try await withSandbox { h in
            await h.org.addFault(FaultRule(kind: .dropConnection, path: "/services/data/*/limits"))
            do {
                _ = try await h.call(.get, "limits")
                Issue.record("expected the connection to drop")
            } catch let error as HTTPClientError {
                #expect(error.code == .connectionLost)
            }
            #expect(try await h.call(.get, "sobjects/Lead/describe").status == 200)
            #expect(await h.org.requests().contains { $0.fault == "drop_connection" && $0.status == nil })
        }
    }

    @Test func latencyFixedAndScoped() async throws {
        try await withSandbox { h in
            await h.org.setFaults(FaultSettings(latency: LatencySpec(fixedMs: 300, path: "/services/data/*/limits")))
            let clock = ContinuousClock()
            let start = clock.now
            let slow = try await h.call(.get, "limits")
            let slowElapsed = clock.now - start
            #expect(slow.status == 200 && slowElapsed >= .milliseconds(300))
            // Other paths get no latency (checked on the decision, not the wall clock, to stay deterministic).
            #expect(try await h.call(.get, "sobjects").status == 200)
            #expect(await h.org.decideFault(method: "GET", path: "/services/data/v62.0/sobjects").latency == .zero)
            #expect(await h.org.decideFault(method: "GET", path: "/services/data/v62.0/limits").latency == .milliseconds(300))
        }
    }

    @Test func uniformLatencyStaysInRange() async throws {
        try await withSandbox { h in
            await h.org.setFaults(FaultSettings(latency: .uniform(min: 120, max: 200), randomSeed: 3))
            let clock = ContinuousClock()
            for _ in 0..<3 {
                let start = clock.now
                let r = try await h.call(.get, "limits")
                let elapsed = clock.now - start
                #expect(r.status == 200 && elapsed >= .milliseconds(120) && elapsed < .seconds(2))
            }
        }
    }

    @Test func seededProbabilityIsReproducible() async throws {
        let settings = FaultSettings(latency: .uniform(min: 0, max: 5), rules: [FaultRule(kind: .serverError, probability: 0.5)], randomSeed: 7)
        var runs: [[Int]] = []
        for _ in 0..<2 {
            var seed = SandboxSeed.demo
            seed.faults = settings
            try await withSandbox(seed) { h in
                var statuses: [Int] = []
                for _ in 0..<12 { statuses.append(try await h.call(.get, "limits").status) }
                runs.append(statuses)
            }
        }
        #expect(runs[0] == runs[1])
        #expect(runs[0].contains(200) && runs[0].contains(500))
    }
}
