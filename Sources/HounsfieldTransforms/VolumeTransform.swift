import HounsfieldCore

/// One step of preprocessing: a synchronous, geometry-aware function from volume to volume.
///
/// Every transform updates the geometry it changes (spacing, origin, direction, size), can be written as data
/// (`specification`, Codable) so a configuration file drives the library, the CLI and workers alike, and checks its
/// parameters before doing any work. Transforms are values: build once, apply to many volumes from many threads.
public protocol VolumeTransform: Sendable {
    /// The transform as data; its ``TransformSpecification/key`` (a chain's, through ``Compose``) is the
    /// reproducibility key outputs record.
    var specification: TransformSpecification { get }

    /// Applies the transform to an image (HU or already-scaled intensities).
    func apply(to volume: Volume<Float32>) throws(TransformError) -> Volume<Float32>

    /// Applies the transform over the volume's own voxels when it can (pointwise transforms); others replace the
    /// volume (the default). A chain runs its steps after the first this way, which saves a volume of memory and
    /// the page faults of filling it.
    func apply(inPlace volume: inout Volume<Float32>) throws(TransformError)

    /// Applies the transform to a volume that is read plane by plane from `source`, when the transform reads its
    /// input that way: a linear resampling onto a grid with the same direction, or a chain that starts with one.
    /// Returns nil otherwise (the default); the caller then makes the volume and calls ``apply(to:)``. The voxels
    /// are those ``apply(to:)`` gives for the volume the source makes, bit for bit. Errors of the source are
    /// thrown as they are; the transform's own are ``TransformError``.
    func apply(toPlanesOf source: any PlaneSource) throws -> Volume<Float32>?

    /// Whether ``apply(toPlanesOf:)`` reads planes, as far as the transform alone decides (a resampling onto a
    /// reference grid with another direction still returns nil there). Callers use it to decide, before decoding,
    /// whether to hand over a source of planes instead of a volume.
    var readsPlanes: Bool { get }

    /// Applies the transform to a label map: spatial transforms use nearest-neighbour interpolation and fill with
    /// 0; intensity transforms leave labels alone (the default).
    func applyToLabel(_ label: Volume<Float32>) throws(TransformError) -> Volume<Float32>

    /// Applies the transform to an image and its label map together. Needed where the label's transform depends on
    /// the image (a crop to the body found in the image); by default, ``apply(to:labels:)`` with one label.
    func apply(
        to image: Volume<Float32>, label: Volume<Float32>
    ) throws(TransformError) -> (image: Volume<Float32>, label: Volume<Float32>)

    /// Applies the transform to an image and several label volumes on its grid (a class map, or one mask per
    /// channel) together, so a step that depends on the image moves every label alike; by default, each on its own.
    func apply(
        to image: Volume<Float32>, labels: [Volume<Float32>]
    ) throws(TransformError) -> (image: Volume<Float32>, labels: [Volume<Float32>])

    /// Whether a label's transform depends on the image (``CropToForeground``): ``applyToLabel(_:)`` then throws,
    /// and labels must go through ``apply(to:labels:)`` with their image.
    var labelsNeedImage: Bool { get }
}

extension VolumeTransform {
    /// Default: replaces `volume` with the result of ``apply(to:)``.
    public func apply(inPlace volume: inout Volume<Float32>) throws(TransformError) {
        volume = try apply(to: volume)
    }

    /// Default: this transform needs its input whole.
    public func apply(toPlanesOf source: any PlaneSource) throws -> Volume<Float32>? { nil }

    /// Default: no.
    public var readsPlanes: Bool { false }

    /// Default, for intensity transforms: the label unchanged.
    public func applyToLabel(_ label: Volume<Float32>) throws(TransformError) -> Volume<Float32> { label }

    /// Default: ``apply(to:labels:)`` with the one label.
    public func apply(
        to image: Volume<Float32>, label: Volume<Float32>
    ) throws(TransformError) -> (image: Volume<Float32>, label: Volume<Float32>) {
        let result = try apply(to: image, labels: [label])
        return (result.image, result.labels[0])
    }

    /// Default: ``apply(to:)`` on the image and ``applyToLabel(_:)`` on each label, each on its own.
    public func apply(
        to image: Volume<Float32>, labels: [Volume<Float32>]
    ) throws(TransformError) -> (image: Volume<Float32>, labels: [Volume<Float32>]) {
        var moved: [Volume<Float32>] = []
        for label in labels { moved.append(try applyToLabel(label)) }
        return (try apply(to: image), moved)
    }

    /// Default: no.
    public var labelsNeedImage: Bool { false }
}

/// Transforms applied in order, like MONAI's and TorchIO's `Compose`.
public struct Compose: VolumeTransform {
    /// The steps, in the order they run.
    public var transforms: [any VolumeTransform]

    /// A chain of `transforms`, run first to last; an empty chain returns its input.
    public init(_ transforms: [any VolumeTransform]) { self.transforms = transforms }

    /// The chain as `compose` data: its ``TransformSpecification/key`` identifies the whole preprocessing.
    public var specification: TransformSpecification { .compose(transforms.map(\.specification)) }

    /// The first step writes a new volume (the caller's stays as it was); the others work on that one in place.
    /// Windows next to a resampling run inside it (`WindowedResample`): same voxels, two passes fewer.
    public func apply(to volume: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        let steps = WindowedResample.fusing(transforms)
        guard let first = steps.first else { return volume }
        var volume = try first.apply(to: volume)
        for step in steps.dropFirst() { try step.apply(inPlace: &volume) }
        return volume
    }

    /// The first step (windows next to a resampling fused into it) reads the planes when it can; the others work
    /// on its result in place. Nil when the first step needs its input whole.
    public func apply(toPlanesOf source: any PlaneSource) throws -> Volume<Float32>? {
        let steps = WindowedResample.fusing(transforms)
        guard let first = steps.first, var volume = try first.apply(toPlanesOf: source) else { return nil }
        for step in steps.dropFirst() { try step.apply(inPlace: &volume) }
        return volume
    }

    /// Whether the first step (windows next to a resampling fused into it) reads planes.
    public var readsPlanes: Bool { WindowedResample.fusing(transforms).first?.readsPlanes ?? false }

    /// Every step in place where it can, windows next to a resampling fused into it.
    public func apply(inPlace volume: inout Volume<Float32>) throws(TransformError) {
        for step in WindowedResample.fusing(transforms) { try step.apply(inPlace: &volume) }
    }

    /// Each step's label form in order. Throws as soon as a step needs its image (``CropToForeground``).
    public func applyToLabel(_ label: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        var label = label
        for transform in transforms { label = try transform.applyToLabel(label) }
        return label
    }

    /// Image and labels through each step together, so a crop found in the image applies to the labels too.
    public func apply(
        to image: Volume<Float32>, labels: [Volume<Float32>]
    ) throws(TransformError) -> (image: Volume<Float32>, labels: [Volume<Float32>]) {
        var result = (image: image, labels: labels)
        for transform in transforms { result = try transform.apply(to: result.image, labels: result.labels) }
        return result
    }

    /// Whether any step's label transform depends on the image.
    public var labelsNeedImage: Bool { transforms.contains { $0.labelsNeedImage } }
}
