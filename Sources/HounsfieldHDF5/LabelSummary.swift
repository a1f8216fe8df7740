import Foundation
import HounsfieldCore

/// What a volume's label holds, as the manifest and the shard's attributes record it: the layout, the classes by
/// value, and the voxels of each class on the stored grid. Training code picks volumes by class (`voxels`) without
/// opening a shard.
public struct LabelSummary: Codable, Sendable, Hashable {
    /// `class_index` (one value per voxel, `(z, y, x)`) or `channels` (one 0/1 mask per class, `(C, z, y, x)`).
    public var layout: LabelMap.Layout
    /// Class names by value ("1": "Liver"); in the channel layout, channel c holds the class listed c-th in
    /// increasing value.
    public var classes: [String: String]
    /// Voxels per class value on the stored grid.
    public var voxels: [String: Int]
    /// Voxels that lie in more than one class (why the channel layout was chosen; 0 for a class index).
    public var overlappingVoxels: Int
    /// Where the classes came from (the label objects' file names, or their hashes when identifiers are hidden).
    public var sources: [String]
    /// What was wrong with the labels but did not stop the volume (a contour with no slice, an empty ROI).
    public var warnings: [String]

    /// A summary as recorded.
    public init(layout: LabelMap.Layout, classes: [String: String], voxels: [String: Int], overlappingVoxels: Int,
                sources: [String] = [], warnings: [String] = []) {
        self.layout = layout
        self.classes = classes
        self.voxels = voxels
        self.overlappingVoxels = overlappingVoxels
        self.sources = sources
        self.warnings = warnings
    }

    /// The summary of a label map.
    public init(_ map: LabelMap, sources: [String] = [], warnings: [String] = []) {
        self.init(layout: map.layout,
                  classes: Dictionary(uniqueKeysWithValues: map.classes.map { (String($0.value), $0.name) }),
                  voxels: Dictionary(uniqueKeysWithValues: map.voxelCounts.map { (String($0.key), $0.value) }),
                  overlappingVoxels: map.overlappingVoxels, sources: sources, warnings: warnings)
    }

    enum CodingKeys: String, CodingKey {
        case layout, classes, voxels, overlappingVoxels = "overlapping_voxels", sources, warnings
    }
}

extension LabelSummary {
    /// The summary as the shard's `label_summary` attribute holds it: JSON with sorted keys.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Reads a `label_summary` attribute; nil when it is not a summary (a damaged or foreign attribute).
    init?(json: String) {
        guard let value = try? JSONDecoder().decode(LabelSummary.self, from: Data(json.utf8)) else { return nil }
        self = value
    }
}
