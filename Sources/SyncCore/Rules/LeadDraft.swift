/// A Lead to create for a visitor email that matched no Lead or Contact (option *Create new leads for
/// unmatched emails*), with every field already cut to Salesforce's limits.
public struct LeadDraft: Sendable, Hashable {
    /// `LastName` (required, at most 80).
    public var lastName: String
    /// `FirstName` (at most 40), when the visitor's name has one.
    public var firstName: String?
    /// `Company` (required, at most 255).
    public var company: String
    /// `Email` (at most 80; never cut: a cut email is another address).
    public var email: String
    /// `LeadSource`.
    public var leadSource: String

    /// Salesforce's limits on the Lead fields written.
    public enum Limit {
        /// `LastName`
        public static let lastName = 80
        /// `FirstName`
        public static let firstName = 40
        /// `Company`
        public static let company = 255
        /// `Email`
        public static let email = 80
    }

    /// The `LeadSource` value written: `DocSend`.
    public static let leadSource = "DocSend"

    /// The record to POST to `/sobjects/Lead`.
    public var fields: [String: FieldValue] {
        var fields: [String: FieldValue] = [
            "LastName": .string(lastName),
            "Company": .string(company),
            "Email": .string(email),
            "LeadSource": .string(leadSource),
        ]
        if let firstName { fields["FirstName"] = .string(firstName) }
        return fields
    }

    /// Why a Lead cannot be made from a visitor.
    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// The visitor gave no email.
        case noEmail
        /// The email is longer than Salesforce's 80-character `Email` field (its length in UTF-16 units).
        case emailTooLong(length: Int)
        /// The email has no `@` between a local part and a domain, or contains whitespace: Salesforce would
        /// reject it.
        case invalidEmail

        public var description: String {
            switch self {
            case .noEmail: "the visitor gave no email"
            case .emailTooLong(let length):
                "the visitor's email has \(length) characters, more than the \(Limit.email) a Lead's Email holds"
            case .invalidEmail: "the visitor's email is not an address Salesforce accepts"
            }
        }
    }

    /// The Lead for a visitor.
    ///
    /// Rules: an email is required, at most 80 characters and shaped `local@domain` without whitespace (not
    /// cut, refused). `FirstName` is the first word of the visitor's name and `LastName` the rest
    /// (`Jean de La Fontaine` → `Jean` / `de La Fontaine`); a one-word name is the `LastName`; without a name,
    /// `LastName` is the email's local part. `Company` is the DocSend account's name, else the email's domain.
    /// Names are put on one line (control characters and line breaks become spaces) and every field is cut
    /// to its limit on a grapheme boundary. `LeadSource` is `DocSend`.
    public static func make(visitor: VisitorInfo, accountName: String?) -> Result<LeadDraft, Failure> {
        guard let email = Matching.normalizedEmail(visitor.email) else { return .failure(.noEmail) }
        let length = SalesforceText.length(email)
        guard length <= Limit.email else { return .failure(.emailTooLong(length: length)) }
        guard let at = email.lastIndex(of: "@"), !email.contains(where: \.isWhitespace) else {
            return .failure(.invalidEmail)
        }
        let local = String(email[..<at])
        let domain = String(email[email.index(after: at)...])
        guard !local.isEmpty, !domain.isEmpty else { return .failure(.invalidEmail) }

        var firstName: String?
        var lastName = SalesforceText.singleLine(visitor.name ?? "")
        if let space = lastName.firstIndex(of: " ") {
            firstName = String(lastName[..<space])
            lastName = String(lastName[lastName.index(after: space)...])
        }
        if lastName.isEmpty { lastName = local }
        let company = SalesforceText.singleLine(accountName ?? "")

        return .success(
            LeadDraft(
                lastName: SalesforceText.cut(lastName, to: Limit.lastName),
                firstName: firstName.map { SalesforceText.cut($0, to: Limit.firstName) },
                company: SalesforceText.cut(company.isEmpty ? domain : company, to: Limit.company),
                email: email,
                leadSource: leadSource))
    }
}
