import HounsfieldCore

/// One step of preprocessing: a synchronous, geometry-aware function from volume to volume.
///
/// Every transform updates the geometry it changes (spacing, origin, direction, size), can be written as data
/// (`specification`, Codable) so a configuration file drives the library, the CLI and workers alike, and checks its
/// parameters before doing any work. Transforms are values: build once, apply to many volumes from many threads.
public protocol VolumeTransform: Sendable {
    /// The transform as data; `TransformChain` hashes these into a reproducibility key.
    var specification: TransformSpecification { get }

    /// Applies the transform to an image (HU or already-scaled intensities).
    func apply(to volume: Volume<Float32>) throws(TransformError) -> Volume<Float32>

    /// Applies the transform over the volume's own voxels when it can (pointwise transforms); others replace the
    /// volume (the default). A chain runs its steps after the first this way, which saves a volume of memory and
    /// the page faults of filling it.
    func apply(inPlace volume: inout Volume<Float32>) throws(TransformError)

    /// Applies the transform to a label map: spatial transforms use nearest-neighbour interpolation and fill with
    /// 0; intensity transforms leave labels alone (the default).
    func applyToLabel(_ label: Volume<Float32>) throws(TransformError) -> Volume<Float32>

    /// Applies the transform to an image and its label map together. Needed where the label's transform depends on
    /// the image (a crop to the body found in the image); by default, each on its own.
    func apply(
        to image: Volume<Float32>, label: Volume<Float32>
    ) throws(TransformError) -> (image: Volume<Float32>, label: Volume<Float32>)
}

extension VolumeTransform {
    public func apply(inPlace volume: inout Volume<Float32>) throws(TransformError) {
        volume = try apply(to: volume)
    }

    public func applyToLabel(_ label: Volume<Float32>) throws(TransformError) -> Volume<Float32> { label }

    public func apply(
        to image: Volume<Float32>, label: Volume<Float32>
    ) throws(TransformError) -> (image: Volume<Float32>, label: Volume<Float32>) {
        (try apply(to: image), try applyToLabel(label))
    }
}

/// Transforms applied in order, like MONAI's and TorchIO's `Compose`.
public struct Compose: VolumeTransform {
    public var transforms: [any VolumeTransform]

    public init(_ transforms: [any VolumeTransform]) { self.transforms = transforms }

    public var specification: TransformSpecification { .compose(transforms.map(\.specification)) }

    /// The first step writes a new volume (the caller's stays as it was); the others work on that one in place.
    public func apply(to volume: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        guard let first = transforms.first else { return volume }
        var volume = try first.apply(to: volume)
        for transform in transforms.dropFirst() { try transform.apply(inPlace: &volume) }
        return volume
    }

    public func apply(inPlace volume: inout Volume<Float32>) throws(TransformError) {
        for transform in transforms { try transform.apply(inPlace: &volume) }
    }

    public func applyToLabel(_ label: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        var label = label
        for transform in transforms { label = try transform.applyToLabel(label) }
        return label
    }

    public func apply(
        to image: Volume<Float32>, label: Volume<Float32>
    ) throws(TransformError) -> (image: Volume<Float32>, label: Volume<Float32>) {
        var pair = (image: image, label: label)
        for transform in transforms { pair = try transform.apply(to: pair.image, label: pair.label) }
        return pair
    }
}
