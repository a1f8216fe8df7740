import Foundation

/// How a coordinator listens, leases and judges units (`hounsfield coordinator` flags).
public struct CoordinatorOptions: Sendable {
    /// Where the study folders come from.
    public var studies: StudyListing
    /// The address to listen on (port 0: the system picks one; the chosen address is written to
    /// ``addressFile``).
    public var listen = ServiceAddress(host: "127.0.0.1", port: ServiceAddress.defaultPort)
    /// The run's shared token: every worker call must carry it. Nil only on loopback, or with ``insecure``.
    public var token: String?
    /// TLS for the sessions: the coordinator's certificate chain and private key (PEM files). Nil: plaintext.
    public var tls: (certificateChain: String, privateKey: String)?
    /// Listen on a non-loopback address without a token (a trusted, isolated network only).
    public var insecure = false
    /// How long a lease lives without a heartbeat; workers heartbeat every third of it.
    public var leaseTTL: Duration = .seconds(60)
    /// Distinct workers a unit may take down or stall before it is quarantined.
    public var quarantineAfter = 3
    /// The journal's file; by default `<output>/.hounsfield/journal.sqlite`, beside the data it describes.
    public var journalPath: String?
    /// How long to wait, once the run is over, for workers to hand back what they hold and hang up.
    public var drainTimeout: Duration = .seconds(30)

    /// Options for the given study listing; every other value is the default.
    public init(studies: StudyListing) {
        self.studies = studies
    }

    /// The heartbeat interval workers are told to keep: a third of the TTL, so two heartbeats may be lost before a
    /// healthy worker's lease expires.
    var heartbeatInterval: Duration { leaseTTL / 3 }
}

/// Why a coordinator cannot start.
public enum CoordinatorError: Error, Sendable, CustomStringConvertible {
    /// A non-loopback address without a token or `--insecure`.
    case insecureListen(ServiceAddress)
    /// The options make no sense (a TTL under a second, quarantine after 0 workers).
    case invalid(String)
    /// The output folder, the journal or the listing failed.
    case setup(String)

    public var description: String {
        switch self {
        case .insecureListen(let address):
            "refusing to listen on \(address) without a token: anyone who reaches it could take work and write into the output. Give a token (--token-file or HOUNSFIELD_TOKEN), listen on 127.0.0.1, or pass --insecure on a network you trust"
        case .invalid(let message), .setup(let message):
            message
        }
    }
}
