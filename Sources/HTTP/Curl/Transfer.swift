import CCurl
import CShims
import Foundation

// One request inside the transfer thread: its state while libcurl works on it, and the callbacks through
// which libcurl hands it the response.

/// One request's state while libcurl works on it.
// @unchecked Sendable: handed to the transfer thread once, through the inbox, and used only there after.
final class Transfer: @unchecked Sendable {
    let id: UInt64
    let request: HTTPRequest
    let continuation: CheckedContinuation<HTTPResponse, any Error>
    let maxBytes: Int
    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    var body = Data()
    var status = 0
    var headers = HTTPHeaders()
    var bodyTooLarge = false
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init(id: UInt64, request: HTTPRequest, maxBytes: Int, continuation: CheckedContinuation<HTTPResponse, any Error>) {
        self.id = id
        self.request = request
        self.maxBytes = maxBytes
        self.continuation = continuation
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        errorBuffer.deallocate()
        if let headerList { curl_slist_free_all(headerList) }
    }

    func fail(_ code: HTTPClientError.Code, _ message: String) {
        continuation.resume(throwing: HTTPClientError(code: code, message: message, url: request.url))
    }
}

// MARK: libcurl callbacks (C function pointers: they capture nothing)

let curlWriteBody: dss_curl_data_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard transfer.body.count + length <= transfer.maxBytes else {
        transfer.bodyTooLarge = true
        return 0  // makes libcurl abort the transfer with CURLE_WRITE_ERROR
    }
    transfer.body.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: length)
    return length
}

let curlWriteHeader: dss_curl_data_callback = { data, size, count, userdata in
    guard let data, let userdata else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    if line.hasPrefix("HTTP/") {
        // A new response starts (after a 100 Continue, say): keep only the final one's headers.
        transfer.headers = HTTPHeaders()
    } else if let colon = line.firstIndex(of: ":") {
        let name = String(line[..<colon])
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        transfer.headers.add(name: name, value: value)
    }
    return length
}
