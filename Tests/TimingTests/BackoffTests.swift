import Testing

@testable import Timing

/// A generator that replays a fixed list of words, so two draws can be compared.
private struct ReplayGenerator: RandomNumberGenerator {
    var words: [UInt64]
    var index = 0
    mutating func next() -> UInt64 {
        defer { index = (index + 1) % words.count }
        return words[index]
    }
}

@Suite("Backoff", .timeLimit(.minutes(1)))
struct BackoffTests {
    let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(10), jitter: .none)

    @Test("Ceilings double from the initial delay and stop at the cap")
    func ceilingsDoubleUpToTheCap() {
        let ceilings = (1...10).map { backoff.ceiling(attempt: $0) }
        #expect(
            ceilings == [
                .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600),
                .milliseconds(3200), .milliseconds(6400), .seconds(10), .seconds(10), .seconds(10),
            ])
    }

    @Test("Huge attempt numbers stay at the cap; attempts below 1 count as the first")
    func extremeAttempts() {
        #expect(backoff.ceiling(attempt: .max) == .seconds(10))
        #expect(backoff.ceiling(attempt: 0) == .milliseconds(100))
        #expect(backoff.ceiling(attempt: -5) == .milliseconds(100))
        let nearTheTop = Backoff(initial: .seconds(Int64.max / 4), maximum: .seconds(Int64.max / 2), jitter: .none)
        #expect(nearTheTop.ceiling(attempt: 1_000) == .seconds(Int64.max / 2))
    }

    @Test("A zero or negative initial delay never waits; an initial above the cap is capped")
    func degenerateSettings() {
        #expect(Backoff(initial: .zero, maximum: .seconds(1), jitter: .full).delay(attempt: 5) == .zero)
        #expect(Backoff(initial: .seconds(-1), maximum: .seconds(1), jitter: .none).delay(attempt: 3) == .zero)
        #expect(Backoff(initial: .seconds(5), maximum: .seconds(1), jitter: .none).delay(attempt: 1) == .seconds(1))
    }

    @Test("No jitter waits exactly the ceiling")
    func noJitter() {
        for attempt in 1...12 { #expect(backoff.delay(attempt: attempt) == backoff.ceiling(attempt: attempt)) }
    }

    /// Each jitter's range under the ceiling, as fractions of it: full [0, 1], equal [1/2, 1].
    @Test("Jittered delays stay within their range under the ceiling and reach both ends", arguments: [
        (Backoff.Jitter.full, 0), (Backoff.Jitter.equal, 2),
    ])
    func jitterRange(jitter: Backoff.Jitter, floorDivisor: Int) {
        let jittered = Backoff(initial: .milliseconds(100), maximum: .seconds(10), jitter: jitter)
        for attempt in 1...12 {
            let ceiling = jittered.ceiling(attempt: attempt)
            let floor = floorDivisor == 0 ? .zero : ceiling / floorDivisor
            for _ in 0..<200 {
                let delay = jittered.delay(attempt: attempt)
                #expect(delay >= floor && delay <= ceiling)
            }
            #expect(jittered.delay(attempt: attempt, fraction: 0) == floor)
            #expect(jittered.delay(attempt: attempt, fraction: 1) == ceiling)
        }
    }

    @Test("The generator-driven delay is the same function of the draw (a seeded generator repeats it)")
    func seededGeneratorRepeats() {
        let full = Backoff(initial: .milliseconds(100), maximum: .seconds(10), jitter: .full)
        let words: [UInt64] = [0x9E37_79B9_7F4A_7C15, 0x0123_4567_89AB_CDEF, .max / 3, 0xDEAD_BEEF_CAFE_F00D]
        var first = ReplayGenerator(words: words)
        var second = ReplayGenerator(words: words)
        let a = (1...8).map { full.delay(attempt: $0, using: &first) }
        let b = (1...8).map { full.delay(attempt: $0, using: &second) }
        #expect(a == b)
        #expect(zip(a, 1...8).allSatisfy { $0 <= full.ceiling(attempt: $1) })
    }

    @Test("Jittered delays are spread, not one value")
    func jitterSpreads() {
        let full = Backoff(initial: .seconds(1), maximum: .seconds(1), jitter: .full)
        let delays = Set((0..<100).map { _ in full.delay(attempt: 1) })
        #expect(delays.count > 50)
    }
}

@Suite("Duration in milliseconds")
struct MillisecondsTests {
    @Test("Rounds up: a positive fraction of a millisecond is one more, never zero")
    func roundsUp() {
        #expect(Duration.microseconds(400).millisecondsRoundedUp == 1)
        #expect(Duration.nanoseconds(1).millisecondsRoundedUp == 1)
        #expect(Duration.microseconds(1_500).millisecondsRoundedUp == 2)
        #expect(Duration.microseconds(1_000_001).millisecondsRoundedUp == 1_001)
    }

    @Test("Whole milliseconds and zero are exact")
    func exact() {
        #expect(Duration.zero.millisecondsRoundedUp == 0)
        #expect(Duration.milliseconds(3).millisecondsRoundedUp == 3)
        #expect(Duration.seconds(90).millisecondsRoundedUp == 90_000)
        #expect(Duration.milliseconds(2_500).millisecondsRoundedUp == 2_500)
    }

    @Test("Negative durations round toward positive infinity")
    func negative() {
        #expect(Duration.microseconds(-1_500).millisecondsRoundedUp == -1)
        #expect(Duration.microseconds(-400).millisecondsRoundedUp == 0)
        #expect(Duration.seconds(-2).millisecondsRoundedUp == -2_000)
    }

    @Test("Durations beyond Int's range saturate")
    func saturates() {
        #expect(Duration.seconds(Int64.max).millisecondsRoundedUp == Int.max)
        #expect(Duration.seconds(Int64.min).millisecondsRoundedUp == Int.min)
    }
}
