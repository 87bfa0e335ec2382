import TestSupport
import ArchiveCore
import Foundation
import LlamaCloudClient
import LosslessJSON
import SQLiteCore
import Testing

/// Sync against loopback servers that misbehave on purpose.
@Suite struct HostileServerTests {
    let folder: TemporaryDirectory
    var archivePath: String { folder.path("archive.db") }

    init() throws { folder = try TemporaryDirectory() }

    static func session(_ id: String, updated: String = "2026-03-01T10:00:00Z") -> String {
        JSONValue.object(["session_id": .string(id), "last_updated_at": .string(updated),
                          "events": [["content": "hello", "type": "user_input"]]]).serialized
    }

    static func page(_ ids: [String], next: String?) -> String {
        let items = ids.map { JSONValue.object(["session_id": .string($0), "last_updated_at": "2026-03-01T10:00:00Z"]) }
        return JSONValue.object(["items": .array(items), "next_page_token": next.map { .string($0) } ?? .null]).serialized
    }

    /// A sync's outcome: its summary, or the fatal error that ended it.
    func sync(_ base: String, timeout: Double = 10, maxRetries: Int = 0, maxResponseBytes: Int = 1_000_000,
              configure: (inout SyncOptions) -> Void = { _ in }) async throws -> Result<SyncSummary, SyncError> {
        var options = SyncOptions()
        options.concurrency = 4
        configure(&options)
        let client = ChatAPIClient(baseURL: URL(string: base)!, apiKey: "secret-key", organizationID: options.organizationID,
                                   retryPolicy: RetryPolicy(maxRetries: maxRetries),
                                   timeout: timeout, maxResponseBytes: maxResponseBytes)
        do { return .success(try await Archive(path: archivePath).syncOne(client: client, options: options)) } catch let error as SyncError {
            return .failure(error)
        }
    }

    func failures() throws -> [String] {
        let database = try Database(path: archivePath, mode: .readOnly)
        var rows: [String] = []
        try database.forEachRow("SELECT session_id, coalesce(http_status, '-'), message FROM sync_failures ORDER BY rowid") {
            try rows.append("\($0.string(0))|\($0.string(1))|\($0.string(2))")
        }
        return rows
    }

    func archivedIDs() throws -> [String] {
        let database = try Database(path: archivePath, mode: .readOnly)
        var ids: [String] = []
        try database.forEachRow("SELECT session_id FROM sessions ORDER BY session_id") { try ids.append($0.string(0)) }
        return ids
    }

    // MARK: Redirects

    @Test func aRedirectIsNeverFollowedAndTheKeyStaysHome() async throws {
        let elsewhere = try ScriptedHTTPServer { _, connection in connection.respond(status: 200, json: Self.page([], next: nil)) }
        let api = try ScriptedHTTPServer { request, connection in
            connection.respond(status: 302, headers: ["location": "\(elsewhere.baseURL)/api/v1/chat?steal=1"], body: [])
        }
        let outcome = try await sync(api.baseURL)
        guard case .failure(let error) = outcome else { Issue.record("a redirected listing must be fatal"); return }
        #expect(error.description == "the API answered 302 to \(elsewhere.baseURL)/api/v1/chat?steal=1: not followed")
        #expect(error.summary.status == .failed)
        #expect(elsewhere.requests.isEmpty, "the redirect was followed")
        #expect(api.requests.count == 1)
    }

    @Test func everyKindOfRedirectGetsTheSameClearMessage() async throws {
        for (status, location) in [(301, "file:///etc/passwd"), (307, "ftp://127.0.0.1/x"), (308, "data:text/plain,hi"),
                                   (302, "/api/v1/chat"), (303, "https://127.0.0.1:1/")] {
            let api = try ScriptedHTTPServer { _, connection in
                connection.respond(status: status, headers: ["location": location], body: [])
            }
            let outcome = try await sync(api.baseURL)
            guard case .failure(let error) = outcome else { Issue.record("\(status) \(location) was not fatal"); continue }
            #expect(error.description.hasPrefix("the API answered \(status) to "), "\(error.description)")
            #expect(error.description.hasSuffix(": not followed"))
            #expect(api.requests.count == 1, "\(location) was followed")
        }
    }

