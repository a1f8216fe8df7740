import HounsfieldCore

/// Which of the header's two transforms placed the voxels, so a user can see why an image sits where it does.
public enum NIfTIOrientationSource: String, Hashable, Sendable {
    /// The sform (`srow_x/y/z`).
    case sform
    /// The qform (quaternion, `qoffset`, qfac).
    case qform
    /// Neither is set (both codes 0): origin 0 and the identity direction in LPS, as ITK does.
    case none
}

/// The voxel-to-patient transform of a NIfTI header, chosen and converted as ITK's `NiftiImageIO` does, so that a
/// NIfTI volume lands where SimpleITK (and therefore most training code) puts it.
///
/// ITK 5's rule (`SetImageIOOrientationFromNIfTI`): with both codes 0, origin 0 and identity direction. Otherwise
/// the sform is used when it is affine and orthonormal once its columns are normalized (within 1e-4), and either the
/// qform code is 0, or the sform code is 1 (scanner), or both codes are set and the two transforms agree (rotation,
/// column lengths and offset within 1e-4); also when the two matrices agree element by element (1e-5, offsets 1e-7).
/// Else the qform is used when its code is set, and else the file is refused (a skewed sform alone). Spacing is
/// always `pixdim[1…3]`; the direction is the chosen matrix's normalized columns and the origin its offset, both
/// turned from RAS into LPS by negating x and y.
public struct NIfTIOrientation: Hashable, Sendable {
    /// Origin, spacing and direction in LPS.
    public var geometry: Geometry
    /// The transform that gave them.
    public var source: NIfTIOrientationSource

    /// Chooses and converts the header's transform; throws (with `path`) when neither is usable.
    public init(header: NIfTIHeader, path: String) throws(NIfTIError) {
        let spacing = header.spacing
        guard header.qformCode > 0 || header.sformCode > 0 else {
            geometry = Geometry(origin: .zero, spacing: spacing, direction: .identity)
            source = .none
            return
        }
        let qform = Self.qformMatrix(header)
        let sform = header.sformCode > 0 ? header.sformRows : [[Double]](repeating: [0, 0, 0, 0], count: 3)
        let sformBottomRow: [Double] = header.sformCode > 0 ? [0, 0, 0, 1] : [0, 0, 0, 0]

        // Step 1: the two matrices (as nifti_io fills them: an unset qform is diag(pixdim), an unset sform zero) agree.
        var preferSform = (0..<3).allSatisfy { row in
            (0..<3).allSatisfy { abs(sform[row][$0] - qform[row][$0]) <= 1e-5 }
        }
            && (0..<3).reduce(0) { $0 + abs(sform[$1][3] - qform[$1][3]) } + abs(sformBottomRow[3] - 1) <= 1e-7
            && sformBottomRow[0..<3].allSatisfy { $0 == 0 }
        if !preferSform || header.sformCode > 0 {
            if header.sformCode > 0, Self.isOrthonormalAffine(sform) {
                if header.qformCode <= 0 || header.sformCode == 1 {
                    preferSform = true
                } else {
                    preferSform = Self.agree(sform, qform)
                }
            }
        }
        let matrix: [[Double]]
        if preferSform {
            matrix = sform
            source = .sform
        } else if header.qformCode > 0 {
            matrix = qform
            source = .qform
        } else {
            throw NIfTIError(path: path, reason: .noOrthonormalOrientation)
        }
        let column = { (c: Int) in Vector3(-matrix[0][c], -matrix[1][c], matrix[2][c]).normalized }
        geometry = Geometry(
            // Adding 0 turns −0 into 0, so reports never print "-0".
            origin: Vector3(-matrix[0][3] + 0, -matrix[1][3] + 0, matrix[2][3] + 0), spacing: spacing,
            direction: Direction(x: column(0), y: column(1), z: column(2)))
    }

    /// The qform as NIfTI's reference library builds it (`nifti_quatern_to_mat44`), three rows in RAS; an unset
    /// qform is `diag(pixdim)` with no offset.
    static func qformMatrix(_ header: NIfTIHeader) -> [[Double]] {
        let d = (1...3).map { header.pixdim[$0] > 0 ? header.pixdim[$0] : 1 }
        guard header.qformCode > 0 else {
            return [[header.pixdim[1], 0, 0, 0], [0, header.pixdim[2], 0, 0], [0, 0, header.pixdim[3], 0]]
        }
        var (b, c, dq) = (header.quaternion[0], header.quaternion[1], header.quaternion[2])
        var a = 1 - (b * b + c * c + dq * dq)
        if a < 1e-7 {
            let scale = 1 / (b * b + c * c + dq * dq).squareRoot()
            (b, c, dq, a) = (b * scale, c * scale, dq * scale, 0)
        } else {
            a = a.squareRoot()
        }
        let (xd, yd, zd) = (d[0], d[1], header.qfac < 0 ? -d[2] : d[2])
        let o = header.quaternionOffset
        return [
            [(a * a + b * b - c * c - dq * dq) * xd, 2 * (b * c - a * dq) * yd, 2 * (b * dq + a * c) * zd, o[0]],
            [2 * (b * c + a * dq) * xd, (a * a + c * c - b * b - dq * dq) * yd, 2 * (c * dq - a * b) * zd, o[1]],
            [2 * (b * dq - a * c) * xd, 2 * (c * dq + a * b) * yd, (a * a + dq * dq - c * c - b * b) * zd, o[2]],
        ]
    }

    /// The columns of a 3×4 matrix's linear part.
    private static func columns(_ m: [[Double]]) -> [Vector3] {
        (0..<3).map { c in Vector3(m[0][c], m[1][c], m[2][c]) }
    }

    /// ITK's "decomposable without skew": invertible, and orthonormal (R·Rᵀ = I within 1e-4) once each column is
    /// normalized. (The bottom row of a set sform is always (0, 0, 0, 1) here.)
    static func isOrthonormalAffine(_ m: [[Double]]) -> Bool {
        let axes = columns(m)
        guard abs(axes[0].dot(axes[1].cross(axes[2]))) > Double.ulpOfOne, axes.allSatisfy({ $0.length > 0 }) else {
            return false
        }
        let unit = axes.map(\.normalized)
        // R·Rᵀ: rows of R are the components; element (i, j) = Σ_c unit[c][i]·unit[c][j].
        for i in 0..<3 {
            for j in 0..<3 {
                let value = (0..<3).reduce(0.0) { $0 + unit[$1][i] * unit[$1][j] }
                if abs(value - (i == j ? 1 : 0)) > 1e-4 { return false }
            }
        }
        return true
    }

    /// Whether the sform and qform describe the same placement: same rotation (normalized columns), same voxel sizes
    /// (sorted column lengths, ITK's singular values) and same offset, each within 1e-4.
    static func agree(_ s: [[Double]], _ q: [[Double]]) -> Bool {
        let (sAxes, qAxes) = (columns(s), columns(q))
        for (sAxis, qAxis) in zip(sAxes, qAxes) where (sAxis.normalized - qAxis.normalized).abs().max() > 1e-4 {
            return false
        }
        let (sScales, qScales) = (sAxes.map(\.length).sorted(), qAxes.map(\.length).sorted())
        guard zip(sScales, qScales).allSatisfy({ abs($0 - $1) <= 1e-4 }) else { return false }
        return (0..<3).allSatisfy { abs(s[$0][3] - q[$0][3]) <= 1e-4 }
    }
}

extension SIMD3 where Scalar == Double {
    fileprivate func abs() -> Self { Self(Swift.abs(x), Swift.abs(y), Swift.abs(z)) }
}
