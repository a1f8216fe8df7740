import HounsfieldCore
import Dispatch
import HounsfieldCore
import Logging
import Synchronization

/// Finds every DICOM series under a set of files and folders by reading headers only.
///
/// ```swift
/// let result = try await SeriesScanner().scan(["/data/study"])
/// for series in result.series { print(series.key, series.size, series.warnings) }
/// ```
///
/// Headers are parsed in parallel and stop before Pixel Data; grouping is by hashing on SeriesInstanceUID, so the
/// cost grows linearly with the number of files.
public struct SeriesScanner: Sendable {
    /// How files are grouped into series, and how many are read at once.
    public var options: ScanOptions
    /// Called from worker threads as files are read: (files done, files in all). Long scans show progress with it.
    public var progress: (@Sendable (_ done: Int, _ total: Int) -> Void)?
    /// Where exclusions and the summary are logged (debug level: a library stays quiet unless asked).
    public var logger: Logger

    /// A scanner with `options`, logging to `logger` and reporting to `progress` (on worker threads) as files are read.
    public init(
        options: ScanOptions = ScanOptions(), logger: Logger = Logger(label: "hounsfield.scan"),
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) {
        self.options = options
        self.logger = logger
        self.progress = progress
    }

    /// Scans files and folders (recursively, following symbolic links; each folder is entered once). Throws only when
    /// a given path does not exist or cannot be read; unreadable or non-DICOM files, subfolders that cannot be
    /// listed and dangling links are reported in `ScanResult.excluded`, link loops in `ScanResult.notes`.
    public func scan(_ paths: [String]) async throws(DICOMError) -> ScanResult {
        let start = ContinuousClock.now
        let listing = try await ParallelLoop.offload { () throws(DICOMError) in try FileEnumerator.files(under: paths) }
        let listed = ContinuousClock.now - start
        var result = await scan(sources: listing.files.map(ImageSource.file))
        result.excluded += listing.unlistable
        result.seconds["list"] = listed.inSeconds
        result.inputs = paths
        result.symbolicLinksFollowed = listing.linksFollowed
        result.notes = listing.notes
        for note in listing.notes { logger.debug("listing", metadata: ["note": "\(note)"]) }
        return result
    }

    /// Scans DICOM objects held in memory (an inference service's upload, a C-STORE association).
    public func scan(buffers: [(name: String, bytes: [UInt8])]) async -> ScanResult {
        var result = await scan(sources: buffers.map { ImageSource.memory(name: $0.name, bytes: $0.bytes) })
        result.inputs = buffers.map(\.name)
        return result
    }

    /// Scans the given sources (files or buffers): the core of both entry points.
    public func scan(sources: [ImageSource]) async -> ScanResult {
        let (options, progress, logger) = (options, progress, logger)
        let result = await ParallelLoop.offload {
            Self.scanSynchronously(sources, options: options, progress: progress)
        }
        for exclusion in result.excluded {
            logger.debug("excluded", metadata: ["file": "\(exclusion.file)", "reason": "\(exclusion.reason)"])
        }
        logger.debug("scanned", metadata: [
            "files": "\(result.fileCount)", "series": "\(result.series.count)", "excluded": "\(result.excluded.count)",
        ])
        return result
    }

    static func scanSynchronously(
        _ sources: [ImageSource], options: ScanOptions,
        progress: (@Sendable (_ done: Int, _ total: Int) -> Void)? = nil
    ) -> ScanResult {
        let clock = ContinuousClock()
        let start = clock.now
        let done = Atomic<Int>(0)
        let pool = ImageAttributesPool()
        let outcomes = ParallelLoop.map(sources.count, concurrency: options.concurrency) { index in
            let outcome = readEntry(sources[index], pool: pool)
            if let progress {
                let count = done.wrappingAdd(1, ordering: .relaxed).newValue
                if count % 256 == 0 || count == sources.count { progress(count, sources.count) }
            }
            return outcome
        }
        var headers: [ImageHeader] = []
        var excluded: [ExcludedFile] = []
        var labels: [LabelObjectDescriptor] = []
        for outcome in outcomes {
            switch outcome {
            case .image(let header): headers.append(header)
            case .label(let label): labels.append(label)
            case .excluded(let exclusion): excluded.append(exclusion)
            }
        }
        let parsed = clock.now
        var assembler = SeriesAssembler(headers: headers, options: options)
        let series = assembler.assemble()
        // A label object is kept when the series it labels was found; otherwise it is excluded with that reason.
        var paired: [LabelObjectDescriptor] = []
        for label in labels {
            if label.referencedSeries(in: series) != nil {
                paired.append(label)
            } else {
                let what = label.kind == .segmentation ? "a DICOM Segmentation" : "an RT Structure Set"
                let uids = label.referencedSeriesUIDs.isEmpty ? "no series UID" : label.referencedSeriesUIDs.joined(separator: ", ")
                excluded.append(ExcludedFile(
                    file: label.source.name, kind: .labelWithoutSeries,
                    reason: "\(what) labelling series \(uids), which is not among the inputs: add that series' files to label it"))
            }
        }
        return ScanResult(
            series: series, excluded: excluded + assembler.excluded, fileCount: sources.count,
            seconds: ["headers": (parsed - start).inSeconds, "assemble": (clock.now - parsed).inSeconds],
            labelObjects: paired.sorted { $0.source.name < $1.source.name })
    }

