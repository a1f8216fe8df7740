import HounsfieldCore

/// Resampling between grids with the same direction: each output axis maps to one input axis by a continuous
/// index `c(i)`, so interpolation is separable. Work goes slice by slice: an output slice needs 1 (nearest), 2
/// (linear) or 4 (cubic B-spline) input planes, each resampled in-plane (x, then y) and combined along z. Memory is
/// the output plus a few planes per worker (plus, for B-spline, one coefficient volume as in ITK). Because input
/// planes are read one at a time, linear resampling can also read them from a `PlaneSource` (a series decoded slice
/// by slice) instead of a volume, and the input is then never held whole.
struct AxisAlignedResampler {
    enum Kernel { case nearest, linear, cubic }

    /// Per output index along one axis: its taps (input indices and weights) and whether the point lies inside the
    /// input (within half a voxel of its edge, ITK's rule).
    struct AxisMap {
        let taps: Int
        var indices: [Int] = []
        var weights: [Float32] = []
        var inside: [Bool] = []
        /// The output indices whose point lies outside the input (usually none, or a few at the edges): filling
        /// goes through these instead of testing every voxel of every row.
        var outside: [Int] { inside.indices.filter { !inside[$0] } }

        /// `shift` is the output origin's offset from the input origin along this axis, in mm; the index is
        /// `(shift + outputSpacing · i) · (1 / inputSpacing)`, a point then the inverse spacing, in ITK's order.
        /// At an exact half-voxel tie (common with centre alignment) nearest neighbour may still pick the other,
        /// equally near voxel than ITK, whose inverse comes from a numerical matrix inversion.
        init(outputCount: Int, inputCount: Int, shift: Double, outputSpacing: Double, inputSpacing: Double, kernel: Kernel) {
            let inverseSpacing = 1 / inputSpacing
            self.init(coordinates: (0..<outputCount).map { (shift + outputSpacing * Double($0)) * inverseSpacing },
                      inputCount: inputCount, kernel: kernel)
        }

        /// Taps at the given continuous indices. With `edgePadding` p, the samples are the input padded by p edge
        /// values on each side (scipy's mode "nearest"): indices shift by p and every point counts as inside.
        init(coordinates: [Double], inputCount: Int, kernel: Kernel, edgePadding: Int? = nil) {
            taps = switch kernel { case .nearest: 1; case .linear: 2; case .cubic: 4 }
            let padding = edgePadding ?? 0, sampleCount = inputCount + 2 * padding
            for coordinate in coordinates {
                let c = coordinate + Double(padding)
                inside.append(edgePadding != nil || (c >= -0.5 && c < Double(inputCount) - 0.5))
                let inputCount = sampleCount
                switch kernel {
                case .nearest:
                    // ITK rounds half up: floor(c + 0.5).
                    indices.append(min(max(Int((c + 0.5).rounded(.down)), 0), inputCount - 1))
                    weights.append(1)
                case .linear:
                    // Neighbours clamped to the edge, as ITK does within the half-voxel border.
                    let base = Int(c.rounded(.down)), w = Float32(c - Double(base))
                    indices += [min(max(base, 0), inputCount - 1), min(max(base + 1, 0), inputCount - 1)]
                    weights += [1 - w, w]
                case .cubic:
                    let (tapIndices, tapWeights) = BSplineCoefficients.taps(at: c, count: inputCount)
                    indices += tapIndices
                    weights += tapWeights
                }
            }
        }
    }

    let input: Volume<Float32>
    let size: GridSize
    let geometry: Geometry
    let kernel: Kernel
    let fill: Float32
    /// A window applied to every input sample as it is read (linear only: B-spline reads coefficients, nearest
    /// reads no neighbours to mix), so a clip before resampling costs no pass of its own.
    var inputMapping: WindowMapping? = nil
    /// Windows applied in order to each output slice while it is in cache (fill values included, as they would be
    /// by separate steps).
    var outputMappings: [WindowMapping] = []

