/// Exponential backoff with a cap and jitter: the one way the package spaces out retries.
///
/// Attempt `n` (1 for the first retry) has the ceiling `min(initial × 2^(n-1), maximum)`; the delay is
/// drawn under it according to ``Jitter-swift.enum``:
///
/// - ``Jitter-swift.enum/none``: exactly the ceiling (deterministic doubling);
/// - ``Jitter-swift.enum/equal``: uniform in `[ceiling / 2, ceiling]`: never shorter than half, so waits
///   still grow, while callers that failed together spread out;
/// - ``Jitter-swift.enum/full``: uniform in `[0, ceiling]`: the widest spread, for many contenders on
///   one resource (see "Exponential Backoff And Jitter", AWS Architecture Blog, 2015).
///
/// ```swift
/// let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(10), jitter: .equal)
/// for attempt in 1... {
///     do { return try await connect() } catch { try await Task.sleep(for: backoff.delay(attempt: attempt)) }
/// }
/// ```
public struct Backoff: Sendable, Hashable {
    /// How a delay is drawn under an attempt's ceiling.
    public enum Jitter: Sendable, Hashable {
        /// The ceiling itself.
        case none
        /// Uniform in `[ceiling / 2, ceiling]`.
        case equal
        /// Uniform in `[0, ceiling]`.
        case full
    }

    /// The first attempt's ceiling.
    public var initial: Duration
    /// No ceiling grows beyond this.
    public var maximum: Duration
    public var jitter: Jitter

    /// A negative `initial` or `maximum` counts as zero.
    public init(initial: Duration, maximum: Duration, jitter: Jitter) {
        self.initial = max(initial, .zero)
        self.maximum = max(maximum, .zero)
        self.jitter = jitter
    }

    /// `min(initial × 2^(attempt-1), maximum)`; attempts below 1 count as 1.
    public func ceiling(attempt: Int) -> Duration {
        guard initial > .zero else { return .zero }
        var ceiling = initial
        var step = 1
        // Doubling stops at the cap, so any attempt number (Int.max included) takes a bounded number of steps.
        while step < attempt, ceiling < maximum {
            ceiling = ceiling > maximum / 2 ? maximum : ceiling * 2
            step += 1
        }
        return min(ceiling, maximum)
    }

    /// The delay before retry `attempt` (1 for the first), with the system's random numbers.
    public func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }

    /// The delay before retry `attempt` (1 for the first), drawing the jitter from `generator`.
    public func delay<Generator: RandomNumberGenerator>(attempt: Int, using generator: inout Generator) -> Duration {
        delay(attempt: attempt, fraction: Double.random(in: 0...1, using: &generator))
    }

    /// The delay for a jitter draw of `fraction` (0: the bottom of the jitter range, 1: its top).
    func delay(attempt: Int, fraction: Double) -> Duration {
        let ceiling = ceiling(attempt: attempt)
        // `min`: the floating-point product may round a few attoseconds past the ceiling.
        switch jitter {
        case .none:
            return ceiling
        case .equal:
            return min(ceiling / 2 + (ceiling / 2) * fraction, ceiling)
        case .full:
            return min(ceiling * fraction, ceiling)
        }
    }
}
