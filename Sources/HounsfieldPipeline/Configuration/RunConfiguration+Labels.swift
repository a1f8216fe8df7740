extension RunConfiguration {
    /// What a run does with the label objects found beside its series (DICOM SEG, RTSTRUCT, NIfTI label maps;
    /// `docs/labels.md`). The defaults pair them and never let a bad label cost its image.
    public struct Labels: Codable, Sendable, Hashable {
        /// Whether label objects are paired with their series and written beside them (`labels.pair`).
        public var pair: Bool = true
        /// What a label object that cannot be placed does to its volume (`labels.on_failure`).
        public var onFailure: FailurePolicy = .writeImage

        /// What becomes of a volume one of whose label objects cannot be placed.
        public enum FailurePolicy: String, Codable, Sendable, Hashable, CaseIterable {
            /// The image is written without that object's classes, with a warning naming its file and the reason.
            case writeImage = "write_image"
            /// The series fails at the `labels` stage with the reason, so a training set holds complete pairs only.
            case skipVolume = "skip_volume"
        }

        /// Pair labels, and write the image when a label fails.
        public init(pair: Bool = true, onFailure: FailurePolicy = .writeImage) {
            self.pair = pair
            self.onFailure = onFailure
        }

        /// Whether these are the defaults (which the configuration key leaves out, so folders written before labels
        /// existed keep their key).
        var isDefault: Bool { self == Labels() }

        enum CodingKeys: String, CodingKey { case pair, onFailure = "on_failure" }

        /// Decodes with defaults: either key may be left out.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init()
            pair = try c.decodeIfPresent(Bool.self, forKey: .pair) ?? pair
            onFailure = try c.decodeIfPresent(FailurePolicy.self, forKey: .onFailure) ?? onFailure
        }
    }
}