    func run() -> Volume<Float32> {
        let (xs, ys, zs) = Self.axisMaps(from: input.size, at: input.geometry, to: size, at: geometry, kernel: kernel)
        precondition(inputMapping == nil || kernel == .linear, "an input window is fused into linear resampling only")
        if kernel == .nearest {
            var output = gather(xs: xs, ys: ys, zs: zs)
            for mapping in outputMappings { mapping.apply(inPlace: &output) }
            return output
        }
        let samples = kernel == .cubic ? BSplineCoefficients.compute(input) : input.voxels
        return Self.combine(samples: samples, sampleSize: input.size, xs: xs, ys: ys, zs: zs, size: size,
                            geometry: geometry, fill: fill, inputMapping: inputMapping, outputMappings: outputMappings)
    }

    /// Linear resampling of a volume that is read plane by plane from `source` instead of held in memory. Each task asks the source for the planes its output slices need, in order,
    /// into a buffer of its own, so the source's volume is never held whole. Same voxels as `run()` on the
    /// volume the source makes. Throws the first error the source throws.
    static func run(
        planesOf source: any PlaneSource, size: GridSize, geometry: Geometry, fill: Float32,
        inputMapping: WindowMapping?, outputMappings: [WindowMapping]
    ) throws -> Volume<Float32> {
        let (xs, ys, zs) = axisMaps(from: source.size, at: source.geometry, to: size, at: geometry, kernel: .linear)
        return try combine(
            sampleSize: source.size, readsIntoBuffer: true,
            plane: { z, buffer throws(any Error) in
                try source.read(plane: z, into: buffer)
                return UnsafePointer(buffer)
            },
            xs: xs, ys: ys, zs: zs, size: size, geometry: geometry, fill: fill, inputMapping: inputMapping,
            outputMappings: outputMappings)
    }

    /// The taps of each output axis, from an input of `inputSize` placed at `source` to an output of `size` placed
    /// at `geometry` (the same direction).
    private static func axisMaps(
        from inputSize: GridSize, at source: Geometry, to size: GridSize, at geometry: Geometry, kernel: Kernel
    ) -> (AxisMap, AxisMap, AxisMap) {
        let shift = source.direction.components(of: geometry.origin - source.origin)
        func map(_ axis: Int, _ outputCount: Int, _ inputCount: Int) -> AxisMap {
            AxisMap(outputCount: outputCount, inputCount: inputCount, shift: shift[axis],
                    outputSpacing: geometry.spacing[axis], inputSpacing: source.spacing[axis], kernel: kernel)
        }
        return (map(0, size.x, inputSize.x), map(1, size.y, inputSize.y), map(2, size.z, inputSize.z))
    }

    /// The separable engine over samples in memory: output voxel = Σ wx · wy · wz · sample, with each axis's taps
    /// given.
    static func combine(
        samples: [Float32], sampleSize: GridSize, xs: AxisMap, ys: AxisMap, zs: AxisMap, size: GridSize,
        geometry: Geometry, fill: Float32, inputMapping: WindowMapping? = nil, outputMappings: [WindowMapping] = []
    ) -> Volume<Float32> {
        samples.withUnsafeBufferPointer { samples in
            let inputPlane = sampleSize.voxelsPerSlice
            return combine(
                sampleSize: sampleSize, readsIntoBuffer: false,
                plane: { z, _ in UnsafePointer(samples.baseAddress! + z * inputPlane) },
                xs: xs, ys: ys, zs: zs, size: size, geometry: geometry, fill: fill, inputMapping: inputMapping,
                outputMappings: outputMappings)
        }
    }

