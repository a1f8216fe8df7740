import Foundation
import HounsfieldCore
import HounsfieldDICOM
import HounsfieldPipeline

/// What a daemon will run, checked before anything starts: the run configuration (processing and output), and
/// each part's settings with its defaults filled in. Every problem is a ``ConfigurationError`` naming the setting.
public struct DaemonPlan: Sendable {
    /// Processing and output, as `hounsfield run` takes them.
    public var configuration: RunConfiguration
    /// The spool folder (used when the DICOM receiver runs).
    public var spoolFolder: URL
    /// Below this many free bytes on the spool's file system, instances are refused.
    public var spoolMinimumFree: Int64
    /// When received series are processed.
    public var intake: IntakeSettings
    /// The DICOM receiver, or nil.
    public var receiver: DICOMReceiverOptions?
    /// The watch folder, or nil.
    public var watch: WatchFolder?
    /// The HTTP API, or nil.
    public var httpOptions: HTTPOptions?
    /// How long a shutdown may take before the work in flight is abandoned.
    public var shutdownTimeout: Duration

    /// Checks `configuration` and `settings`; `environmentToken` is `HOUNSFIELD_TOKEN`, used when no token file is
    /// configured.
    public init(configuration: RunConfiguration, settings: ServeSettings, environmentToken: String? = nil) throws(ConfigurationError) {
        try configuration.validate()
        guard let output = configuration.output.folder else {
            throw .invalid(path: "output.folder", reason: "give an output folder (--output) for the shards")
        }
        guard settings.dicom != nil || settings.watch != nil || settings.http != nil else {
            throw .invalid(path: "serve", reason: "nothing to serve: give --dicom-port, --watch or --http-port (or their serve sections)")
        }
        self.configuration = configuration
        let outputURL = URL(fileURLWithPath: output).standardizedFileURL
        spoolFolder = URL(fileURLWithPath: settings.spool.folder ?? outputURL.path + ".spool").standardizedFileURL
        if spoolFolder.path.hasPrefix(outputURL.path + "/") {
            throw .invalid(path: "serve.spool.folder", reason: "the spool holds raw DICOM with patient data: keep it outside the output folder")
        }
        spoolMinimumFree = Int64(settings.spool.minimumFree?.bytes ?? 1 << 30)
        intake = IntakeSettings()
        if let quiet = settings.quietSeconds {
            guard quiet > 0 else { throw .invalid(path: "serve.quiet_seconds", reason: "must be positive") }
            intake.quietPeriod = .milliseconds(Int64(quiet * 1000))
        }
        if let hours = settings.spool.retainHours {
            guard hours > 0 else {
                throw .invalid(path: "serve.spool.retain_hours", reason: "must be positive (leave it out to keep every instance)")
            }
            intake.retention = .milliseconds(Int64(hours * 3_600_000))
        }
        if let wait = settings.incompleteWaitSeconds {
            guard wait >= 0 else { throw .invalid(path: "serve.incomplete_wait_seconds", reason: "must be 0 or more") }
            intake.incompleteWait = .milliseconds(Int64(wait * 1000))
        }
        if let dicom = settings.dicom {
            var options = DICOMReceiverOptions(aeTitle: dicom.aeTitle ?? "HOUNSFIELD")
            options.host = dicom.host ?? options.host
            options.port = dicom.port ?? options.port
            options.allowedCallingAETitles = dicom.allowedCallingAeTitles ?? []
            options.maxAssociations = dicom.maxAssociations ?? options.maxAssociations
            options.maxPDUBytes = dicom.maxPdu ?? options.maxPDUBytes
            options.associationTimeout = .seconds(dicom.associationTimeoutSeconds ?? 30)
            options.idleTimeout = .seconds(dicom.idleTimeoutSeconds ?? 60)
            if let problem = options.problem { throw .invalid(path: "serve.dicom", reason: problem) }
            receiver = options
        }
        if let section = settings.watch {
            guard let folder = section.folder else { throw .invalid(path: "serve.watch.folder", reason: "give the folder to watch (--watch)") }
            var watch = WatchFolder(folder: URL(fileURLWithPath: folder))
            if let stable = section.stableSeconds {
                guard stable > 0 else { throw .invalid(path: "serve.watch.stable_seconds", reason: "must be positive") }
                watch.stableFor = .milliseconds(Int64(stable * 1000))
            }
            self.watch = watch
        }
        if let section = settings.http {
            httpOptions = try Self.httpOptions(section, environmentToken: environmentToken)
        }
        let seconds = settings.shutdownSeconds ?? 30
        guard seconds >= 0 else { throw .invalid(path: "serve.shutdown_seconds", reason: "must be 0 or more") }
        shutdownTimeout = .milliseconds(Int64(seconds * 1000))
    }

    private static func httpOptions(_ section: ServeSettings.HTTP, environmentToken: String?) throws(ConfigurationError) -> HTTPOptions {
        var options = HTTPOptions()
        options.host = section.host ?? options.host
        options.port = section.port ?? 8080
        if let size = section.maxBody { options.maxBodyBytes = size.bytes }
        options.concurrentStudies = section.concurrentStudies ?? options.concurrentStudies
        options.servesStudies = section.studies ?? true
        options.queueLength = section.queueLength ?? options.queueLength
        if let file = section.tokenFile {
            do {
                options.bearerToken = try TokenFile.read(file)
            } catch {
                switch error {
                case .unreadable: throw .invalid(path: "serve.http.token_file", reason: "cannot read \(file)")
                case .empty: throw .invalid(path: "serve.http.token_file", reason: "\(file) is empty")
                }
            }
        } else if let environmentToken, !environmentToken.isEmpty {
            options.bearerToken = environmentToken
        }
        switch (section.tlsCertificate, section.tlsKey) {
        case (nil, nil): break
        case let (certificate?, key?): options.tls = .init(certificatePath: certificate, keyPath: key)
        default: throw .invalid(path: "serve.http", reason: "give both tls_certificate and tls_key, or neither")
        }
        do { try options.validate() } catch { throw .invalid(path: "serve.http", reason: "\(error)") }
        return options
    }
}
