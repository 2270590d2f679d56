import ArgumentParser

/// The `docsend-sync` command line: the root command and its subcommands, one file each.
///
/// A library, so that tests parse and run commands in-process (`DocsendSync.parseAsRoot([...])`); the
/// `docsend-sync` executable only bootstraps logging (``CommandLogging``) and calls `DocsendSync.main()`.
public struct DocsendSync: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "docsend-sync",
        abstract: "Syncs DocSend activity into Salesforce through RabbitMQ.",
        discussion: """
            Every option can also come from the environment: the key `amqp.url` is read from \
            DOCSEND_SYNC_AMQP_URL, and so on (see the README for the full list).
            """,
        subcommands: [Worker.self, Team.self, Admin.self, Parking.self, Topology.self, Publish.self, Simulate.self, Status.self]
    )

    public init() {}
}
