import Foundation

/// Where the commands write what they print: standard output, unbuffered, so progress shows as it happens,
/// also when standard output is a file or a pipe. Tests bind ``current`` to capture a command's output
/// in-process.
struct CommandOutput: Sendable {
    let write: @Sendable (Data) -> Void

    static let standardOutput = CommandOutput { FileHandle.standardOutput.write($0) }

    /// The output of the commands running in this task (and its child tasks).
    @TaskLocal static var current = CommandOutput.standardOutput
}

/// Writes a line to the command output at once.
func say(_ line: String) {
    CommandOutput.current.write(Data((line + "\n").utf8))
}
