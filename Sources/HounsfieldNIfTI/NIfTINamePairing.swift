import Foundation

/// Image–label pairs in a folder that is not an nnU-Net dataset, matched by file name.
///
/// The rule: a NIfTI file (`.nii` or `.nii.gz`) whose name without ending is another file's name plus a label suffix
/// is that file's label map. The suffixes, tried in this order and compared without regard to case, are `_seg`,
/// `_segmentation`, `_label`, `_labels`, `_mask`, `_gt`, and the same with `-` for `_` (`X.nii.gz` pairs with
/// `X_seg.nii.gz`, `X-label.nii`, …). Files are matched within one folder only; an image may have at most one
/// label (a second candidate is reported as ambiguous), and everything left over is listed, never dropped silently.
public struct NIfTINamePairing: Hashable, Sendable {
    /// The suffixes that mark a label file, in the order they are tried.
    public static let labelSuffixes: [String] = ["seg", "segmentation", "label", "labels", "mask", "gt"]
        .flatMap { ["_" + $0, "-" + $0] }

    /// One image and its label map.
    public struct Pair: Hashable, Sendable {
        /// The image file.
        public var image: String
        /// The label file.
        public var label: String

        /// A pair of an image and its label file.
        public init(image: String, label: String) {
            self.image = image
            self.label = label
        }
    }

    /// Images with exactly one label file, in image-path order.
    public let pairs: [Pair]
    /// NIfTI files that are neither paired images nor labels (images without labels, among others).
    public let unpairedImages: [String]
    /// Label-named files whose image is missing, or is itself a label (`X_seg_mask` beside `X_seg`).
    public let orphanLabels: [String]
    /// Images with more than one candidate label: image → the candidates (none is chosen).
    public let ambiguous: [String: [String]]

    /// Pairs the NIfTI files in `folder` (not recursive); an unreadable folder gives no files.
    public init(folder: String) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { !$0.hasPrefix(".") && Self.stem($0) != nil }.sorted()
        self.init(files: names.map { folder + "/" + $0 })
    }

    /// Pairs the given NIfTI file paths by the rule above (paths in different folders never pair).
    public init(files: [String]) {
        var byKey: [String: String] = [:]  // folder + lowercased stem → path
        for file in files {
            guard let stem = Self.stem(file) else { continue }
            byKey[Self.folder(of: file) + "/" + stem.lowercased()] = file
        }
        var labelsOf: [String: [String]] = [:]
        var orphans: [String] = []
        var isLabel = Set<String>()
        for file in files {
            guard let stem = Self.stem(file)?.lowercased() else { continue }
            let folder = Self.folder(of: file)
            for suffix in Self.labelSuffixes where stem.hasSuffix(suffix) {
                let imageKey = folder + "/" + String(stem.dropLast(suffix.count))
                isLabel.insert(file)
                if let image = byKey[imageKey] {
                    labelsOf[image, default: []].append(file)
                } else {
                    orphans.append(file)
                }
                break
            }
        }
        var pairs: [Pair] = []
        var ambiguous: [String: [String]] = [:]
        for (image, labels) in labelsOf {
            if isLabel.contains(image) {
                orphans += labels  // `X_seg_mask` beside `X_seg`: a label of a label is no pair
            } else if labels.count == 1 {
                pairs.append(Pair(image: image, label: labels[0]))
            } else {
                ambiguous[image] = labels.sorted()
            }
        }
        let used = Set(pairs.flatMap { [$0.image, $0.label] }).union(ambiguous.keys).union(isLabel)
        self.pairs = pairs.sorted { $0.image < $1.image }
        self.orphanLabels = orphans.sorted()
        self.ambiguous = ambiguous
        self.unpairedImages = files.filter { Self.stem($0) != nil && !used.contains($0) }.sorted()
    }

    /// The file name without `.nii.gz` or `.nii`, or nil for other files.
    public static func stem(_ path: String) -> String? {
        let name = (path as NSString).lastPathComponent
        for ending in [".nii.gz", ".nii"] where name.lowercased().hasSuffix(ending) && name.count > ending.count {
            return String(name.dropLast(ending.count))
        }
        return nil
    }

    static func folder(of path: String) -> String { (path as NSString).deletingLastPathComponent }
}