    /// The separable engine: `plane(z, buffer)` gives input plane `z`, either where it already is or written into
    /// `buffer` (a plane-sized buffer of the calling task, allocated when `readsIntoBuffer`). A failure stops the
    /// other tasks at their next output slice and is thrown.
    static func combine<Failure: Error>(
        sampleSize: GridSize, readsIntoBuffer: Bool,
        plane read: (Int, UnsafeMutablePointer<Float32>) throws(Failure) -> UnsafePointer<Float32>,
        xs: AxisMap, ys: AxisMap, zs: AxisMap, size: GridSize,
        geometry: Geometry, fill: Float32, inputMapping: WindowMapping?, outputMappings: [WindowMapping]
    ) throws(Failure) -> Volume<Float32> {
        let inputPlane = sampleSize.voxelsPerSlice, outputPlane = size.voxelsPerSlice
        let (width, height, inputWidth, inputHeight) = (size.x, size.y, sampleSize.x, sampleSize.y)
        let xTaps = xs.taps, yTaps = ys.taps, taps = zs.taps

        /// In-plane resampling of one input plane: along x into `rows` (input height × output width), then along y.
        /// `scratch` (one input row) holds the row's samples through `inputMapping`, when there is one.
        func resamplePlane(
            _ slice: UnsafePointer<Float32>, rows: UnsafeMutablePointer<Float32>, into plane: UnsafeMutablePointer<Float32>,
            scratch: UnsafeMutablePointer<Float32>
        ) {
            xs.indices.withUnsafeBufferPointer { indices in
                xs.weights.withUnsafeBufferPointer { weights in
                    for y in 0..<inputHeight {
                        var row = slice + y * inputWidth
                        if let inputMapping {
                            inputMapping.apply(row, count: inputWidth, into: scratch)
                            row = UnsafePointer(scratch)
                        }
                        let target = rows + y * width
                        // The common tap counts unrolled: a generic inner loop costs linear a third of its speed.
                        switch xTaps {
                        case 2:
                            Self.resampleRow(row, twoTaps: indices.baseAddress!, weights.baseAddress!, count: width,
                                             into: target)
                        case 4:
                            for i in 0..<width {
                                let a = weights[4 * i] * row[indices[4 * i]] + weights[4 * i + 1] * row[indices[4 * i + 1]]
                                let b = weights[4 * i + 2] * row[indices[4 * i + 2]] + weights[4 * i + 3] * row[indices[4 * i + 3]]
                                target[i] = a + b
                            }
                        default:
                            for i in 0..<width {
                                var value: Float32 = 0
                                for t in 0..<xTaps { value += weights[i * xTaps + t] * row[indices[i * xTaps + t]] }
                                target[i] = value
                            }
                        }
                    }
                }
            }
            for j in 0..<height {
                let target = plane + j * width
                target.update(repeating: 0, count: width)
                for t in 0..<yTaps {
                    let source = rows + ys.indices[j * yTaps + t] * width, w = ys.weights[j * yTaps + t]
                    for i in 0..<width { target[i] += w * source[i] }
                }
            }
        }

        // Output slices in contiguous runs per thread, so neighbouring output slices reuse the input planes they
        // share (each input plane is resampled in-plane about once, not once per output slice that touches it).
        let mappedFill = outputMappings.reduce(fill) { value, mapping in mapping(value) }
        let outsideColumns = xs.outside
        let failure = ErrorSlot<Failure>()
        let result = Volume<Float32>(size: size, geometry: geometry) { output in
            let slots = DisjointSlots(output)
            ParallelLoop.forEachContiguously(size.z) { next in
                var planes = PlaneCache(capacity: taps, planeSize: outputPlane, rowsSize: inputHeight * width)
                let scratch = UnsafeMutablePointer<Float32>.allocate(capacity: inputWidth)
                let buffer = UnsafeMutablePointer<Float32>.allocate(capacity: readsIntoBuffer ? inputPlane : 0)
                defer {
                    planes.deallocate()
                    scratch.deallocate()
                    buffer.deallocate()
                }
                while let k = next() {
                    guard failure.first == nil else { return }
                    let out = slots.base + k * outputPlane
                    guard zs.inside[k] else {
                        out.update(repeating: mappedFill, count: outputPlane)
                        continue
                    }
                    let needed = Array(zs.indices[(k * taps)..<((k + 1) * taps)])
                    var sources: [(plane: UnsafeMutablePointer<Float32>, weight: Float32)] = []
                    for t in 0..<taps where zs.weights[k * taps + t] != 0 {
                        let plane = planes.plane(needed[t], keeping: needed) { z, rows, plane in
                            do throws(Failure) {
                                resamplePlane(try read(z, buffer), rows: rows, into: plane, scratch: scratch)
                            } catch {
                                failure.record(error)
                            }
                        }
                        sources.append((plane, zs.weights[k * taps + t]))
                    }
                    // One pass over the output slice, whatever the number of planes.
                    switch sources.count {
                    case 1:
                        let (a, wa) = sources[0]
                        for index in 0..<outputPlane { out[index] = wa * a[index] }
                    case 2:
                        let (a, wa) = sources[0], (b, wb) = sources[1]
                        for index in 0..<outputPlane { out[index] = wa * a[index] + wb * b[index] }
                    default:
                        out.update(repeating: 0, count: outputPlane)
                        for (plane, weight) in sources {
                            for index in 0..<outputPlane { out[index] += weight * plane[index] }
                        }
                    }
                    for j in 0..<height {
                        let target = out + j * width
                        if !ys.inside[j] {
                            target.update(repeating: fill, count: width)
                            continue
                        }
                        for i in outsideColumns { target[i] = fill }
                    }
                    for mapping in outputMappings { mapping.apply(inPlace: out, count: outputPlane) }
                }
            }
            // Every voxel must be initialized before the array is handed back, even on failure.
            if failure.first != nil { output.initialize(repeating: fill) }
        }
        if let error = failure.first { throw error }
        return result
    }

