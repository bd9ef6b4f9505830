import Foundation
import Logging
import ServiceLifecycle

/// Brings this process's channel accounts up to date with the console's changes made in any
/// process (`ChannelRegistry.refresh`: one small read while nothing changed), so sends, campaigns
/// and rules use an edited or disabled account without waiting for a webhook. Every process runs it.
struct ChannelAccountsRefresher: Service {
    let registry: ChannelRegistry
    var interval: Duration = .seconds(5)
    let logger: Logger

    func run() async throws {
        let stop = StopFlag()
        let signal = WakeSignal()
        await withGracefulShutdownHandler {
            while !stop.isSet {
                do {
                    try await registry.refresh()
                } catch {
                    logger.warning("channel accounts not refreshed", metadata: ["error": "\(error)"])
                }
                await signal.wait(timeout: interval)
            }
        } onGracefulShutdown: {
            stop.set()
            signal.signal()
        }
    }
}
