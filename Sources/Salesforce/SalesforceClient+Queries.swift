import Foundation
import JSON
import Logging

extension SalesforceClient {
    /// The most queries one composite request may carry.
    public static let maxCompositeQueries = 5

    /// Runs up to five `queries` in one composite request (one API call) and returns each one's records, or its own
    /// error, in order. A query whose results span pages follows `nextRecordsUrl` (one more call a page).
    ///
    /// - Throws: what fails the whole request (transport, session, a malformed reply); a refused query is a
    ///   `.failure` in its place.
    public func queries(_ queries: [SOQL], logger: Logger? = nil) async throws -> [Result<[SObjectRecord], SalesforceError>] {
        guard !queries.isEmpty, queries.count <= Self.maxCompositeQueries else {
            throw SalesforceError.invalidArgument("one composite request carries 1…\(Self.maxCompositeQueries) queries")
        }
        let subrequests = try queries.enumerated().map { index, soql throws(SalesforceError) in
            try CompositeSubrequest.query(soql, referenceId: "query\(index)")
        }
        let responses = try await composite(subrequests, allOrNone: false, logger: logger)
        guard responses.count == queries.count else {
            throw SalesforceError.invalidResponse(
                "a composite request answered \(responses.count) of \(queries.count) queries", httpStatus: 200)
        }
        var results: [Result<[SObjectRecord], SalesforceError>] = []
        for response in responses {
            guard response.isSuccess else {
                results.append(
                    .failure(
                        response.errors.first
                            ?? .invalidResponse("a query failed without an error", httpStatus: response.httpStatusCode)))
                continue
            }
            var page: QueryPage<SObjectRecord>
            do {
                page = try JSONDecoder().decode(QueryPage<SObjectRecord>.self, from: JSONEncoder().encode(response.body))
            } catch {
                throw SalesforceError.invalidResponse("a composite query's body is not a query page", httpStatus: 200)
            }
            var records = page.records
            while !page.done {
                guard let next = page.nextRecordsUrl else {
                    throw SalesforceError.invalidResponse("a query page is not done but has no nextRecordsUrl", httpStatus: 200)
                }
                page = try await queryMore(next, as: SObjectRecord.self, logger: logger)
                records += page.records
            }
            results.append(.success(records))
        }
        return results
    }
}
