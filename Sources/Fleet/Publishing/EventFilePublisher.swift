import AMQP
import Foundation
import SyncCore

/// What `docsend-sync publish --file` did.
public struct PublishReport: Sendable, CustomStringConvertible {
    /// Lines that held an event.
    public var read = 0
    /// Events the broker confirmed.
    public var confirmed = 0
    /// Lines that broke the contract or failed to publish, with their line number and why.
    public var failures: [(line: Int, reason: String)] = []

    public var description: String {
        var text = "\(confirmed) of \(read) events confirmed"
        if !failures.isEmpty {
            text += ", \(failures.count) failed:"
            for failure in failures.prefix(20) { text += "\n  line \(failure.line): \(failure.reason)" }
            if failures.count > 20 { text += "\n  … and \(failures.count - 20) more" }
        }
        return text
    }
}

/// Publishes a JSON Lines file (one event per line; blank lines skipped) with confirms, `window`
/// publishes in flight. Each line is checked against the contract first: a violation is reported
/// with its line number and not published. The file is streamed, never loaded whole.
public func publishEventFile(at path: String, with publisher: EventPublisher, window: Int = 64) async throws -> PublishReport {
    guard let handle = FileHandle(forReadingAtPath: path) else {
        throw ConfigurationError(key: "file", problem: "cannot open \(path)")
    }
    defer { try? handle.close() }
    var report = PublishReport()
    var lines = LineReader(handle: handle)
    try await withThrowingTaskGroup(of: (Int, String?).self) { group in
        var inFlight = 0
        func collect(_ result: (Int, String?)) {
            if let reason = result.1 { report.failures.append((result.0, reason)) } else { report.confirmed += 1 }
        }
        while let (number, line) = try lines.next() {
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }) { continue }
            report.read += 1
            let event: Event
            do {
                event = try Event.decode(from: line)
            } catch {
                report.failures.append((number, "\(error)"))
                continue
            }
            if inFlight >= window, let result = try await group.next() {
                collect(result)
                inFlight -= 1
            }
            group.addTask {
                do {
                    try await publisher.publish(event)
                    return (number, nil)
                } catch {
                    return (number, "\(error)")
                }
            }
            inFlight += 1
        }
        for try await result in group { collect(result) }
    }
    report.failures.sort { $0.line < $1.line }
    return report
}

/// Reads a file line by line in 64 KiB chunks. A line longer than `maximumLine` is returned cut to
/// that length (the contract check then refuses it), so a hostile file cannot exhaust memory.
struct LineReader {
    let handle: FileHandle
    let maximumLine = EventContract.maximumBodySize + 1
    private var buffer = Data()
    private var number = 0
    private var finished = false
    private var discarding = false

    init(handle: FileHandle) { self.handle = handle }

    mutating func next() throws -> (Int, Data)? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                if discarding {
                    // The end of an over-long line already returned (cut): not a line of its own.
                    discarding = false
                    continue
                }
                number += 1
                return (number, Data(line))
            }
            if buffer.count > maximumLine {
                let cut = Data(buffer.prefix(maximumLine))
                buffer.removeAll()
                discarding = true  // drop the rest of this line
                number += 1
                return (number, cut)
            }
            if finished {
                guard !buffer.isEmpty else { return nil }
                defer { buffer.removeAll() }
                number += 1
                return discarding ? nil : (number, buffer)
            }
            let chunk = try handle.read(upToCount: 64 * 1024) ?? Data()
            if chunk.isEmpty { finished = true } else { buffer.append(chunk) }
        }
    }
}