    /// One input row resampled along x with two taps per output voxel (linear). A function of its own with plain
    /// pointers: written inline in `combine`'s closure, the loop reloaded its base pointers from the stack for every
    /// voxel. Same arithmetic, so the same bits.
    @inline(never)
    private static func resampleRow(
        _ row: UnsafePointer<Float32>, twoTaps indices: UnsafePointer<Int>, _ weights: UnsafePointer<Float32>,
        count: Int, into target: UnsafeMutablePointer<Float32>
    ) {
        for i in 0..<count {
            target[i] = weights[2 * i] * row[indices[2 * i]] + weights[2 * i + 1] * row[indices[2 * i + 1]]
        }
    }

    /// Nearest neighbour needs no arithmetic: each output voxel copies one input voxel.
    private func gather(xs: AxisMap, ys: AxisMap, zs: AxisMap) -> Volume<Float32> {
        let (width, height, inputWidth, inputPlane) = (size.x, size.y, input.size.x, input.size.voxelsPerSlice)
        let fill = fill
        return input.voxels.withUnsafeBufferPointer { voxels in
            Volume(size: size, geometry: geometry) { output in
                let slots = DisjointSlots(output)
                ParallelLoop.forEach(size.z) { k in
                    for j in 0..<height {
                        let target = slots.base + (k * height + j) * width
                        guard zs.inside[k], ys.inside[j] else {
                            target.update(repeating: fill, count: width)
                            continue
                        }
                        let row = voxels.baseAddress! + zs.indices[k] * inputPlane + ys.indices[j] * inputWidth
                        for i in 0..<width { target[i] = xs.inside[i] ? row[xs.indices[i]] : fill }
                    }
                }
            }
        }
    }
}

/// The most recently resampled input planes of one task, keyed by input plane index, and a scratch buffer. Output
/// slices are visited in order, so the planes they need are almost always already there.
private struct PlaneCache {
    private var keys: [Int]
    private var lastUse: [Int]
    private let planes: [UnsafeMutablePointer<Float32>]
    private let rows: UnsafeMutablePointer<Float32>
    private var clock = 0

    init(capacity: Int, planeSize: Int, rowsSize: Int) {
        keys = Array(repeating: -1, count: capacity)
        lastUse = Array(repeating: -1, count: capacity)
        planes = (0..<capacity).map { _ in .allocate(capacity: planeSize) }
        rows = .allocate(capacity: rowsSize)
    }

    /// The resampled plane `z`, computed with `make` when it is not cached. Planes in `keeping` (the other taps of
    /// the same output slice) are never evicted; otherwise the least recently used one is.
    mutating func plane(
        _ z: Int, keeping: [Int], make: (Int, UnsafeMutablePointer<Float32>, UnsafeMutablePointer<Float32>) -> Void
    ) -> UnsafeMutablePointer<Float32> {
        clock += 1
        if let slot = keys.firstIndex(of: z) {
            lastUse[slot] = clock
            return planes[slot]
        }
        let slot = keys.indices.filter { !keeping.contains(keys[$0]) }.min { lastUse[$0] < lastUse[$1] }!
        make(z, rows, planes[slot])
        keys[slot] = z
        lastUse[slot] = clock
        return planes[slot]
    }

    func deallocate() {
        for plane in planes { plane.deallocate() }
        rows.deallocate()
    }
}
