import Foundation
import Jobs
import Logging
import Metrics
import Salesforce
import Synchronization

/// Whether a team's org takes more work in this process: its API budget and its circuit, read from what its
/// Salesforce client saw (``SalesforceClient/health`` and ``SalesforceClient/apiUsage``).
///
/// - **The budget.** Every Salesforce answer says the org's rolling 24-hour usage (`Sforce-Limit-Info`). The fleet
///   leaves ``Policy/reserve`` of the allocation to the customer's other integrations: from
///   `allocation × (1 − reserve)` on, or after `REQUEST_LIMIT_EXCEEDED`, the org is paused; in the last
///   ``Policy/slowZone`` of the allocation before that, one job goes through per ``Policy/slowSpacing``.
/// - **The circuit.** ``Policy/breakerThreshold`` answers in a row that say Salesforce itself is failing (5xx,
///   timeouts, connections refused or lost) pause the org.
///
/// A paused org's jobs wait in the retry tiers without counting an attempt (``WorkFailure/Disposition/wait``): none is
/// parked for it, and the other orgs go on. After each pause (``Policy/pauseInterval``, doubling while the org stays
/// unwell, up to ten times) the first job to come asks `GET /limits`, one API call: its answer refreshes the usage
/// (the org's other integrations may have slowed, or its allocation grown) and the health (Salesforce answers
/// again), and resumes the org, or pauses it again.
final class OrgGate: Sendable {
    /// The thresholds, from ``SalesforceAppSettings``.
    struct Policy: Sendable {
        /// The share of the allocation left to the customer's other integrations.
        var reserve: Double = 0.2
        /// Before the reserve, the share of the allocation in which the org is slowed.
        var slowZone: Double = 0.05
        /// In the slow zone, one job per this.
        var slowSpacing: Duration = .seconds(1)
        /// Failing answers in a row that pause the org.
        var breakerThreshold: Int = 5
        /// The first pause before a probe.
        var pauseInterval: Duration = .seconds(60)
    }

    /// Why an org is paused.
    enum Pause: String, Sendable {
        case apiBudget = "api_budget"
        case circuitOpen = "circuit_open"
    }

    struct State {
        var pause: Pause?
        var pausedUntil: ContinuousClock.Instant?
        var pausedFor: Duration = .zero
        var probing = false
        var slowAdmittedAt: ContinuousClock.Instant?
    }

    /// What the lock decided for one job.
    enum Decision {
        case admit
        case wait(WorkFailure)
        case probe
    }

    static let pausedLabel = "docsend_sync_salesforce_org_paused"

    /// Told of each pause (its reason and length) and each resume (`nil`), in order.
    typealias Changed = @Sendable (_ pause: Pause?, _ length: Duration) -> Void

    let policy: Policy
    let changed: Changed
    /// The org's instance host (the metrics' `org`), once its client knows it.
    private let org = Mutex<String?>(nil)
    private let state = Mutex(State())

    /// A gate with `policy`; `changed` hears of its pauses and resumes (``TeamOrgs`` records them for `status`).
    init(policy: Policy, changed: @escaping Changed = { _, _ in }) {
        self.policy = policy
        self.changed = changed
    }

    /// Why the org should not take work, from what its client saw; `nil` when it may.
    func unwell(_ health: SalesforceClient.Health, _ usage: APIUsage?) -> Pause? {
        if health.limitExceeded { return .apiBudget }
        if let usage, usage.max > 0, Double(usage.used) >= Double(usage.max) * (1 - policy.reserve) { return .apiBudget }
        if health.failuresInARow >= policy.breakerThreshold { return .circuitOpen }
        return nil
    }

    /// Lets a job through, or throws ``WorkFailure/Disposition/wait`` saying how long its org stays paused; after a
    /// pause, probes the org through `client` first.
    func admit(_ client: SalesforceClient, teamID: String, logger: Logger) async throws(WorkFailure) {
        if let host = client.instanceURL.flatMap({ URL(string: $0)?.host }), org.withLock({ $0 }) == nil {
            org.withLock { $0 = host }
            report(nil)
        }
        switch decide(health: client.health, usage: client.apiUsage, teamID: teamID) {
        case .admit: return
        case .wait(let failure): throw failure
        case .probe:
            do {
                _ = try await client.limits(logger: logger)
            } catch {
                logger.debug("the paused org's probe failed", metadata: ["docsend-error": "\(error)"])
            }
            if let failure = probed(health: client.health, usage: client.apiUsage, teamID: teamID) { throw failure }
        }
    }

