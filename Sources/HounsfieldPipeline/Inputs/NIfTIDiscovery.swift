import Foundation
import HounsfieldCore
import HounsfieldDICOM
import HounsfieldNIfTI

/// The NIfTI files of a scan sorted into what a run does with them: images to process (each with the label maps that
/// go with it), label maps for DICOM series, and files left out with the reason.
///
/// The rules, in the order they apply (decision 61):
/// 1. **nnU-Net raw layout**: a file in `imagesTr/`, `imagesTs/`, `labelsTr/` or `labelsTs/` of a folder that has
///    `imagesTr/` or `imagesTs/` takes its role from the folder, and cases pair as nnU-Net pairs them
///    (``NNUNetDataset``); class names come from `dataset.json`. A case of several channels is left out (one image
///    makes one volume here).
/// 2. **Names**: `X.nii.gz` and `X_seg.nii.gz` (and the other suffixes of ``NIfTINamePairing``) in one folder are an
///    image and its label map.
/// 3. **Values**, for every other file: a volume with a negative or fractional value is an image (a CT always has
///    one: air is −1000 HU), and so is one of more than 1,024 different values (a CT stored unsigned without
///    `scl_inter`); one of whole numbers of 0 or more is a label map (``NIfTIImage/holdsLabelValues(_:)``), which
///    goes with the image of its folder whose grid it covers, else with the DICOM series it lies on (decision 57).
///    A 4-D file is left out.
struct NIfTIDiscovery: Sendable {
    /// An image to process and the label maps paired with it.
    struct Image: Sendable {
        var input: NIfTIInput
        var labels: [NIfTILabelSource]
    }

    /// The images, in file order.
    var images: [Image] = []
    /// Label maps that no NIfTI image took: candidates for the scan's DICOM series.
    var labelMaps: [NIfTILabelSource] = []
    /// NIfTI files that are used (as images or labels) or left out with a reason of their own: they leave the
    /// scan's "not DICOM" list.
    var handled: Set<String> = []
    /// Files left out, with the reason.
    var excluded: [ExcludedFile] = []

    /// No NIfTI file: what a scan of buffers gives (their names are not paths to read).
    init() {}

    /// The NIfTI files among `scan`'s excluded "not DICOM" files, sorted. Cheap: reads headers and first voxels only,
    /// except for label maps (small; read whole to check they hold only class values).
    ///
    /// `readLabelMap` is handed each label map this reads whole, with its image, so that a caller that needs the
    /// voxels too (`inspect`, for the classes present) does not read the file again.
    init(scan: ScanResult, readLabelMap: ((NIfTILabelSource, NIfTIImage) -> Void)? = nil) {
        let files = scan.excluded.filter { $0.kind == .notDICOM && NIfTINamePairing.stem($0.file) != nil }.map(\.file)
        guard !files.isEmpty else { return }
        var remaining = Set(files)
        discoverDatasets(among: files, remaining: &remaining)
        discoverNamePairs(remaining: &remaining)
        discoverByValues(remaining.sorted(), readLabelMap: readLabelMap)
        images.sort { $0.input.file < $1.input.file }
    }

    // MARK: - nnU-Net

    private mutating func discoverDatasets(among files: [String], remaining: inout Set<String>) {
        var datasetFiles: [String: [String]] = [:]
        for file in files {
            let parent = (file as NSString).deletingLastPathComponent
            guard ["imagesTr", "imagesTs", "labelsTr", "labelsTs"].contains((parent as NSString).lastPathComponent) else { continue }
            let root = (parent as NSString).deletingLastPathComponent
            if NNUNetDataset.isDataset(root) { datasetFiles[root, default: []].append(file) }
        }
        for root in datasetFiles.keys.sorted() {
            let inScan = Set(datasetFiles[root]!)
            let dataset: NNUNetDataset
            do { dataset = try NNUNetDataset(folder: root) } catch {
                for file in inScan.sorted() { exclude(file, "\(error)", from: &remaining) }
                continue
            }
            let classNames = dataset.datasetDescription?.labelNames ?? [:]
            for item in dataset.cases where item.channels.values.contains(where: inScan.contains) {
                let channelFiles = item.channels.keys.sorted().map { item.channels[$0]! }
                if let label = item.label { remaining.remove(label); handled.insert(label) }
                guard channelFiles.count == 1, item.missingChannels.isEmpty else {
                    let count = channelFiles.count + item.missingChannels.count
                    for file in channelFiles {
                        exclude(file, "nnU-Net case \(item.identifier) has \(count) channels (\(item.missingChannels.isEmpty ? "" : "missing \(item.missingChannels.map(String.init).joined(separator: ", ")); "))Hounsfield makes one volume of one image: give a dataset of one channel", from: &remaining)
                    }
                    continue
                }
                let file = channelFiles[0]
                let channel = item.channels.keys.first!
                remaining.remove(file)
                handled.insert(file)
                guard let preview = self.preview(file) else { continue }
                var labels: [NIfTILabelSource] = []
                if let label = item.label, let labelPreview = self.preview(label) {
                    labels.append(NIfTILabelSource(file: label, size: labelPreview.size, geometry: labelPreview.geometry,
                                                   classNames: classNames))
                }
                images.append(Image(
                    input: NIfTIInput(preview: preview, description: item.identifier,
                                      modality: dataset.datasetDescription?.channelNames[channel]),
                    labels: labels))
            }
            // A label of a case whose image is not among the inputs (a worker given labelsTr/ alone) is that case's,
            // not a stray file.
            let caseLabels = Set(dataset.cases.compactMap(\.label))
            for label in inScan where caseLabels.contains(label) && !handled.contains(label) {
                remaining.remove(label)
                handled.insert(label)
            }
            for orphan in dataset.orphanLabels where inScan.contains(orphan) {
                exclude(orphan, "a label map of the nnU-Net dataset \(root) with no image of its case in imagesTr/ or imagesTs/", from: &remaining)
            }
        }
    }