    @Test func aRedirectedRetrieveIsARecordedFailure() async throws {
        let api = try ScriptedHTTPServer { request, connection in
            switch request.path {
            case "/api/v1/chat": connection.respond(status: 200, json: Self.page(["ses-a", "ses-b"], next: nil))
            case "/api/v1/chat/ses-a": connection.respond(status: 307, headers: ["location": "http://127.0.0.1:1/x"], body: [])
            default: connection.respond(status: 200, json: Self.session("ses-b"))
            }
        }
        let outcome = try await sync(api.baseURL)
        guard case .success(let summary) = outcome else { Issue.record("\(outcome)"); return }
        #expect(summary.status == .partial && summary.new == 1 && summary.failed == 1)
        #expect(try failures() == ["ses-a|307|the API answered 307 to http://127.0.0.1:1/x: not followed"])
    }

    // MARK: Encoding

    @Test func queryValuesAndIdsAreEncodedAsTheSDKEncodesThem() async throws {
        let cursor = "b64+/x==&y z\u{E9}"
        let api = try ScriptedHTTPServer { request, connection in
            if request.path == "/api/v1/chat" {
                let token = request.query["page_token"]
                connection.respond(status: 200, json: token == nil ? Self.page(["a+b/c"], next: cursor)
                                   : token == cursor ? Self.page(["d e"], next: nil)
                                   : #"{"detail":"invalid page_token"}"#)
            } else {
                let id = String(request.path.dropFirst("/api/v1/chat/".count)).removingPercentEncoding ?? ""
                connection.respond(status: 200, json: Self.session(id))
            }
        }
        let outcome = try await sync(api.baseURL) { $0.projects = ["proj+1"]; $0.organizationID = "org/&=" }
        guard case .success(let summary) = outcome else { Issue.record("\(outcome)"); return }
        let failed = try failures()
        #expect(summary.status == .ok && summary.new == 2, "\(failed)")
        let targets = api.requests.map(\.target)
        #expect(targets.contains("/api/v1/chat?page_size=1000&page_token=b64%2B%2Fx%3D%3D%26y%20z%C3%A9&project_id=proj%2B1&organization_id=org%2F%26%3D"),
                "\(targets)")
        #expect(targets.contains("/api/v1/chat/a%2Bb%2Fc?project_id=proj%2B1&organization_id=org%2F%26%3D"))
        #expect(targets.contains("/api/v1/chat/d%20e?project_id=proj%2B1&organization_id=org%2F%26%3D"))
        #expect(try archivedIDs() == ["a+b/c", "d e"])
    }

