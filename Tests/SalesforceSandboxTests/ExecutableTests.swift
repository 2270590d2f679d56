import Foundation
import HTTP
import SalesforceSandbox
import Testing

@Suite("salesforce-sandbox executable")
struct ExecutableTests {
    /// `.build/debug/salesforce-sandbox`, built by `swift build --build-tests`.
    static let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/salesforce-sandbox").path

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)), .timeLimit(.minutes(1)))
    func portZeroPrintsTheBoundURLAndServes() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--port", "0", "--api-max", "5"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
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
        let url = try #require(line.split(separator: " ").dropFirst(3).first.map(String.init))
        let port = try #require(Int(url.split(separator: ":").last ?? ""))
        #expect(port > 0 && port != 8443)
        try await withHTTPClient { client in
            let r = try await client.execute(
                HTTPRequest(url: "\(url)/services/data/v62.0/limits", headers: ["Authorization": "Bearer \(SandboxSeed.Demo.accessToken)"]))
            #expect(r.status == 200)
            #expect(r.headers["Sforce-Limit-Info"] == "api-usage=1/5")
        }
    }
}
