import Foundation
import HounsfieldPipeline

/// The `serve` section of a configuration file: which parts of the daemon run, and where they listen. Everything
/// else in the file is `hounsfield run`'s configuration (processing and output), so a daemon and a batch run given
/// the same file write the same volumes.
///
/// ```yaml
/// output: {folder: /data/hounsfield}
/// preprocessing: {spacing: [1, 1, 1], window: [40, 400], normalize: minmax}
/// serve:
///   spool: {folder: /data/hounsfield.spool, minimum_free: 2GiB, retain_hours: 168}
///   quiet_seconds: 30
///   dicom: {port: 11112, ae_title: HOUNSFIELD, allowed_calling_ae_titles: [PACS1]}
///   watch: {folder: /data/incoming, stable_seconds: 30}
///   http: {port: 8080, token_file: /run/secrets/hounsfield-token}
/// ```
///
/// Every key is optional; unknown keys are refused with their path (`serve.dicom.prot`). Flags of
/// `hounsfield serve` override the file.
public struct ServeSettings: Decodable, Sendable, Hashable {
    /// The spool of received instances.
    public var spool = Spool()
    /// Seconds a series must receive nothing before it is processed (default 30).
    public var quietSeconds: Double?
    /// Seconds a quiet series with gaps waits for its missing instances (default 300).
    public var incompleteWaitSeconds: Double?
    /// The DICOM receiver; absent means none.
    public var dicom: DICOM?
    /// The watch folder; absent means none.
    public var watch: Watch?
    /// The HTTP API (per-study processing, health, metrics); absent means none.
    public var http: HTTP?
    /// Seconds a shutdown may take to finish the work in flight before it is abandoned (default 30).
    public var shutdownSeconds: Double?

    /// Nothing configured.
    public init() {}

    /// Where received instances wait.
    public struct Spool: Decodable, Sendable, Hashable {
        /// The folder (default: the output folder's name with `.spool` added, beside it: raw DICOM, with patient
        /// data, never inside the dataset).
        public var folder: String?
        /// Below this much free space, instances are refused (default 1 GiB).
        public var minimumFree: StorageSize?
        /// Hours the instances of a processed series are kept after its last one arrived (default: kept).
        public var retainHours: Double?
        /// Nothing configured.
        public init() {}
    }

    /// The DICOM receiver (C-STORE and C-ECHO).
    public struct DICOM: Decodable, Sendable, Hashable {
        /// The IPv4 address to listen on (default 0.0.0.0).
        public var host: String?
        /// The port (default 11112).
        public var port: Int?
        /// Our AE title (default HOUNSFIELD).
        public var aeTitle: String?
        /// Calling AE titles allowed; absent or empty allows every one.
        public var allowedCallingAeTitles: [String]?
        /// Associations at once (default 16).
        public var maxAssociations: Int?
        /// Largest PDU received, bytes (default 16384, up to 131072).
        public var maxPdu: Int?
        /// ARTIM timeout, seconds (default 30).
        public var associationTimeoutSeconds: Int?
        /// DIMSE idle timeout, seconds (default 60).
        public var idleTimeoutSeconds: Int?
        /// Nothing configured.
        public init() {}
    }

    /// The watch folder.
    public struct Watch: Decodable, Sendable, Hashable {
        /// The watched folder.
        public var folder: String?
        /// Seconds a study folder must stay unchanged before it is taken (default 30).
        public var stableSeconds: Double?
        /// Nothing configured.
        public init() {}
    }

    /// The HTTP API.
    public struct HTTP: Decodable, Sendable, Hashable {
        /// The address to listen on (default 127.0.0.1).
        public var host: String?
        /// The port (default 8080).
        public var port: Int?
        /// The largest request body (default 2 GiB).
        public var maxBody: StorageSize?
        /// Studies processed at once (default 1).
        public var concurrentStudies: Int?
        /// Whether `POST /v1/studies` is served (default true); false leaves the probes and `/metrics`.
        public var studies: Bool?
        /// Requests waiting beyond those (default 4); more are answered 503.
        public var queueLength: Int?
        /// A file holding the bearer token requests must carry.
        public var tokenFile: String?
        /// PEM certificate chain, for HTTPS.
        public var tlsCertificate: String?
        /// PEM private key, for HTTPS.
        public var tlsKey: String?
        /// Nothing configured.
        public init() {}
    }

    /// The keys the section may have.
    public static let schema = ConfigurationSchema.object([
        "spool": .object(["folder": .leaf, "minimum_free": .leaf, "retain_hours": .leaf]),
        "quiet_seconds": .leaf, "incomplete_wait_seconds": .leaf, "shutdown_seconds": .leaf,
        "dicom": .object(["host": .leaf, "port": .leaf, "ae_title": .leaf, "allowed_calling_ae_titles": .leaf,
                          "max_associations": .leaf, "max_pdu": .leaf, "association_timeout_seconds": .leaf,
                          "idle_timeout_seconds": .leaf]),
        "watch": .object(["folder": .leaf, "stable_seconds": .leaf]),
        "http": .object(["host": .leaf, "port": .leaf, "max_body": .leaf, "concurrent_studies": .leaf, "studies": .leaf,
                         "queue_length": .leaf, "token_file": .leaf, "tls_certificate": .leaf, "tls_key": .leaf]),
    ])

    /// Decodes the section (JSON, as ``ConfigurationFile/load(_:handingBack:)`` hands it back), refusing unknown
    /// keys by their path under `serve`.
    public static func decode(_ data: Data) throws(ConfigurationError) -> ServeSettings {
        do {
            if let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] {
                try schema.check(object, path: "serve")
            }
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(ServeSettings.self, from: data)
        } catch let error as ConfigurationError {
            throw error
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context) {
            let path = (["serve"] + context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue })
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
            throw .invalid(path: path, reason: context.debugDescription)
        } catch {
            throw .invalid(path: "serve", reason: "\(error)")
        }
    }

    private enum CodingKeys: String, CodingKey {
        case spool, quietSeconds, incompleteWaitSeconds, dicom, watch, http, shutdownSeconds
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        spool = try container.decodeIfPresent(Spool.self, forKey: .spool) ?? Spool()
        quietSeconds = try container.decodeIfPresent(Double.self, forKey: .quietSeconds)
        incompleteWaitSeconds = try container.decodeIfPresent(Double.self, forKey: .incompleteWaitSeconds)
        dicom = try container.decodeIfPresent(DICOM.self, forKey: .dicom)
        watch = try container.decodeIfPresent(Watch.self, forKey: .watch)
        http = try container.decodeIfPresent(HTTP.self, forKey: .http)
        shutdownSeconds = try container.decodeIfPresent(Double.self, forKey: .shutdownSeconds)
    }
}
