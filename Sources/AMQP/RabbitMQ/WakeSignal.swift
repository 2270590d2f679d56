#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Wakes the connection thread from `poll`: callers ``signal()`` after queueing a command, the thread polls
/// ``descriptor`` and ``drain()``s it when readable, then looks at its inbox.
///
/// At most one byte is in flight: `pending` says one was written and not drained yet, so a burst of commands
/// costs one `write`. The drain reads the pipe *before* it clears `pending`; the other order loses a wake-up
/// for good: a signal between the clear and the read has its byte swallowed, leaves `pending` set with an
/// empty pipe, and from then on no signal writes anything, so the thread only sees new commands when its poll
/// times out (up to a second per acknowledgement window: the per-consumer ceiling measured in issue 11).
/// Clearing last is safe because the thread looks at its inbox after every drain: a command queued before
/// the clear is seen then, and one queued after it signals a fresh byte.
final class WakeSignal: Sendable {
    private let pending = Atomic<Bool>(false)
    private let read: Int32
    private let write: Int32

    init() throws(AMQPError) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw AMQPError(code: .library, message: "could not create a wake-up pipe: errno \(errno)")
        }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        read = fds[0]
        write = fds[1]
    }

    deinit {
        close(read)
        close(write)
    }

    /// What the thread polls for readability.
    var descriptor: Int32 { read }

    /// Makes the descriptor readable, unless a wake-up is already pending.
    func signal() {
        if pending.exchange(true, ordering: .acquiringAndReleasing) == false {
            var byte: UInt8 = 1
            _ = Glibc.write(write, &byte, 1)
        }
    }

    /// Empties the pipe, then lets the next signal write again. `betweenSteps` runs between the two (a seam
    /// for the test that interleaves a signal there).
    func drain(betweenSteps: () -> Void = {}) {
        var buffer = [UInt8](repeating: 0, count: 64)
        while Glibc.read(read, &buffer, buffer.count) > 0 {}
        betweenSteps()
        pending.store(false, ordering: .releasing)
    }

    /// Whether the descriptor is readable now (a signal is waiting to be drained).
    var isReadable: Bool {
        var descriptor = pollfd(fd: read, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0 && descriptor.revents & Int16(POLLIN) != 0
    }
}
