import Foundation
import HounsfieldCore
import HounsfieldDICOM

/// A realistic synthetic CT series written as real DICOM files through DCMTK: for tests, demos and benchmarks,
/// so nothing binary needs to be checked in.
///
/// Pixels are signed 16-bit stored values with RescaleIntercept −1024; outside the reconstruction circle they hold
/// PixelPaddingValue −2000, as many scanners write.
public struct SyntheticSeries: Sendable {
    /// Rows and columns of every slice (slices are square); at most 65535.
    public var size: Int
    /// The number of slices, one file each.
    public var slices: Int
    /// Spacing x, y (in-plane) and z (between slices along the table), mm.
    public var spacing: Vector3
    /// The encoding of the files.
    public var syntax: SyntheticTransferSyntax
    /// Gantry tilt in degrees: the slice planes are rotated about the x axis while the table moves along z.
    public var tiltDegrees: Double
    /// Random file names (with InstanceNumber still spatial), to prove sorting does not rely on names.
    public var shuffleNames: Bool
    /// Seeds the phantom's noise, the UIDs and the shuffled names: the same seed writes the same files.
    public var seed: UInt64
    /// Overrides the generated SeriesInstanceUID (to put several acquisitions under one UID, as scanners do).
    public var seriesInstanceUID: String?
    /// AcquisitionNumber written into every file.
    public var acquisitionNumber: Int = 1

    /// A series of `slices` square slices of `size` pixels, `spacing` mm apart (x, y in-plane, z along the table). The
    /// defaults make a 512×512×300 chest-sized CT at 0.7 × 0.7 × 1.25 mm in explicit VR little endian.
    public init(
        size: Int = 512, slices: Int = 300, spacing: Vector3 = Vector3(0.7, 0.7, 1.25),
        syntax: SyntheticTransferSyntax = .explicit, tiltDegrees: Double = 0, shuffleNames: Bool = false,
        seed: UInt64 = 1
    ) {
        self.size = size
        self.slices = slices
        self.spacing = spacing
        self.syntax = syntax
        self.tiltDegrees = tiltDegrees
        self.shuffleNames = shuffleNames
        self.seed = seed
    }

    /// The phantom the series samples.
    public var phantom: SyntheticPhantom {
        let extent = Double(slices) * spacing.z
        return SyntheticPhantom(radius: Double(size) * spacing.x / 2, lungRange: (extent * 0.3)...(extent * 0.85),
                                seed: seed)
    }

    /// The row cosine of every slice: (1, 0, 0), which tilt leaves alone.
    public var rowCosine: Vector3 { Vector3(1, 0, 0) }
    /// The column cosine of every slice: (0, 1, 0) tilted about x by ``tiltDegrees``, so the slices shear along z.
    public var columnCosine: Vector3 {
        let angle = tiltDegrees * .pi / 180
        return Vector3(0, cos(angle), -sin(angle))
    }
    /// ImagePositionPatient of slice `k` (LPS, mm): slice centres lie on the z axis, `k × spacing.z` apart.
    public func position(ofSlice k: Int) -> Vector3 {
        let half = Double(size - 1) / 2
        let center = Vector3(0, 0, Double(k) * spacing.z)
        return center - rowCosine * (half * spacing.x) - columnCosine * (half * spacing.y)
    }

    /// Stored value of pixel (column i, row j) of slice k.
    func storedValue(i: Int, j: Int, k: Int) -> Int16 {
        let half = Double(size - 1) / 2
        let di = Double(i) - half, dj = Double(j) - half
        if (di * di + dj * dj).squareRoot() > half { return -2000 }
        let point = position(ofSlice: k) + rowCosine * (Double(i) * spacing.x) + columnCosine * (Double(j) * spacing.y)
        return Int16(phantom.hounsfield(at: point) + 1024)
    }

    /// The HU values the files hold, slice by slice ([z][y][x]), padding kept as its rescaled value (−3024).
    public func expectedHounsfield() -> [Float] {
        var values = [Float](repeating: 0, count: size * size * slices)
        for k in 0..<slices {
            for j in 0..<size {
                for i in 0..<size { values[(k * size + j) * size + i] = Float(Int(storedValue(i: i, j: j, k: k)) - 1024) }
            }
        }
        return values
    }

