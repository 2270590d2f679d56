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
    /// `LeadSource`; `nil` leaves it to the org (its default value, else blank): see ``LeadSourceChoice``.
    public var leadSource: String?

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

    /// The `LeadSource` value written when the org accepts it: `DocSend`.
    public static let leadSource = "DocSend"

    /// The record to POST to `/sobjects/Lead`.
    public var fields: [String: FieldValue] {
        var fields: [String: FieldValue] = [
            "LastName": .string(lastName),
            "Company": .string(company),
            "Email": .string(email),
        ]
        if let leadSource { fields["LeadSource"] = .string(leadSource) }
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
    /// to its limit on a grapheme boundary. `LeadSource` is what `leadSource` chose (`DocSend` by default).
    public static func make(
        visitor: VisitorInfo, accountName: String?, leadSource: LeadSourceChoice = .value(LeadDraft.leadSource)
    ) -> Result<LeadDraft, Failure> {
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
                leadSource: leadSource.value))
    }
}

/// The Lead's `LeadSource` field as the org describes it: the parts ``LeadSourceChoice`` needs.
public struct PicklistFieldDescription: Sendable, Hashable, Codable {
    /// Whether the integration user can set it on create (field-level security).
    public var createable: Bool
    /// A restricted picklist refuses values it does not list.
    public var restricted: Bool
    /// The active values.
    public var values: [String]

    /// Creates a description.
    public init(createable: Bool = true, restricted: Bool = false, values: [String] = []) {
        self.createable = createable
        self.restricted = restricted
        self.values = values
    }
}

/// The `LeadSource` a new Lead gets: `DocSend` when the org takes it, else none (the org's default value applies,
/// or the field stays blank). A restricted picklist without `DocSend` would otherwise refuse every Lead
/// (`INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`) and park every visit waiting for one.
public enum LeadSourceChoice: Sendable, Hashable {
    /// Write this value (the org's own spelling of it).
    case value(String)
    /// Write none, for this reason.
    case omitted(Reason)

    /// Why no `LeadSource` is written.
    public enum Reason: Sendable, Hashable, CustomStringConvertible {
        /// The Lead has no `LeadSource` field the integration user can see.
        case fieldMissing
        /// Field-level security keeps the integration user from setting it.
        case notCreateable
        /// The picklist is restricted and has no such active value.
        case notInRestrictedPicklist(wanted: String, values: [String])

        public var description: String {
            switch self {
            case .fieldMissing: "the Lead object has no LeadSource field the integration user can see"
            case .notCreateable: "the integration user cannot set Lead.LeadSource (field-level security)"
            case .notInRestrictedPicklist(let wanted, let values):
                "Lead.LeadSource is a restricted picklist without \"\(wanted)\" (it has: "
                    + (values.isEmpty ? "no values" : values.joined(separator: ", ")) + ")"
            }
        }
    }

    /// The value written, if any.
    public var value: String? {
        if case .value(let value) = self { return value }
        return nil
    }

    /// Chooses `wanted` against the org's `LeadSource` field (`nil` when the describe has none): the picklist's
    /// own spelling of it when listed (case-insensitively), `wanted` itself on an unrestricted picklist, nothing
    /// when the field is missing, not createable, or restricted without it.
    public static func choose(_ wanted: String = LeadDraft.leadSource, field: PicklistFieldDescription?) -> LeadSourceChoice {
        guard let field else { return .omitted(.fieldMissing) }
        guard field.createable else { return .omitted(.notCreateable) }
        if let listed = field.values.first(where: { $0.caseInsensitiveCompare(wanted) == .orderedSame }) {
            return .value(listed)
        }
        return field.restricted ? .omitted(.notInRestrictedPicklist(wanted: wanted, values: field.values)) : .value(wanted)
    }
}
