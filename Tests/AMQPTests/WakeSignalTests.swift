import Testing

@testable import AMQP

/// The connection thread's wake-up: a signal queued while the thread drains the previous one is never lost.
@Suite("AMQP wake-up signal")
struct WakeSignalTests {
    @Test("a signal that lands while the thread drains the previous one still wakes it, and so does every later one")
    func signalDuringDrain() throws {
        let wake = try WakeSignal()
        wake.signal()
        #expect(wake.isReadable)
        // The race: a caller signals between the two steps of the thread's drain.
        wake.drain(betweenSteps: { wake.signal() })
        // Whatever that signal did, the next one must make the descriptor readable: a lost wake-up leaves the
        // thread asleep until its poll times out, once per batch of commands, for the rest of the connection.
        wake.signal()
        #expect(wake.isReadable, "a signal after the race must wake the thread")
        wake.drain()
        #expect(!wake.isReadable)
        for _ in 0..<3 { wake.signal() }
        #expect(wake.isReadable)
    }
}