    /// The lock's part of ``admit(_:teamID:logger:)``: admit, wait, or probe (one job at a time, once a pause is over).
    func decide(
        health: SalesforceClient.Health, usage: APIUsage?, teamID: String, now: ContinuousClock.Instant = .now
    ) -> Decision {
        state.withLock { state in
            let reason = unwell(health, usage)
            if let pause = state.pause, let until = state.pausedUntil {
                guard reason != nil else {
                    // Another job's answers say the org is well again.
                    resume(&state)
                    return .admit
                }
                if now < until || state.probing { return .wait(wait(pause, for: max(until - now, .zero), teamID: teamID)) }
                state.probing = true
                return .probe
            }
            if let reason {
                pause(&state, reason, for: policy.pauseInterval, now: now)
                return .wait(wait(reason, for: policy.pauseInterval, teamID: teamID))
            }
            if let usage, usage.max > 0,
                Double(usage.used) >= Double(usage.max) * (1 - policy.reserve - policy.slowZone)
            {
                if let last = state.slowAdmittedAt, now - last < policy.slowSpacing {
                    return .wait(
                        .wait(
                            code: "org_slowed.api_budget",
                            "the org used \(usage.used) of its \(usage.max) daily API calls, close to the "
                                + "\(percent(policy.reserve)) kept for its other integrations: one job per \(policy.slowSpacing)",
                            retryAfter: policy.slowSpacing - (now - last), teamID: teamID))
                }
                state.slowAdmittedAt = now
            }
            return .admit
        }
    }

    /// After the probe: resumed (`nil`), or paused again for twice as long.
    func probed(
        health: SalesforceClient.Health, usage: APIUsage?, teamID: String, now: ContinuousClock.Instant = .now
    ) -> WorkFailure? {
        state.withLock { state in
            state.probing = false
            guard let reason = unwell(health, usage) else {
                resume(&state)
                return nil
            }
            let longer = min(state.pausedFor * 2, policy.pauseInterval * 10)
            pause(&state, reason, for: longer, now: now)
            return wait(reason, for: longer, teamID: teamID)
        }
    }

    private func pause(_ state: inout State, _ reason: Pause, for duration: Duration, now: ContinuousClock.Instant) {
        state.pause = reason
        state.pausedFor = duration
        state.pausedUntil = now + duration
        report(reason)
        changed(reason, duration)
    }

    private func resume(_ state: inout State) {
        state = State()
        report(nil)
        changed(nil, .zero)
    }

    /// `docsend_sync_salesforce_org_paused{org, reason}`: 1 for the reason the org is paused, 0 for the other.
    private func report(_ pause: Pause?) {
        guard let org = org.withLock({ $0 }) else { return }
        for reason in [Pause.apiBudget, .circuitOpen] {
            Gauge(label: Self.pausedLabel, dimensions: [("org", org), ("reason", reason.rawValue)])
                .record(reason == pause ? 1 : 0)
        }
    }

    private func wait(_ pause: Pause, for duration: Duration, teamID: String) -> WorkFailure {
        let why =
            switch pause {
            case .apiBudget:
                "the org's daily API calls are spent down to the \(percent(policy.reserve)) kept for its other integrations "
                    + "(or Salesforce said REQUEST_LIMIT_EXCEEDED)"
            case .circuitOpen: "the org's Salesforce keeps failing (5xx, timeouts, connections refused)"
            }
        return .wait(
            code: "org_paused.\(pause.rawValue)", "\(why): the org is paused; the job waits without counting an attempt",
            retryAfter: max(duration, .seconds(1)), teamID: teamID)
    }

    private func percent(_ share: Double) -> String { "\(Int((share * 100).rounded()))%" }
}