    @Test func dotSegmentIdsAreRefusedWithoutARequest() async throws {
        let api = try ScriptedHTTPServer { request, connection in
            if request.path == "/api/v1/chat" {
                connection.respond(status: 200, json: Self.page([".", "..", "ok"], next: nil))
            } else {
                connection.respond(status: 200, json: Self.session("ok"))
            }
        }
        let outcome = try await sync(api.baseURL)
        guard case .success(let summary) = outcome else { Issue.record("\(outcome)"); return }
        #expect(summary.new == 1 && summary.failed == 2)
        #expect(api.requests.map(\.path).sorted() == ["/api/v1/chat", "/api/v1/chat/ok"])
        #expect(try failures().sorted() == [
            "..|-|session id \"..\" cannot be sent as one path segment",
            ".|-|session id \".\" cannot be sent as one path segment",
        ])
    }

    @Test func idsAreComparedAsBytesNotByCanonicalEquivalence() async throws {
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        let api = try ScriptedHTTPServer { request, connection in
            if request.path == "/api/v1/chat" {
                connection.respond(status: 200, json: Self.page([composed, decomposed], next: nil))
            } else {
                let id = String(request.path.dropFirst("/api/v1/chat/".count)).removingPercentEncoding ?? ""
                connection.respond(status: 200, json: Self.session(id))
            }
        }
        let outcome = try await sync(api.baseURL)
        guard case .success(let summary) = outcome else { Issue.record("\(outcome)"); return }
        let failed = try failures()
        #expect(summary.listed == 2 && summary.new == 2 && summary.failed == 0, "\(failed)")
        let ids = try archivedIDs()
        #expect(ids.count == 2)
        #expect(Set(ids.map { Array($0.utf8) }) == [Array(composed.utf8), Array(decomposed.utf8)])
        // A second, complete listing marks neither deleted.
        _ = try await sync(api.baseURL)
        let database = try Database(path: archivePath, mode: .readOnly)
        #expect(try database.scalar("SELECT count(*) FROM sessions WHERE deleted_at IS NOT NULL", as: Int.self) == 0)
    }

    // MARK: Servers that hold on

    @Test func aDrippingServerCannotOutlastTheTimeout() async throws {
        // How long the client stayed, as the server sees it (its own thread):
        // the test's await may resume late when other tests keep the task pool busy.
        let stayed = SharedNumber()
        let api = try ScriptedHTTPServer { _, connection in
            let started = Date()
            connection.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n")
            for _ in 0..<60 {
                guard connection.write(" ") else { break }
                Thread.sleep(forTimeInterval: 0.5)
            }
            stayed.set(max(1, Int(Date().timeIntervalSince(started) * 1000)))
        }
        let outcome = try await sync(api.baseURL, timeout: 1)
        guard case .failure(let error) = outcome else { Issue.record("\(outcome)"); return }
        #expect(error.description == "cannot reach \(api.baseURL): no response for /api/v1/chat: timed out after 1 s")
        #expect(error.reason == .unreachable(baseURL: api.baseURL, .transport(path: "/api/v1/chat", failure: .timedOut(seconds: 1))))
        for _ in 0..<800 where stayed.value == 0 { try await Task.sleep(nanoseconds: 50_000_000) }  // 40 s at most
        let seconds = Double(stayed.value) / 1000
        #expect(seconds < TestTime.seconds(10), "the client stayed \(seconds) s; the server drips for 30 s")
        api.stop()
    }

    @Test func anEndlessCursorOfEmptyPagesEndsAsAnIncompleteListing() async throws {
        let counter = Counter()
        let api = try ScriptedHTTPServer { request, connection in
            if request.path == "/api/v1/chat" {
                let n = counter.next()
                connection.respond(status: 200, json: Self.page(n == 0 ? ["ses-a"] : [], next: "token-\(n)"))
            } else {
                connection.respond(status: 200, json: Self.session("ses-a"))
            }
        }
        // An earlier session of the project that a complete listing would mark deleted.
        let earlier = try ScriptedHTTPServer { request, connection in
            connection.respond(status: 200, json: request.path == "/api/v1/chat" ? Self.page(["ses-old"], next: nil) : Self.session("ses-old"))
        }
        _ = try await sync(earlier.baseURL)
        let outcome = try await sync(api.baseURL)
        guard case .success(let summary) = outcome else { Issue.record("\(outcome)"); return }
        #expect(summary.status == .partial && summary.deleted == 0 && summary.new == 1)
        #expect(try failures() == ["(listing)|-|the API kept handing out page tokens (10 empty pages in a row); listing stopped after 1 sessions"])
        #expect(api.requests.filter { $0.path == "/api/v1/chat" }.count == 11)
    }

    @Test func aListingLongerThanTheBoundStops() async throws {
        let counter = Counter()
        let api = try ScriptedHTTPServer { request, connection in
            let n = counter.next()
            connection.respond(status: 200, json: request.path == "/api/v1/chat"
                               ? Self.page(["ses-\(n)"], next: "token-\(n)")
                               : Self.session(String(request.path.dropFirst("/api/v1/chat/".count))))
        }
        let outcome = try await sync(api.baseURL) { $0.maxPages = 5 }
        guard case .success(let summary) = outcome else { Issue.record("\(outcome)"); return }
        #expect(summary.status == .partial && summary.listed == 5)
        let failed = try failures()
        #expect(failed.first?.hasSuffix("(5 pages); listing stopped after 5 sessions") == true, "\(failed)")
    }

    // MARK: Bodies

    @Test func aResponseOverTheLimitIsRefusedForThatSessionOnly() async throws {
        let big = Self.session("ses-big").replacingOccurrences(of: "hello", with: String(repeating: "x", count: 5_000))
        let api = try ScriptedHTTPServer { request, connection in
            switch request.path {
            case "/api/v1/chat": connection.respond(status: 200, json: Self.page(["ses-big", "ses-chunked", "ses-ok"], next: nil))
            case "/api/v1/chat/ses-big": connection.respond(status: 200, json: big)
            case "/api/v1/chat/ses-chunked":
                // No length announced: the limit holds while reading.
                connection.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                for _ in 0..<10 { connection.write(String(format: "%x\r\n", 1000) + String(repeating: " ", count: 1000) + "\r\n") }
                connection.write("0\r\n\r\n")
            default: connection.respond(status: 200, json: Self.session("ses-ok"))
            }
        }
        let outcome = try await sync(api.baseURL, maxResponseBytes: 4_000)
        guard case .success(let summary) = outcome else { Issue.record("\(outcome)"); return }
        #expect(summary.new == 1 && summary.failed == 2)
        for failure in try failures() {
            #expect(failure.hasSuffix("|-|no response for /api/v1/chat/\(failure.prefix { $0 != "|" }): response larger than 4000 bytes"),
                    "\(failure)")
        }
    }

    @Test func shortBodiesAndEmptyAnswersSayWhatHappened() async throws {
        let api = try ScriptedHTTPServer { request, connection in
            switch request.path {
            case "/api/v1/chat": connection.respond(status: 200, json: Self.page(["ses-cut", "ses-204"], next: nil))
            case "/api/v1/chat/ses-cut":
                connection.write("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n{\"session_id\":")
                connection.close()
            default:
                connection.write("HTTP/1.1 204 No Content\r\n\r\n")
            }
        }
        let outcome = try await sync(api.baseURL)
        guard case .success(let summary) = outcome else { Issue.record("\(outcome)"); return }
        #expect(summary.failed == 2)
        #expect(try failures().sorted() == [
            "ses-204|204|HTTP 204 with an empty body where a session was expected",
            "ses-cut|-|no response for /api/v1/chat/ses-cut: body cut short after 14 bytes of 1000",
        ])
    }

    @Test func aListingAnswering404PointsAtTheBaseURL() async throws {
        let api = try ScriptedHTTPServer { _, connection in connection.respond(status: 404, json: #"{"detail":"Not Found"}"#) }
        let outcome = try await sync(api.baseURL + "/wrong")
        guard case .failure(let error) = outcome else { Issue.record("\(outcome)"); return }
        #expect(error.description == "the API answered 404 to the listing at \(api.baseURL)/wrong")
        #expect(error.reason == .listingNotFound(baseURL: api.baseURL + "/wrong"))
        #expect(api.requests.map(\.path) == ["/wrong/api/v1/chat"])
    }

    @Test func controlBytesFromTheServerNeverReachAMessage() async throws {
        let api = try ScriptedHTTPServer { request, connection in
            if request.path == "/api/v1/chat" {
                connection.respond(status: 200, json: Self.page(["ses-a"], next: nil))
            } else {
                connection.respond(status: 500, json: #"{"detail":"boom\u001b]52;c;aGk=\u0007\u0000 done"}"#)
            }
        }
        _ = try await sync(api.baseURL)
        let message = try #require(try failures().first)
        #expect(!message.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "\(message.debugDescription)")
        #expect(message.hasSuffix("HTTP 500 for /api/v1/chat/ses-a: boom\u{FFFD}]52;c;aGk=\u{FFFD}\u{FFFD} done"))
    }
}

/// A number one thread sets and another reads.
final class SharedNumber: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = 0
    var value: Int { lock.lock(); defer { lock.unlock() }; return stored }
    func set(_ new: Int) { lock.lock(); stored = new; lock.unlock() }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.lock(); defer { value += 1; lock.unlock() }; return value }
}

