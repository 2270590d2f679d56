import Foundation
import HTTP
import SalesforceSandbox
import Testing

@Suite("salesforce-sandbox executable")
struct ExecutableTests {
    struct LaunchError: Error { var line: String }

    /// `.build/debug/salesforce-sandbox`, built by `swift build --build-tests`.
    static let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/salesforce-sandbox").path

    /// Starts the binary with `arguments`; returns the process and the URL of its first line.
    static func launch(_ arguments: [String]) async throws -> (Process, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let handle = out.fileHandleForReading
        let line = await Task.detached { () -> String in
            var data = Data()
            while !data.contains(UInt8(ascii: "\n")) {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                data.append(chunk)
            }
            return String(decoding: data, as: UTF8.self)
        }.value
        #expect(line.hasPrefix("salesforce-sandbox listening on http://127.0.0.1:"))
        guard let url = line.split(separator: " ").dropFirst(3).first.map(String.init) else {
            process.terminate()
            process.waitUntilExit()
            throw LaunchError(line: line)
        }
        return (process, url)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)), .timeLimit(.minutes(1)))
    func portZeroPrintsTheBoundURLAndServes() async throws {
        let (process, url) = try await Self.launch(["--port", "0", "--api-max", "5"])
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        let port = try #require(Int(url.split(separator: ":").last ?? ""))
        #expect(port > 0 && port != 8443)
        try await withHTTPClient(logger: quietLogger) { client in
            let r = try await client.execute(
                HTTPRequest(url: "\(url)/services/data/v62.0/limits", headers: ["Authorization": "Bearer \(SandboxSeed.Demo.accessToken)"]))
            #expect(r.status == 200)
            #expect(r.headers["Sforce-Limit-Info"] == "api-usage=1/5")
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)), .timeLimit(.minutes(1)))
    func builtInSeedByName() async throws {
        let (process, url) = try await Self.launch(["--port", "0", "--seed", "activity-demo"])
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        try await withHTTPClient(logger: quietLogger) { client in
            let info = try JSONValue.parse(try await client.execute(HTTPRequest(url: "\(url)/_sandbox/info")).body)
            #expect(info["orgId"]?.stringValue == SandboxSeed.ActivityDemo.orgId)
            let r = try await client.execute(
                HTTPRequest(url: "\(url)/services/data/v62.0/limits", headers: ["Authorization": "Bearer \(SandboxSeed.ActivityDemo.accessToken)"]))
            #expect(r.headers["Sforce-Limit-Info"] == "api-usage=1/1000000")
        }
    }
}
