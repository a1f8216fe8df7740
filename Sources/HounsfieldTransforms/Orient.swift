import HounsfieldCore

/// Reorders and flips axes so the volume has a canonical orientation: no interpolation, values are moved exactly.
///
/// The code names where each index axis points, in DICOM's convention: `LPS` means x grows toward the patient's
/// Left, y toward Posterior, z toward Superior (the identity direction); `RAS` is what nibabel and NIfTI users
/// expect. Each axis is matched to the input axis closest to it (largest cosine), so slightly oblique scans keep
/// their small rotation in `direction` rather than being resampled.
public struct Orient: VolumeTransform, Hashable, Codable {
    /// Three letters, one from each pair L/R, P/A, S/I, e.g. "LPS", "RAS", "ASL".
    public var code: String

    /// Orients to `code` (any case): `Orient("RAS")`.
    public init(_ code: String) { self.code = code.uppercased() }

    /// `{"type": "orient", "code": "RAS"}`.
    public var specification: TransformSpecification { .orient(self) }

    /// The patient axis (0 = L/R, 1 = P/A, 2 = S/I) and sign (+1 toward L, P or S) of each letter of the code.
    func targetAxes() throws(TransformError) -> [(axis: Int, sign: Double)] {
        let letters: [Character: (Int, Double)] = ["L": (0, 1), "R": (0, -1), "P": (1, 1), "A": (1, -1), "S": (2, 1), "I": (2, -1)]
        let axes = code.compactMap { letters[$0] }
        guard code.count == 3, axes.count == 3, Set(axes.map(\.0)).count == 3 else {
            throw .invalidParameter(name: "orientation code", value: "'\(code)'",
                                    expected: "three letters, one of each pair L/R, P/A, S/I (e.g. LPS, RAS)")
        }
        return axes.map { (axis: $0.0, sign: $0.1) }
    }

    /// Throws ``TransformError/invalidParameter(name:value:expected:)`` unless the code is three letters, one from each
    /// pair L/R, P/A, S/I.
    public func validate() throws(TransformError) { _ = try targetAxes() }

    /// For each output axis: the input axis it takes and whether it runs backwards.
    func plan(for direction: Direction) throws(TransformError) -> [(input: Int, flipped: Bool)] {
        let targets = try targetAxes()
        let columns = [direction.x, direction.y, direction.z]
        var used = Set<Int>()
        var plan: [(input: Int, flipped: Bool)] = []
        for target in targets {
            let candidate = (0..<3).filter { !used.contains($0) }
                .max { abs(columns[$0][target.axis]) < abs(columns[$1][target.axis]) }!
            used.insert(candidate)
            plan.append((candidate, columns[candidate][target.axis] * target.sign < 0))
        }
        return plan
    }

    /// The same voxels with axes swapped and flipped, and the geometry that keeps every voxel where it was in patient
    /// space. Throws when the code is invalid or the volume is empty.
    public func apply(to volume: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        try Check.nonEmpty(volume)
        let plan = try plan(for: volume.geometry.direction)
        let inputSizes = volume.size.array
        let columns = [volume.geometry.direction.x, volume.geometry.direction.y, volume.geometry.direction.z]
        let outputSizes = plan.map { inputSizes[$0.input] }
        let size = GridSize(x: outputSizes[0], y: outputSizes[1], z: outputSizes[2])
        // Index 0 of the output is the input corner where every flipped axis is at its far end.
        var corner = Vector3.zero
        for step in plan where step.flipped { corner[step.input] = Double(inputSizes[step.input] - 1) }
        let spacing = volume.geometry.spacing
        let geometry = Geometry(
            origin: volume.geometry.point(atIndex: corner),
            spacing: Vector3(spacing[plan[0].input], spacing[plan[1].input], spacing[plan[2].input]),
            direction: Direction(
                x: columns[plan[0].input] * (plan[0].flipped ? -1 : 1),
                y: columns[plan[1].input] * (plan[1].flipped ? -1 : 1),
                z: columns[plan[2].input] * (plan[2].flipped ? -1 : 1)))
        // Input strides of each output axis (negative when flipped), and the input offset of output voxel 0.
        let inputStrides = [1, inputSizes[0], inputSizes[0] * inputSizes[1]]
        let strides = plan.map { inputStrides[$0.input] * ($0.flipped ? -1 : 1) }
        let start = plan.reduce(0) { $0 + ($1.flipped ? (inputSizes[$1.input] - 1) * inputStrides[$1.input] : 0) }
        return volume.voxels.withUnsafeBufferPointer { input in
            Volume(size: size, geometry: geometry) { output in
                let slots = DisjointSlots(output)
                ParallelLoop.forEach(size.z) { k in
                    for j in 0..<size.y {
                        let from = start + k * strides[2] + j * strides[1]
                        let to = (k * size.y + j) * size.x
                        for i in 0..<size.x { slots[to + i] = input[from + i * strides[0]] }
                    }
                }
            }
        }
    }

    /// Labels move exactly like the image.
    public func applyToLabel(_ label: Volume<Float32>) throws(TransformError) -> Volume<Float32> {
        try apply(to: label)
    }
}

extension Orient {
    /// Decodes from a configuration; the code is upper-cased as the initializer does (`"ras"` is `RAS`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(try container.decode(String.self, forKey: .code))
    }
}
