import Foundation

extension Sequence where Element == Event {
    /// The events as JSON Lines: one encoded event per line, each line ending with `\n`.
    public func jsonLines() -> Data {
        var data = Data()
        for event in self {
            data.append(event.encoded())
            data.append(UInt8(ascii: "\n"))
        }
        return data
    }
}

extension Event {
    /// One line of a JSON Lines document, decoded.
    public struct DecodedLine: Sendable, Hashable {
        /// 1-based line number in the document.
        public var lineNumber: Int
        /// The event, or why the line is not one.
        public var result: Result<Event, ContractViolation>
    }

    /// Decodes a JSON Lines document (as written by ``Swift/Sequence/jsonLines()``): one result per non-blank
    /// line, in order; a bad line does not stop the others. Lines may end with `\n` or `\r\n`.
    public static func decodeJSONLines(_ document: Data) -> [DecodedLine] {
        var results: [DecodedLine] = []
        for (index, line) in document.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .enumerated()
        {
            let trimmed = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
            guard trimmed.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else { continue }
            let result: Result<Event, ContractViolation>
            do {
                result = .success(try Event.decode(from: Data(trimmed)))
            } catch {
                result = .failure(error)
            }
            results.append(DecodedLine(lineNumber: index + 1, result: result))
        }
        return results
    }
}

extension Event.Payload {
    /// The visit this payload is about (`visit.started`, `visit.updated`), else `nil`.
    public var visitID: String? {
        switch self {
        case .visitStarted(let visit): visit.visitID
        case .visitUpdated(let update): update.visitID
        case .linkCreated, .spaceLinkCreated: nil
        }
    }

    /// The link this payload is about (`visit.started`'s `link_id`, `link.created`, `space_link.created`'s
    /// `space_link_id`), else `nil`.
    public var linkID: String? {
        switch self {
        case .visitStarted(let visit): visit.linkID
        case .linkCreated(let link): link.linkID
        case .spaceLinkCreated(let spaceLink): spaceLink.spaceLinkID
        case .visitUpdated: nil
        }
    }
}
