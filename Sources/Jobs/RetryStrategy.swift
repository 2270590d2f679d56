/// How often, and after which delays, a job whose failure may pass is tried again before it is parked.
///
/// The fleet's strategy is its retry tiers (`topology.retryIntervals`, e.g. 5 s, 1 min, 10 min): attempt *n*
/// waits the *n*-th shortest interval; once they are used up the job is parked. On RabbitMQ each interval is a
/// delay queue (`<prefix>.<role>.retry.<interval>`); the in-memory queue sleeps.
public struct RetryStrategy: Sendable, Hashable {
    /// The delays before each further attempt, shortest first.
    public let delays: [Duration]

    /// Retries after each of `delays` (sorted), then parks.
    public static func tiers(_ delays: [Duration]) -> RetryStrategy { RetryStrategy(delays: delays.sorted()) }

    /// Parks at the first failure.
    public static let dontRetry = RetryStrategy(delays: [])

    /// The delay before the next attempt after `failures` failed ones (1 after the first failure); `nil` when
    /// the job is to be parked.
    public func delay(afterFailures failures: Int) -> Duration? {
        guard failures >= 1, failures <= delays.count else { return nil }
        return delays[failures - 1]
    }

    /// The delay of a job that waits `wanted` (its org's pause): the longest tier no longer than that, else the
    /// shortest; `nil` without tiers. Never longer than the pause where a tier allows, so that the jobs are back
    /// when the org is probed (a job back early waits again, at no cost to the org): with tiers of 5 s, 1 min and
    /// 10 min, a 2-minute pause sends them for a minute, not ten.
    public func delay(forWaiting wanted: Duration) -> Duration? {
        delays.last { $0 <= wanted } ?? delays.first
    }
}
