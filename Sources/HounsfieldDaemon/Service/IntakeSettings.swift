/// When the daemon takes a received series to processing.
public struct IntakeSettings: Sendable, Hashable {
    /// A series is ready once nothing arrived for it for this long (default 30 s; Orthanc waits 60 s, MONAI Deploy
    /// 5 s). Shorter is faster, longer splits fewer series that a sender pauses in.
    public var quietPeriod: Duration = .seconds(30)
    /// A quiet series with gaps (missing slices between positions, InstanceNumbers missing in the run) waits up to
    /// this long since its last instance for the rest, then is processed anyway with a warning.
    public var incompleteWait: Duration = .seconds(300)
    /// How often the spool is looked at for quiet series (a cheap indexed query; this bounds the wait after the
    /// quiet period).
    public var pollEvery: Duration = .milliseconds(250)
    /// How long the instances of a processed series stay in the spool after its last one arrived; nil (the
    /// default) keeps them, so that a late instance makes a whole next version. With a retention the spool holds
    /// about what arrives in that time, instead of growing with everything ever received.
    public var retention: Duration?
    /// How often the retention is applied (default once a minute).
    public var pruneEvery: Duration = .seconds(60)

    /// The defaults.
    public init() {}
}
