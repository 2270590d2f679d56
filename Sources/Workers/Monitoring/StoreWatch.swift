import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Store
import Synchronization

/// Asks the store, every ``interval``, which teams need a new Salesforce login: the answer sets the
/// `docsend_sync_teams_needing_login` gauge (every worker process reports the fleet-wide number: alerts take the
/// `max`), and whether the store answered is the store part of the process's readiness.
public struct StoreWatch: Service {
    public static let teamsNeedingLoginLabel = "docsend_sync_teams_needing_login"

    let store: any SyncStore
    /// Between two checks.
    public let interval: Duration
    let state = Shared()
    let logger: Logger

    /// Watches `store` every `interval`.
    public init(store: any SyncStore, interval: Duration = .seconds(15), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    /// Why the store does not count as reachable, or `nil` when its last check (at most three intervals ago)
    /// answered.
    public func problem(now: ContinuousClock.Instant = .now) -> String? {
        state.last.withLock { last in
            guard let last else { return "the store has not answered its first check yet" }
            if let error = last.error { return "the store did not answer: \(error)" }
            if now - last.at > interval * 3 { return "the store has not been checked for \(now - last.at)" }
            return nil
        }
    }

    public func run() async throws {
        let gauge = Gauge(label: Self.teamsNeedingLoginLabel)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await check(gauge)
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One check: the gauge and the readiness answer.
    func check(_ gauge: Gauge) async {
        do {
            let teams = try await store.teamsNeedingLogin()
            gauge.record(teams.count)
            state.last.withLock { $0 = (ContinuousClock.now, nil) }
        } catch {
            if Task.isCancelled { return }
            logger.warning("the store did not answer its health check", metadata: ["docsend-error": "\(error)"])
            state.last.withLock { $0 = (ContinuousClock.now, "\(error)") }
        }
    }

    final class Shared: Sendable {
        let last = Mutex<(at: ContinuousClock.Instant, error: String?)?>(nil)
    }
}
