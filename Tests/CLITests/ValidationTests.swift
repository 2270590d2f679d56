import ArgumentParser
import Testing

@testable import DocsendSyncCLI

/// What the binary refuses before it connects to anything, with the message and exit code (64, usage) an
/// operator sees.
@Suite("docsend-sync: refused command lines")
struct ValidationTests {
    @Test("worker refuses a role the topology does not have, and needs one", arguments: ["bogus", "All", "lead", ""])
    func badRole(role: String) throws {
        let failure = try #require(parseFailure(["worker", role]))
        #expect(failure.message == "The value '\(role)' is invalid for '<role>'. Please provide one of 'visits', 'links', 'leads' or 'all'.")
        #expect(failure.exitCode == .validationFailure)
    }

    @Test("worker needs a role")
    func missingRole() throws {
        let failure = try #require(parseFailure(["worker"]))
        #expect(failure.message.contains("Missing expected argument '<role>'"), "\(failure.message)")
        #expect(failure.exitCode == .validationFailure)
    }

    @Test("worker's numeric flags take numbers")
    func workerNumbers() throws {
        let failure = try #require(parseFailure(["worker", "all", "--concurrency", "many"]))
        #expect(failure.message.contains("--concurrency"), "\(failure.message)")
        #expect(failure.exitCode == .validationFailure)
    }

    @Test("team connect takes exactly one of --refresh-token-file and --client-credentials", arguments: [
        ["--refresh-token-file", "token.txt", "--client-credentials"], [],
    ])
    func connectFlow(flags: [String]) throws {
        let failure = try #require(parseFailure(["team", "connect", "--team", "t"] + flags))
        #expect(failure.message == "give either --refresh-token-file or --client-credentials")
        #expect(failure.exitCode == .validationFailure)
    }

    @Test("every team command needs --team", arguments: ["connect", "set", "show"])
    func missingTeam(command: String) throws {
        let failure = try #require(parseFailure(["team", command]))
        #expect(failure.message.contains("Missing expected argument '--team <team>'"), "\(failure.message)")
        #expect(failure.exitCode == .validationFailure)
    }

    @Test("team set toggles are on or off")
    func toggle() throws {
        let failure = try #require(parseFailure(["team", "set", "--team", "t", "--sync-visits", "yes"]))
        #expect(failure.message == "The value 'yes' is invalid for '--sync-visits <sync-visits>'")
        #expect(failure.exitCode == .validationFailure)
    }

    @Test("parking purge wants --yes")
    func purgeWithoutYes() throws {
        let failure = try #require(parseFailure(["parking", "purge"]))
        #expect(failure.message == "purging drops the messages for good: add --yes")
        #expect(failure.exitCode == .validationFailure)
    }

    @Test("publish needs a file and a window of at least one")
    func publish() throws {
        let noFile = try #require(parseFailure(["publish"]))
        #expect(noFile.message.contains("Missing expected argument '--file <file>'"), "\(noFile.message)")
        for window in ["--window=0", "--window=-3"] {
            let failure = try #require(parseFailure(["publish", "-f", "events.jsonl", window]))
            #expect(failure.message == "--window must be at least 1")
            #expect(failure.exitCode == .validationFailure)
        }
    }

    @Test("simulate checks its numbers", arguments: [
        (["--count=-1"], "--count must not be negative"),
        (["--rate=-0.5"], "--rate must not be negative"),
        (["--duplicates", "1.5"], "--duplicates is a share from 0 to 1"),
        (["--duplicates=-0.1"], "--duplicates is a share from 0 to 1"),
        (["--progress", "0"], "--progress must be at least 1"),
    ])
    func simulate(flags: [String], expected: String) throws {
        let failure = try #require(parseFailure(["simulate"] + flags))
        #expect(failure.message == expected)
        #expect(failure.exitCode == .validationFailure)
    }

    @Test("an unknown command or flag is refused")
    func unknown() throws {
        #expect(try #require(parseFailure(["frobnicate"])).exitCode == .validationFailure)
        let flag = try #require(parseFailure(["status", "--nope"]))
        #expect(flag.message.contains("Unknown option '--nope'"), "\(flag.message)")
    }
}
