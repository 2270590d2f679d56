import CCurl
import CShims
import Foundation
import Logging
import Synchronization
import Timing

// All of libcurl lives in this folder. One thread owns the multi handle and every easy handle; other
// threads only touch `inbox` (under its mutex) and call `curl_multi_wakeup`, which libcurl documents
// as callable from any thread. They call it under the inbox's lock and only while the thread runs,
// because the thread cleans the multi handle up on its way out.

private let curlGlobalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

/// What callers hand to the transfer thread, and what they ask of it.
private struct Inbox: ~Copyable {
    enum Slot {
        case registered
        case submitted
        case cancelledBeforeSubmit
    }
    var slots: [UInt64: Slot] = [:]
    var newTransfers: [Transfer] = []
    var cancellations: [UInt64] = []
    var shuttingDown = false
    /// The thread has finished and cleaned up the multi handle.
    var stopped = false
    var stopWaiters: [CheckedContinuation<Void, Never>] = []
    var nextID: UInt64 = 0

    /// Wakes the thread from `curl_multi_poll`, unless it has stopped (the handle is then gone).
    func wake(_ multi: UnsafeMutableRawPointer) {
        if !stopped { curl_multi_wakeup(multi) }
    }
}

/// The multi handle and the thread that drives it.
// @unchecked Sendable: `inbox` is behind a Mutex; `active` and `idleHandles` are used by the thread only, and
// `multi` by the thread, or under the inbox's lock while the thread runs (`Inbox.wake`).
final class CurlMultiEngine: @unchecked Sendable {
    private let configuration: HTTPClient.Configuration
    private let logger: Logger
    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())
    private var active: [UInt64: Transfer] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []

    init(configuration: HTTPClient.Configuration, logger: Logger) throws {
        guard curlGlobalInit == CURLE_OK, let multi = curl_multi_init() else {
            throw HTTPClientError(code: .other, message: "libcurl could not be initialised", url: "")
        }
        self.configuration = configuration
        self.logger = logger
        self.multi = multi
        // The thread holds the engine until it stops, so an engine whose client went away still shuts down.
        let thread = Thread { [self] in self.run() }
        thread.name = "docsend-sync.http"
        thread.start()
    }

    // MARK: Callers' side

    func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        let id: UInt64 = inbox.withLock { inbox in
            inbox.nextID += 1
            inbox.slots[inbox.nextID] = .registered
            return inbox.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let transfer = Transfer(
                    id: id, request: request, maxBytes: configuration.maxResponseBytes, continuation: continuation)
                let verdict: HTTPClientError.Code? = inbox.withLock { inbox in
                    if inbox.shuttingDown {
                        inbox.slots[id] = nil
                        return .shutdown
                    }
                    if case .cancelledBeforeSubmit = inbox.slots[id] {
                        inbox.slots[id] = nil
                        return .cancelled
                    }
                    inbox.slots[id] = .submitted
                    inbox.newTransfers.append(transfer)
                    inbox.wake(multi)
                    return nil
                }
                if let verdict {
                    transfer.fail(verdict, verdict == .shutdown ? "the client was shut down" : "the task was cancelled")
                }
            }
        } onCancel: {
            inbox.withLock { inbox in
                switch inbox.slots[id] {
                case .registered:
                    inbox.slots[id] = .cancelledBeforeSubmit
                case .submitted:
                    inbox.cancellations.append(id)
                    inbox.wake(multi)
                case .cancelledBeforeSubmit, nil:
                    break
                }
            }
        }
    }

    /// Asks the thread to fail what is in flight and stop; does not wait. Idempotent.
    func requestShutdown() {
        inbox.withLock { inbox in
            guard !inbox.shuttingDown else { return }
            inbox.shuttingDown = true
            inbox.wake(multi)
        }
    }

    /// Returns once the thread has stopped (after ``requestShutdown()``), at once if it has already.
    func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let stopped = inbox.withLock { inbox -> Bool in
                if inbox.stopped { return true }
                inbox.stopWaiters.append(continuation)
                return false
            }
            if stopped { continuation.resume() }
        }
    }

    // MARK: The transfer thread

    private func run() {
        var running: Int32 = 0
        while true {
            let (newTransfers, cancellations, shuttingDown) = inbox.withLock { inbox in
                defer {
                    inbox.newTransfers.removeAll(keepingCapacity: true)
                    inbox.cancellations.removeAll(keepingCapacity: true)
                }
                return (inbox.newTransfers, inbox.cancellations, inbox.shuttingDown)
            }
            for transfer in newTransfers { start(transfer) }
            for id in cancellations {
                if let transfer = active[id] { finish(transfer, failing: .cancelled, "the task was cancelled") }
            }
            if shuttingDown {
                stop()
                return
            }

            curl_multi_perform(multi, &running)
            var easy: UnsafeMutableRawPointer?
            var result = CURLE_OK
            while dss_curl_multi_next_done(multi, &easy, &result) == 1 {
                guard let easy, let transfer = transfer(of: easy) else { continue }
                complete(transfer, result: result)
            }
            var ready: Int32 = 0
            curl_multi_poll(multi, nil, 0, 1000, &ready)
        }
    }

    /// Fails what is in flight, frees every handle and lets the waiters of ``waitUntilStopped()`` go.
    private func stop() {
        let inFlight = active.count
        for transfer in active.values { finish(transfer, failing: .shutdown, "the client was shut down") }
        for easy in idleHandles { curl_easy_cleanup(easy) }
        idleHandles.removeAll()
        // `stopped` first, under the lock: no caller wakes the multi handle once it is cleaned up.
        let waiters = inbox.withLock { inbox in
            inbox.stopped = true
            defer { inbox.stopWaiters.removeAll() }
            return inbox.stopWaiters
        }
        curl_multi_cleanup(multi)
        logger.debug("HTTP client stopped", metadata: ["http-failed-in-flight": "\(inFlight)"])
        for waiter in waiters { waiter.resume() }
    }

    private func transfer(of easy: UnsafeMutableRawPointer) -> Transfer? {
        var raw: UnsafeMutableRawPointer?
        guard dss_curl_easy_getinfo_pointer(easy, CURLINFO_PRIVATE, &raw) == CURLE_OK,
            let raw
        else { return nil }
        return Unmanaged<Transfer>.fromOpaque(raw).takeUnretainedValue()
    }

    private func start(_ transfer: Transfer) {
        let easy: UnsafeMutableRawPointer
        if let reused = idleHandles.popLast() {
            curl_easy_reset(reused)
            easy = reused
        } else if let created = curl_easy_init() {
            easy = created
        } else {
            transfer.fail(.other, "libcurl could not create a transfer")
            return
        }
        transfer.easy = easy
        if let problem = configure(easy, for: transfer) {
            curl_easy_cleanup(easy)
            transfer.easy = nil
            dropSlot(transfer.id)
            transfer.fail(.invalidRequest, problem)
            return
        }
        active[transfer.id] = transfer
        curl_multi_add_handle(multi, easy)
    }

    /// Sets every option of one transfer; returns what went wrong, if anything.
    private func configure(_ easy: UnsafeMutableRawPointer, for transfer: Transfer) -> String? {
        let handle = easy
        let request = transfer.request
        var failures: [String] = []
        func check(_ code: CURLcode, _ what: String) {
            if code != CURLE_OK { failures.append("\(what): \(String(cString: curl_easy_strerror(code)))") }
        }
        let timeout = request.timeout ?? configuration.defaultTimeout
        check(dss_curl_easy_setopt_string(handle, CURLOPT_URL, request.url), "url")
        check(dss_curl_easy_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"), "protocols")
        check(dss_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "nosignal")
        check(dss_curl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeout.millisecondsRoundedUp), "timeout")
        check(
            dss_curl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, configuration.connectTimeout.millisecondsRoundedUp),
            "connect timeout")
        check(dss_curl_easy_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1), "keepalive")
        check(dss_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1), "verify peer")
        check(dss_curl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2), "verify host")
        if let caFile = configuration.caFile { check(dss_curl_easy_setopt_string(handle, CURLOPT_CAINFO, caFile), "ca file") }
        check(dss_curl_easy_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, ""), "accept encoding")
        check(dss_curl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, transfer.errorBuffer), "error buffer")

        switch request.method {
        case .get: check(dss_curl_easy_setopt_long(handle, CURLOPT_HTTPGET, 1), "method")
        case .head: check(dss_curl_easy_setopt_long(handle, CURLOPT_NOBODY, 1), "method")
        case .post: check(dss_curl_easy_setopt_long(handle, CURLOPT_POST, 1), "method")
        default: check(dss_curl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method.rawValue), "method")
        }
        if let body = request.body {
            check(dss_curl_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "body size")
            body.withUnsafeBytes { bytes in
                // COPYPOSTFIELDS copies, so the Data may go away once this returns.
                let base = bytes.baseAddress ?? UnsafeRawPointer(transfer.errorBuffer)
                check(dss_curl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: base)), "body")
            }
        } else if request.method == .post {
            check(dss_curl_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, 0), "body size")
            check(dss_curl_easy_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, ""), "body")
        }

        var list: UnsafeMutablePointer<curl_slist>? = nil
        func append(_ line: String) {
            if let extended = curl_slist_append(list, line) { list = extended } else { failures.append("header") }
        }
        append("Expect:")  // no 100-continue round trip
        if request.headers["User-Agent"] == nil { append("User-Agent: \(configuration.userAgent)") }
        for field in request.headers {
            // Unicode scalars, not Characters: "\r\n" is a single Character and would slip past.
            guard !field.name.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == ":" }),
                !field.value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" })
            else {
                failures.append("header \(field.name.debugDescription) contains a line break or colon")
                continue
            }
            // "Name;" is curl's way to send a header with an empty value.
            append(field.value.isEmpty ? "\(field.name);" : "\(field.name): \(field.value)")
        }
        transfer.headerList = list
        check(dss_curl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list), "headers")

        let opaque = Unmanaged.passUnretained(transfer).toOpaque()
        check(dss_curl_easy_setopt_pointer(handle, CURLOPT_PRIVATE, opaque), "private")
        check(dss_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, opaque), "write data")
        check(dss_curl_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, curlWriteBody), "write callback")
        check(dss_curl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, opaque), "header data")
        check(dss_curl_easy_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, curlWriteHeader), "header callback")
        return failures.isEmpty ? nil : failures.joined(separator: "; ")
    }

    private func complete(_ transfer: Transfer, result: CURLcode) {
        guard let easy = transfer.easy else { return }
        if result == CURLE_OK {
            var status = 0
            _ = dss_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            release(transfer)
            transfer.continuation.resume(
                returning: HTTPResponse(status: status, headers: transfer.headers, body: transfer.body))
            return
        }
        let detail = String(cString: transfer.errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(result)) : detail
        if transfer.bodyTooLarge {
            finish(transfer, failing: .other, "response body exceeds \(transfer.maxBytes) bytes")
        } else {
            finish(transfer, failing: Self.code(for: result), message)
        }
    }

    private func finish(_ transfer: Transfer, failing code: HTTPClientError.Code, _ message: String) {
        release(transfer)
        transfer.fail(code, message)
    }

    /// Takes the transfer out of the multi handle and keeps its easy handle for reuse.
    private func release(_ transfer: Transfer) {
        active[transfer.id] = nil
        dropSlot(transfer.id)
        guard let easy = transfer.easy else { return }
        transfer.easy = nil
        curl_multi_remove_handle(multi, easy)
        if idleHandles.count < 64 {
            idleHandles.append(easy)
        } else {
            curl_easy_cleanup(easy)
        }
    }

    private func dropSlot(_ id: UInt64) {
        _ = inbox.withLock { $0.slots.removeValue(forKey: id) }
    }

    private static func code(for result: CURLcode) -> HTTPClientError.Code {
        switch result {
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .connectFailed
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ENGINE_NOTFOUND:
            return .tls
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE:
            return .connectionLost
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_FUNCTION_ARGUMENT:
            return .invalidRequest
        default:
            return .other
        }
    }
}