    /// What one file turned out to be: an image for a series, a label object, or an exclusion.
    enum Entry {
        case image(ImageHeader)
        case label(LabelObjectDescriptor)
        case excluded(ExcludedFile)
    }

    /// Reads one header: a label object (SEG, RTSTRUCT) becomes a ``LabelObjectDescriptor``, anything else goes
    /// through the image checks of `readHeader`.
    static func readEntry(_ source: ImageSource, pool: ImageAttributesPool? = nil) -> Entry {
        let object: DICOMObject
        do {
            object = try source.open(headerOnly: true)
        } catch {
            return .excluded(ExcludedFile(error))
        }
        if let label = LabelObjectReader.read(object, from: source) { return .label(label) }
        switch readHeader(object, from: source, pool: pool) {
        case .success(let header): return .image(header)
        case .failure(let exclusion): return .excluded(exclusion)
        }
    }

    /// Reads one header, turning every way it can fail into an exclusion with a reason.
    static func readHeader(_ source: ImageSource, pool: ImageAttributesPool? = nil) -> Result<ImageHeader, ExcludedFile> {
        do {
            return readHeader(try source.open(headerOnly: true), from: source, pool: pool)
        } catch {
            return .failure(ExcludedFile(error))
        }
    }

    /// The image checks on an opened object's header.
    static func readHeader(
        _ object: DICOMObject, from source: ImageSource, pool: ImageAttributesPool?
    ) -> Result<ImageHeader, ExcludedFile> {
        var header = ImageHeader(reading: object, from: source)
        if header.sopClassUID == ImageHeader.mediaStorageDirectoryClass {
            return .failure(ExcludedFile(
                file: source.name, kind: .directoryIndex,
                reason: "a DICOMDIR (media directory index): it lists files but holds no image; its images are scanned on their own"))
        }
        guard header.invalidAttributes.isEmpty else {
            return .failure(ExcludedFile(
                file: source.name, kind: .malformed,
                reason: "invalid value: \(header.invalidAttributes.joined(separator: "; ")); the pixel layout cannot be trusted"))
        }
        guard header.isImage else {
            let what = [header.modality.map { "modality \($0)" }, header.sopClassUID.map { "SOP class \($0)" }]
                .compactMap { $0 }.joined(separator: ", ")
            return .failure(ExcludedFile(
                file: source.name, kind: .noImage,
                reason: "not an image (no Rows/Columns\(what.isEmpty ? "" : "; \(what)")): nothing to decode"))
        }
        guard header.samplesPerPixel == 1 else {
            return .failure(ExcludedFile(
                file: source.name, kind: .unsupported,
                reason: "a colour image (\(header.samplesPerPixel) samples per pixel, \(header.photometricInterpretation ?? "?")): only grayscale images form CT volumes"))
        }
        guard header.bitsAllocated != 1 else {
            let what = header.sopClassUID == "1.2.840.10008.5.1.4.1.1.66.4" ? "a binary DICOM Segmentation" : "a bitmap"
            return .failure(ExcludedFile(
                file: source.name, kind: .unsupported,
                reason: "1-bit pixel data (BitsAllocated 1, \(what)): a mask, not a grey-level image; it forms no CT volume"))
        }
        guard [8, 16, 32].contains(header.bitsAllocated), header.bitsStored >= 1,
            header.bitsStored <= header.bitsAllocated, header.highBit < header.bitsAllocated,
            header.highBit + 1 >= header.bitsStored
        else {
            return .failure(ExcludedFile(
                file: source.name, kind: .unsupported,
                reason: "unsupported pixel layout: BitsAllocated \(header.bitsAllocated), BitsStored \(header.bitsStored), HighBit \(header.highBit)"))
        }
        if let pool { header.share(in: pool) }
        return .success(header)
    }
}

extension ExcludedFile: Error {}
