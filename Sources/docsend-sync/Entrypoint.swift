import DocsendSyncCLI
import Foundation
import Logging

/// The `docsend-sync` binary: swift-log bootstrapped once, then the command line (`DocsendSyncCLI`).
@main
enum Entrypoint {
    static func main() async {
        let environment = ProcessInfo.processInfo.environment
        LoggingSystem.bootstrap { CommandLogging.handler(label: $0, environment: environment) }
        await DocsendSync.main()
    }
}
