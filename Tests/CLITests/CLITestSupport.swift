import ArgumentParser
import Foundation
import Synchronization
import Testing

@testable import DocsendSyncCLI

/// Parses `docsend-sync ARGUMENTS` as the binary does (validation included) and returns the subcommand,
/// which must be a `Command`.
func parse<Command: ParsableCommand>(_ arguments: [String], as _: Command.Type = Command.self) throws -> Command {
    let parsed = try DocsendSync.parseAsRoot(arguments)
    return try #require(parsed as? Command, "`\(arguments.joined(separator: " "))` parsed as \(type(of: parsed))")
}

/// What the binary would print and exit with for `docsend-sync ARGUMENTS`, which must not parse.
func parseFailure(_ arguments: [String]) -> (message: String, exitCode: ExitCode)? {
    do {
        let parsed = try DocsendSync.parseAsRoot(arguments)
        Issue.record("`\(arguments.joined(separator: " "))` parsed as \(type(of: parsed))")
        return nil
    } catch {
        return (DocsendSync.message(for: error), DocsendSync.exitCode(for: error))
    }
}

/// Runs `docsend-sync ARGUMENTS` in this process, as the binary's `main` does after parsing, and returns
/// what the command printed to its output.
func run(_ arguments: [String]) async throws -> String {
    let output = CapturedOutput()
    try await run(arguments, writingTo: output)
    return output.text
}

/// Runs `docsend-sync ARGUMENTS` in this process; returns what it printed and the exit code it ended with
/// when it ended with one (`nil`: it returned, the binary would exit 0). Other errors are thrown.
func runCapturingExit(_ arguments: [String]) async throws -> (output: String, exitCode: ExitCode?) {
    let output = CapturedOutput()
    do {
        try await run(arguments, writingTo: output)
        return (output.text, nil)
    } catch let exit as ExitCode {
        return (output.text, exit)
    }
}

private func run(_ arguments: [String], writingTo output: CapturedOutput) async throws {
    let parsed = try DocsendSync.parseAsRoot(arguments)
    try await CommandOutput.$current.withValue(CommandOutput { output.append($0) }) {
        if var command = parsed as? any AsyncParsableCommand {
            try await command.run()
        } else {
            var command = parsed
            try command.run()
        }
    }
}

/// What a command wrote, kept across the tasks it may write from.
final class CapturedOutput: Sendable {
    private let data = Mutex(Data())

    func append(_ chunk: Data) { data.withLock { $0.append(chunk) } }

    var bytes: Data { data.withLock { $0 } }
    var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// The same error an operator would see: the message of `error` as the binary prints it.
func message(of error: any Error) -> String { DocsendSync.message(for: error) }

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory() throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}
