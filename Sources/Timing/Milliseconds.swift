extension Duration {
    /// The duration in whole milliseconds, rounded up (toward positive infinity): 0.4 ms is 1, 1.0001 ms is 2,
    /// exactly 3 ms is 3, zero is 0, and -1.5 ms is -1. Saturates at `Int.min`/`Int.max`.
    ///
    /// Up, because the package uses it for limits handed to C (poll, libcurl): a positive timeout must never
    /// become 0, which those APIs read as "now" or "never".
    public var millisecondsRoundedUp: Int {
        let (seconds, attoseconds) = components
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        var millis = attoseconds / attosecondsPerMillisecond
        if attoseconds % attosecondsPerMillisecond > 0 { millis += 1 }
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        let (total, overflowAgain) = whole.addingReportingOverflow(millis)
        guard !overflow, !overflowAgain else { return seconds < 0 ? Int.min : Int.max }
        return Int(clamping: total)
    }
}
