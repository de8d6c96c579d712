import Foundation
import Testing
import TestSupport

/// `ocorre` reads the saved login (`OCORRE_CONFIG`) once per command and passes it along: before,
/// it read the file again before every call (and twice per call: the address, then the token),
/// so one command could mix two logins when the file changed while it ran (a `login` in another
/// terminal), and a command of three calls read the file up to seven times.
@Suite("ocorre: one saved login per command", .serialized)
struct CLISavedLoginTests {
    /// A stand-in gateway (Python's `http.server` on a free loopback port) that records each
    /// request's path and `Authorization`, and on the first one rewrites the saved login to
    /// another token at the same address, as a `login` in another terminal would.
    static let stub = #"""
    import http.server, json, sys
    config, log = sys.argv[1], sys.argv[2]
    class Stub(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            with open(log, "a") as f:
                f.write(self.path + " " + self.headers.get("Authorization", "") + "\n")
            with open(config, "w") as f:
                json.dump({"url": "http://127.0.0.1:%d" % self.server.server_port, "token": "token-b"}, f)
            if self.path.startswith("/v1/tickets/"):
                body = {"intake": {"id": "T-1", "code": "2026-000001", "subject": "Nota fiscal"}, "workflow": None}
            else:
                body = {"entries": []}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        def log_message(self, *args):
            pass
    server = http.server.HTTPServer(("127.0.0.1", 0), Stub)
    print("port %d" % server.server_port, flush=True)
    server.serve_forever()
    """#

    @Test("ocorre tickets show makes three calls (the ticket, the channels, the origins) with the login as it was when the command started, although the file changed after the first call")
    func oneLoginPerCommand() throws {
        let directory = try TemporaryDirectory()
        let config = directory.path + "/config.json", log = directory.path + "/requests.log", script = directory.path + "/stub.py"
        try Data(Self.stub.utf8).write(to: URL(fileURLWithPath: script))
        let server = try ChildProcess("/usr/bin/python3", [script, config, log], output: .capture, error: .capture)
        defer {
            server.terminate()
            _ = server.waitUntilExit()
        }
        try #require(server.waitForCaptured(.standardOutput, containing: "\n", timeout: 15), "\(server.capturedText(.standardError))")
        let port = try #require(Int(server.capturedText(.standardOutput).split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        let saved = try JSONSerialization.data(withJSONObject: ["url": "http://127.0.0.1:\(port)", "token": "token-a"])
        try saved.write(to: URL(fileURLWithPath: config))

        // No address, token or key from the environment: all of it comes from the saved login.
        let run = try GatewayHarness.run(BuildProducts.executable("ocorre"), ["tickets", "show", "T-1"], environment: [
            "OCORRE_CONFIG": config, "OCORRE_URL": "", "OCORRE_TOKEN": "", "OCORRE_API_KEY": "", "OCORRE_LANG": "pt"])
        #expect(run.status == 0, "\(run.output)\n\(run.error)")
        #expect(run.output.contains("2026-000001"), "\(run.output)")
        let requests = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(requests.count == 3, "\(requests)")
        #expect(requests.first?.hasPrefix("/v1/tickets/T-1 ") == true, "\(requests)")
        #expect(requests.allSatisfy { $0.hasSuffix(" Bearer token-a") }, "every call with the login read at the start: \(requests)")
        // The next command reads the file anew: the login written meanwhile.
        let next = try GatewayHarness.run(BuildProducts.executable("ocorre"), ["get", "/v1/channels"], environment: [
            "OCORRE_CONFIG": config, "OCORRE_URL": "", "OCORRE_TOKEN": "", "OCORRE_API_KEY": ""])
        #expect(next.status == 0, "\(next.error)")
        let all = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(all.last == "/v1/channels Bearer token-b", "\(all)")
    }
}