    /// A deterministic UID under the 2.25 (UUID-derived) root, from the seed and a label.
    func uid(_ label: String) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ seed
        for byte in label.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        let high = hash, low = (hash ^ 0x5851_F42D_4C95_7F2D) &* 0x2545_F491_4F6C_DD1D
        return "2.25." + String(UInt128(high) << 64 | UInt128(low))
    }

    /// Writes the series into `folder` (created if needed) and returns the file paths in slice order.
    @discardableResult
    public func write(to folder: String) throws(DICOMError) -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw .unreadable(file: folder, reason: "cannot create the folder: \(error.localizedDescription)")
        }
        var generator = SplitMix64(seed: seed)
        let names = (0..<slices).map { k in
            shuffleNames ? String(format: "%016llx.dcm", generator.next()) : String(format: "slice-%05d.dcm", k + 1)
        }
        let paths = names.map { folder + "/" + $0 }
        let failure = ErrorSlot<DICOMError>()
        ParallelLoop.forEach(slices) { k in
            do throws(DICOMError) {
                try writeSlice(k, to: paths[k])
            } catch {
                failure.record(error)
            }
        }
        if let error = failure.first { throw error }
        return paths
    }

    private func writeSlice(_ k: Int, to path: String) throws(DICOMError) {
        let writer = DICOMFileWriter()
        let position = position(ofSlice: k)
        func ds(_ value: Double) -> String { String(format: "%.6f", value) }
        try writer.set(.specificCharacterSet, "ISO_IR 100")
        try writer.set(.imageType, "ORIGINAL\\PRIMARY\\AXIAL")
        try writer.set(.sopClassUID, "1.2.840.10008.5.1.4.1.1.2")
        try writer.set(.sopInstanceUID, uid("instance-\(acquisitionNumber)-\(k)"))
        try writer.set(.studyDate, "20260101")
        try writer.set(.studyTime, "120000")
        try writer.set(.accessionNumber, "SYNTH\(seed)")
        try writer.set(.referringPhysicianName, "")
        try writer.set(.patientBirthDate, "")
        try writer.set(.patientSex, "O")
        try writer.set(.studyID, "1")
        try writer.set(.modality, "CT")
        try writer.set(.manufacturer, "Hounsfield synthetic phantom")
        try writer.set(.seriesDescription, "Synthetic CT \(size)x\(size)x\(slices) \(syntax.rawValue)")
        try writer.set(.patientName, "Synthetic^Phantom")
        try writer.set(.patientID, "SYNTH-\(seed)")
        try writer.set(.sliceThickness, ds(spacing.z))
        try writer.set(.kvp, "120")
        try writer.set(.gantryDetectorTilt, ds(tiltDegrees))
        try writer.set(.studyInstanceUID, uid("study"))
        try writer.set(.seriesInstanceUID,
                       seriesInstanceUID ?? uid("series-\(syntax.rawValue)-\(size)-\(slices)-\(tiltDegrees)"))
        try writer.set(.seriesNumber, "1")
        try writer.set(.acquisitionNumber, String(acquisitionNumber))
        try writer.set(.instanceNumber, String(k + 1))
        try writer.set(.imagePositionPatient, [position.x, position.y, position.z].map(ds).joined(separator: "\\"))
        try writer.set(.imageOrientationPatient,
                       (rowCosine.array + columnCosine.array).map(ds).joined(separator: "\\"))
        try writer.set(.frameOfReferenceUID, uid("frame-of-reference"))
        try writer.set(.samplesPerPixel, unsigned: 1)
        try writer.set(.photometricInterpretation, "MONOCHROME2")
        try writer.set(.rows, unsigned: UInt16(size))
        try writer.set(.columns, unsigned: UInt16(size))
        try writer.set(.pixelSpacing, "\(ds(spacing.y))\\\(ds(spacing.x))")
        try writer.set(.bitsAllocated, unsigned: 16)
        try writer.set(.bitsStored, unsigned: 16)
        try writer.set(.highBit, unsigned: 15)
        try writer.set(.pixelRepresentation, unsigned: 1)
        try writer.set(.pixelPaddingValue, signed: -2000)
        try writer.set(.windowCenter, "40")
        try writer.set(.windowWidth, "400")
        try writer.set(.rescaleIntercept, "-1024")
        try writer.set(.rescaleSlope, "1")
        var samples = [UInt16](repeating: 0, count: size * size)
        for j in 0..<size {
            for i in 0..<size { samples[j * size + i] = UInt16(bitPattern: storedValue(i: i, j: j, k: k)) }
        }
        try writer.setPixels(samples, rows: size, columns: size)
        try writer.save(to: path, transferSyntax: syntax.uid)
    }
}
