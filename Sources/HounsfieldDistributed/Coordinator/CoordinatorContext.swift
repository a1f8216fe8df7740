import Foundation
import HounsfieldCore
import Logging

/// What every session of one coordinator shares: the journal, the manifest, the run's configuration and timing.
struct CoordinatorContext: Sendable {
    let journal: Journal
    let ledger: ManifestLedger
    let pending: PendingHint
    let metrics: CoordinatorMetrics
    let logger: Logger
    /// The configuration workers receive (``RunConfiguration/portableJSON``).
    let configurationJSON: Data
    /// The run's configuration key: a worker started with a configuration of its own must match it.
    let configurationKey: String
    /// The output folder, as workers must see it.
    let outputFolder: String
    let leaseTTL: Duration
    let heartbeatInterval: Duration

    var ttlSeconds: TimeInterval { leaseTTL.inSeconds }
}
