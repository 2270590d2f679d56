import Foundation
import HTTP
import Testing

/// An HTTPS server (Python's http.server behind ssl) with a certificate from a throwaway CA. It is
/// started detached by a short-lived shell and writes its pid and port to a file; it is killed with
/// SIGKILL at the end (the test process may block SIGTERM, and children inherit that mask).
final class TLSTestServer {
    let directory: URL
    let port: Int
    private let serverPID: Int32

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("https-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // The server closes every inherited descriptor first: Foundation's Process watches its child
        // through one, and would otherwise wait for this detached grandchild too.
        let server = """
            import os
            os.closerange(3, 65536)
            import http.server, ssl
            class Handler(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    body = b"secure hello"
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *args):
                    pass
            httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain("server.pem", "server.key")
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
            with open("ready.tmp", "w") as f:
                f.write(f"{os.getpid()} {httpd.server_address[1]}")
            os.rename("ready.tmp", "ready")
            httpd.serve_forever()
            """
        try server.write(to: directory.appendingPathComponent("server.py"), atomically: true, encoding: .utf8)
        let script = """
            set -e
            cd '\(directory.path)'
            openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj '/CN=test CA' -keyout ca.key -out ca.pem 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -subj '/CN=localhost' -keyout server.key -out server.csr 2>/dev/null
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile ext -out server.pem 2>/dev/null
            nohup python3 server.py </dev/null >server.log 2>&1 &
            """
        let launcher = Process()
        launcher.executableURL = URL(fileURLWithPath: "/bin/bash")
        launcher.arguments = ["-c", script]
        try launcher.run()
        launcher.waitUntilExit()
        guard launcher.terminationStatus == 0 else {
            throw HTTPClientError(code: .other, message: "could not make the test certificates", url: "")
        }
        let ready = directory.appendingPathComponent("ready")
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: ready.path), Date() < deadline { usleep(20_000) }
        let fields = ((try? String(contentsOf: ready, encoding: .utf8)) ?? "").split(separator: " ").compactMap { Int($0) }
        guard fields.count == 2 else {
            throw HTTPClientError(code: .other, message: "the HTTPS test server did not start", url: "")
        }
        serverPID = Int32(fields[0])
        port = fields[1]
    }

    var caFile: String { directory.appendingPathComponent("ca.pem").path }

    deinit {
        kill(serverPID, SIGKILL)
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite("HTTPS on libcurl")
struct HTTPSTests {
    @Test("TLS is verified: the server's CA given as a file is trusted, an unknown CA is refused")
    func verification() async throws {
        let server = try TLSTestServer()
        try await withHTTPClient(configuration: .init(caFile: server.caFile), logger: testLogger) { client in
            let response = try await client.execute(HTTPRequest(url: "https://localhost:\(server.port)/", timeout: .seconds(10)))
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "secure hello")
        }
        try await withHTTPClient(logger: testLogger) { client in
            let error = await #expect(throws: HTTPClientError.self) {
                _ = try await client.execute(HTTPRequest(url: "https://localhost:\(server.port)/", timeout: .seconds(10)))
            }
            #expect(error?.code == .tls)
        }
    }
}