    // MARK: - Names

    private mutating func discoverNamePairs(remaining: inout Set<String>) {
        let pairing = NIfTINamePairing(files: remaining.sorted())
        for pair in pairing.pairs {
            remaining.remove(pair.image)
            remaining.remove(pair.label)
            handled.formUnion([pair.image, pair.label])
            guard let preview = self.preview(pair.image) else { continue }
            var labels: [NIfTILabelSource] = []
            if let labelPreview = self.preview(pair.label) {
                labels.append(NIfTILabelSource(file: pair.label, size: labelPreview.size, geometry: labelPreview.geometry))
            }
            images.append(Image(input: NIfTIInput(preview: preview, description: Self.stem(pair.image), modality: nil),
                                labels: labels))
        }
        for (image, candidates) in pairing.ambiguous {
            for candidate in candidates {
                exclude(candidate, "one of \(candidates.count) label maps named after \((image as NSString).lastPathComponent); keep one, or rename the others", from: &remaining)
            }
        }
    }

    // MARK: - Values

    private mutating func discoverByValues(_ files: [String], readLabelMap: ((NIfTILabelSource, NIfTIImage) -> Void)?) {
        var labelCandidates: [NIfTILabelSource] = []
        for file in files {
            guard let preview = self.preview(file) else { continue }
            if preview.volumeCount != 1 {
                handled.insert(file)
                excluded.append(ExcludedFile(file: file, kind: .unsupported, reason: "a NIfTI file of \(preview.volumeCount) volumes (4-D); Hounsfield reads 3-D images and label maps: split it into one file per volume"))
            } else if preview.showsImageValues {
                handled.insert(file)
                images.append(Image(input: NIfTIInput(preview: preview, description: Self.stem(file), modality: nil), labels: []))
            } else if let image = try? NIfTIImage(contentsOf: file), (try? image.holdsLabelValues()) == true {
                let candidate = NIfTILabelSource(file: file, size: image.size, geometry: image.geometry)
                labelCandidates.append(candidate)
                readLabelMap?(candidate, image)
            } else {
                // Whole numbers at the start, a fraction or a negative value further on: an image after all.
                handled.insert(file)
                images.append(Image(input: NIfTIInput(preview: preview, description: Self.stem(file), modality: nil), labels: []))
            }
        }
        for candidate in labelCandidates {
            let matches = images.indices.filter { index in
                images[index].labels.isEmpty && candidate.labels(size: images[index].input.size, geometry: images[index].input.geometry,
                                                                folder: (images[index].input.file as NSString).deletingLastPathComponent)
            }
            if matches.count == 1 {
                images[matches[0]].labels.append(candidate)
                handled.insert(candidate.file)
            } else {
                labelMaps.append(candidate)
            }
        }
    }

    // MARK: - Helpers

    /// The file's preview, or nil with the file left out for the reason it cannot be read.
    private mutating func preview(_ file: String) -> NIfTIPreview? {
        do { return try NIfTIPreview(contentsOf: file) } catch {
            handled.insert(file)
            excluded.append(ExcludedFile(file: file, kind: .unreadable, reason: error.description))
            return nil
        }
    }

    private mutating func exclude(_ file: String, _ reason: String, from remaining: inout Set<String>) {
        remaining.remove(file)
        handled.insert(file)
        excluded.append(ExcludedFile(file: file, kind: .unsupported, reason: reason))
    }

    static func stem(_ file: String) -> String { NIfTINamePairing.stem(file) ?? (file as NSString).lastPathComponent }
}