/// A real TLS server on loopback with a certificate nobody trusts.
@Suite struct UntrustedCertificateTests {
    @Test func anUntrustedCertificateIsNamed() async throws {
        let folder = try TemporaryDirectory()
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                             "-keyout", folder.path("key.pem"), "-out", folder.path("cert.pem")]
        openssl.standardError = FileHandle.nullDevice
        openssl.standardOutput = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0)
        let server = Process()
        let out = Pipe()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", "-c", """
            import http.server, ssl, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    self.send_response(200); self.send_header("content-length", "2"); self.end_headers(); self.wfile.write(b"{}")
            httpd = http.server.HTTPServer(("127.0.0.1", 0), H)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(sys.argv[1], sys.argv[2])
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
            print(httpd.server_address[1], flush=True)
            httpd.serve_forever()
            """, folder.path("cert.pem"), folder.path("key.pem")]
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        // SIGKILL: a child may inherit a mask that blocks SIGTERM from the test runner's thread.
        defer { kill(server.processIdentifier, SIGKILL) }
        let port = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let base = "https://127.0.0.1:\(port)"
        let archive = Archive(path: folder.path("a.db"))
        let client = ChatAPIClient(baseURL: URL(string: base)!, apiKey: "k", retryPolicy: RetryPolicy(maxRetries: 3), timeout: 5)
        let error = await #expect(throws: SyncError.self) {
            _ = try await archive.syncOne(client: client, options: SyncOptions())
        }
        let message = try #require(error?.description)
        #expect(message.hasPrefix("cannot reach \(base): no response for /api/v1/chat: untrusted TLS certificate ("), "\(message)")
        #expect(client.requestCount == 1, "a certificate problem is not retried")
    }
}
