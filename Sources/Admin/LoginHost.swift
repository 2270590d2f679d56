import Foundation

/// Which Salesforce login host an admin picked on the connect page (`?host=`).
///
/// Only these hosts are ever contacted with the connected app's secret: the configured production and sandbox login
/// URLs, and `https` My Domain hosts under `.my.salesforce.com`. Any other URL is refused, so that a crafted link
/// cannot send the client secret, a code or a token to a host of the attacker's choosing.
public enum LoginHost: Sendable, Hashable, CustomStringConvertible {
    /// `salesforce.loginURL` (default `https://login.salesforce.com`).
    case production
    /// `admin.sandboxLoginURL` (default `https://test.salesforce.com`).
    case sandbox
    /// An org's My Domain login URL, `https://NAME.my.salesforce.com` (or `NAME--SANDBOX.sandbox.my.salesforce.com`).
    case myDomain(String)

    /// Parses `production`, `sandbox` or a My Domain URL; `nil` for anything else.
    public init?(_ text: String) {
        switch text {
        case "production": self = .production
        case "sandbox": self = .sandbox
        default:
            guard text.utf8.count <= 255, let url = URLComponents(string: text), url.scheme == "https",
                let host = url.host?.lowercased(), url.user == nil, url.password == nil, url.port == nil,
                url.query == nil, url.fragment == nil, url.path.isEmpty || url.path == "/",
                host.hasSuffix(".my.salesforce.com"),
                host.dropLast(".my.salesforce.com".count).allSatisfy({
                    $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".")
                }),
                !host.hasPrefix(".")
            else { return nil }
            self = .myDomain("https://" + host)
        }
    }

    /// The login URL of this host.
    public func loginURL(production: String, sandbox: String) -> String {
        switch self {
        case .production: production
        case .sandbox: sandbox
        case .myDomain(let url): url
        }
    }

    /// The kind of org this host logs into, when that is known: a My Domain host says it by its name.
    public var expectedOrgType: OrgType? {
        switch self {
        case .production: .production
        case .sandbox: .sandbox
        case .myDomain(let url): OrgType(instanceURL: url)
        }
    }

    /// `production`, `sandbox` or the URL: what `?host=` carries.
    public var description: String {
        switch self {
        case .production: "production"
        case .sandbox: "sandbox"
        case .myDomain(let url): url
        }
    }
}

/// Whether an org is a production org (production, Developer Edition, trial) or a sandbox (sandboxes, scratch orgs).
///
/// The rule, from the org's instance URL (the token response's `instance_url`), the one fact a login always gives:
/// - sandbox: a host ending in `.sandbox.my.salesforce.com` or `.scratch.my.salesforce.com` (enhanced domains), or
///   a legacy sandbox instance `csNN.salesforce.com` / `csNN.my.salesforce.com`, or a My Domain with a `--name`
///   sandbox suffix (`acme--uat.my.salesforce.com`, before enhanced domains);
/// - production: any other host under `salesforce.com` (`acme.my.salesforce.com`, `na42.salesforce.com`,
///   `acme.develop.my.salesforce.com`);
/// - unknown (`nil`): any other host (the sandbox emulator, a proxy): no check is made.
///
/// A login whose org type is known and differs from the host's expected type is refused (``AdminError/Code/wrongOrgType``).
public enum OrgType: String, Sendable, Hashable, Codable {
    case production
    case sandbox

    /// The type of the org at `instanceURL`, when its host says it.
    public init?(instanceURL: String) {
        guard let host = URLComponents(string: instanceURL)?.host?.lowercased(), host.hasSuffix(".salesforce.com")
        else { return nil }
        let first = host.split(separator: ".").first.map(String.init) ?? ""
        let legacySandbox = first.hasPrefix("cs") && first.count > 2 && first.dropFirst(2).allSatisfy(\.isNumber)
        if host.hasSuffix(".sandbox.my.salesforce.com") || host.hasSuffix(".scratch.my.salesforce.com")
            || legacySandbox || (host.hasSuffix(".my.salesforce.com") && first.contains("--")) || host == "test.salesforce.com"
        {
            self = .sandbox
        } else {
            self = .production
        }
    }
}
