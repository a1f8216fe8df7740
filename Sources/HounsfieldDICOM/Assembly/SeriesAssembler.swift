import HounsfieldCore
/// Turns image headers into series: group by SeriesInstanceUID, then drop localizers, split what one volume cannot
/// hold, remove duplicates, and sort by position along the slice normal — never by InstanceNumber.
///
/// Each rule is a small function with a name, so each can be tested and explained in `SeriesDescriptor.notes`.
struct SeriesAssembler {
    let headers: [ImageHeader]
    let options: ScanOptions
    /// Slices dropped while assembling (localizers, duplicates, frames without geometry).
    private(set) var excluded: [ExcludedFile] = []

    init(headers: [ImageHeader], options: ScanOptions) {
        self.headers = headers
        self.options = options
    }

    mutating func assemble() -> [SeriesDescriptor] {
        var groups: [String: [SliceCandidate]] = [:]
        for (index, header) in headers.enumerated() {
            let uid = header.seriesInstanceUID ?? Self.substituteSeriesKey(header)
            for (frame, frameHeader) in header.frames.enumerated() {
                groups[uid, default: []].append(SliceCandidate(
                    image: index, frame: frame, position: frameHeader.position,
                    orientation: frameHeader.orientation, pixelSpacing: frameHeader.pixelSpacing,
                    rescaleSlope: frameHeader.rescaleSlope, rescaleIntercept: frameHeader.rescaleIntercept,
                    temporalPosition: frameHeader.temporalPosition ?? header.temporalPosition))
            }
        }
        let ordered = groups.keys.sorted { a, b in
            let studyA = groups[a]!.first.flatMap { headers[$0.image].studyInstanceUID } ?? ""
            let studyB = groups[b]!.first.flatMap { headers[$0.image].studyInstanceUID } ?? ""
            return (studyA, a) < (studyB, b)
        }
        return ordered.flatMap { uid in assembleSeries(uid: uid, candidates: groups[uid]!) }
    }

    private mutating func assembleSeries(uid: String, candidates: [SliceCandidate]) -> [SeriesDescriptor] {
        let exclusionsBefore = excluded.count
        let files = Set(candidates.map(\.image)).count
        var group = CandidateGroup(
            candidates: candidates,
            notes: ["\(candidates.count) slice(s) from \(files) object(s) share SeriesInstanceUID \(uid)"])
        if uid.hasPrefix(Self.groupedByGeometryPrefix), files > 1 {
            group.warnings.append(SeriesWarning(
                .groupedWithoutSeriesUID,
                "\(files) files without SeriesInstanceUID and StudyInstanceUID (absent or empty) grouped as one series by frame of reference, orientation, image size and pixel spacing, as dcm2niix does; check that they were one acquisition",
                value: Double(files)))
        }
        group.candidates = dropLocalizersByImageType(group.candidates)
        guard !group.candidates.isEmpty else { return [] }
        group = placeSlices(group)
        guard !group.candidates.isEmpty else { return [] }

        var parts = splitByOrientation(group).flatMap { splitByImageShape($0) }
        for index in parts.indices { parts[index] = dropDuplicateInstances(parts[index]) }
        var separated: [CandidateGroup] = []
        for part in parts { separated += separateRepeatedPositions(part) }
        parts = separated
        let dropped = Array(excluded[exclusionsBefore...])
        return parts.flatMap { part -> [SeriesDescriptor] in
            let sorted = sortAlongNormal(part)
            let runs = options.spacing == .split ? splitIntoEvenRuns(sorted) : [sorted]
            return runs.map { describe($0, uid: uid, dropped: dropped) }
        }
    }

    /// The start of the key of files grouped without any UID.
    static let groupedByGeometryPrefix = "no-series-uid:geometry:"

    /// The grouping key of an image without SeriesInstanceUID (absent or empty): its study when it has one; else,
    /// as dcm2niix groups such files, its frame of reference, modality, image size, orientation and pixel spacing;
    /// else the file alone.
    static func substituteSeriesKey(_ header: ImageHeader) -> String {
        if let study = header.studyInstanceUID { return "no-series-uid:\(study)" }
        guard let frameOfReference = header.frameOfReferenceUID, let frame = header.frames.first,
              let orientation = frame.orientation
        else { return "no-series-uid:\(header.source.name)" }
        let spacing = frame.pixelSpacing.map { format(Vector3($0.betweenRows, $0.betweenColumns, 0)) } ?? "none"
        return groupedByGeometryPrefix + [
            frameOfReference, header.modality ?? "", "\(header.columns)x\(header.rows)", format(orientation), spacing,
        ].joined(separator: "|")
    }

    // MARK: - Rules

    /// Scouts and localizers (ImageType contains LOCALIZER) are projections, not slices of the volume.
    private mutating func dropLocalizersByImageType(_ candidates: [SliceCandidate]) -> [SliceCandidate] {
        candidates.filter { candidate in
            let header = headers[candidate.image]
            guard header.imageType.contains("LOCALIZER") else { return true }
            exclude(candidate, .localizer, "a localizer (ImageType \(header.imageType.joined(separator: "\\"))): not part of the volume")
            return false
        }
    }

    /// Every slice needs a position and orientation. When none has them (old secondary captures, some MR
    /// multi-frames), the frames are stacked in instance order with an identity orientation and a warning; when only
    /// some lack them, those are dropped.
    private mutating func placeSlices(_ group: CandidateGroup) -> CandidateGroup {
        var group = group
        let placed = group.candidates.filter { $0.position != nil && $0.orientation != nil }
        if placed.isEmpty {
            let first = headers[group.candidates[0].image]
            let step = first.spacingBetweenSlices.flatMap { $0 > 0 ? $0 : nil } ?? 1
            let ordered = group.candidates.sorted {
                (headers[$0.image].instanceNumber ?? 0, $0.image, $0.frame)
                    < (headers[$1.image].instanceNumber ?? 0, $1.image, $1.frame)
            }
            group.candidates = ordered.enumerated().map { index, candidate in
                var candidate = candidate
                candidate.position = Vector3(0, 0, Double(index) * step)
                candidate.orientation = (Vector3(1, 0, 0), Vector3(0, 1, 0))
                return candidate
            }
            group.warnings.append(SeriesWarning(
                .assumedGeometry,
                "no ImagePositionPatient/ImageOrientationPatient: slices stacked in instance order, identity orientation, origin 0, \(step) mm apart; geometry is a guess"))
            return group
        }
        for candidate in group.candidates where candidate.position == nil || candidate.orientation == nil {
            exclude(candidate, .noGeometry, "no ImagePositionPatient/ImageOrientationPatient while the rest of the series has them: cannot place this slice")
        }
        group.candidates = placed
        return group
    }

    /// Slices that are not parallel cannot share a volume. Small groups (< 3 slices) beside a larger one are
    /// localizers without the ImageType flag; larger groups become series of their own.
    private mutating func splitByOrientation(_ group: CandidateGroup) -> [CandidateGroup] {
        var clusters: [[SliceCandidate]] = []
        for candidate in group.candidates {
            let orientation = candidate.orientation!
            if let index = clusters.firstIndex(where: { cluster in
                let reference = cluster[0].orientation!
                return reference.row.dot(orientation.row) > 0.9999 && reference.column.dot(orientation.column) > 0.9999
            }) {
                clusters[index].append(candidate)
            } else {
                clusters.append([candidate])
            }
        }
        guard clusters.count > 1 else { return [group] }
        clusters.sort { $0.count > $1.count }
        let largest = clusters[0].count
        var kept: [[SliceCandidate]] = []
        for cluster in clusters {
            if cluster.count < 3 && cluster.count < largest {
                for candidate in cluster {
                    exclude(candidate, .localizer, "orientation \(format(candidate.orientation!)) is not parallel to the other \(largest) slices of the series: treated as a localizer")
                }
            } else {
                kept.append(cluster)
            }
        }
        return group.splitting(into: kept, keyPrefix: "orientation", by: .orientation) { index, count in
            "split by orientation: part \(index) of \(count) (slices are not parallel)"
        }
    }

    /// Slices of different sizes or pixel spacings cannot share a volume.
    private func splitByImageShape(_ group: CandidateGroup) -> [CandidateGroup] {
        struct Shape: Hashable { let rows: Int, columns: Int, spacingRows: Int64, spacingColumns: Int64 }
        var order: [Shape] = []
        var members: [Shape: [SliceCandidate]] = [:]
        for candidate in group.candidates {
            let header = headers[candidate.image]
            let spacing = candidate.pixelSpacing ?? (1, 1)
            let shape = Shape(rows: header.rows, columns: header.columns,
                              spacingRows: Int64((spacing.betweenRows * 1e4).rounded()),
                              spacingColumns: Int64((spacing.betweenColumns * 1e4).rounded()))
            if members[shape] == nil { order.append(shape) }
            members[shape, default: []].append(candidate)
        }
        let parts = order.map { members[$0]! }
        return group.splitting(into: parts, keyPrefix: "shape", by: .shape) { index, count in
            let shape = order[index - 1]
            return "split by image shape: part \(index) of \(count) (\(shape.columns)×\(shape.rows), spacing \(Double(shape.spacingRows) / 1e4) × \(Double(shape.spacingColumns) / 1e4) mm)"
        }
    }

    /// The same instance (SOPInstanceUID and frame) seen twice — a copied file — is kept once.
    private mutating func dropDuplicateInstances(_ group: CandidateGroup) -> CandidateGroup {
        var group = group
        var seen: [String: Int] = [:]
        var kept: [SliceCandidate] = []
        for candidate in group.candidates {
            guard let uid = headers[candidate.image].sopInstanceUID else {
                kept.append(candidate)
                continue
            }
            let key = "\(uid)#\(candidate.frame)"
            if let first = seen[key] {
                exclude(candidate, .duplicate, "duplicate of \(headers[first].source.name) (same SOPInstanceUID \(uid))")
            } else {
                seen[key] = candidate.image
                kept.append(candidate)
            }
        }
        if kept.count < group.candidates.count {
            group.warnings.append(SeriesWarning(
                .duplicateSlices, "\(group.candidates.count - kept.count) duplicate instance(s) ignored",
                value: Double(group.candidates.count - kept.count)))
        }
        group.candidates = kept
        return group
    }

    /// Several slices at one position mean several acquisitions (phases, echoes, repeated scans) under one UID.
    /// They are separated by the first attribute that tells them apart; failing that, by order of appearance when
    /// every position repeats equally often; failing that, the first slice at each position is kept.
    private mutating func separateRepeatedPositions(_ group: CandidateGroup) -> [CandidateGroup] {
        let normal = group.candidates[0].normal!
        func hasRepeats(_ candidates: [SliceCandidate]) -> Bool {
            let offsets = candidates.map { $0.position!.dot(normal) }.sorted()
            return zip(offsets, offsets.dropFirst()).contains { $1 - $0 < 0.01 }
        }
        guard hasRepeats(group.candidates) else { return [group] }

        let headers = headers
        let distinguishers: [(name: String, key: String, value: (SliceCandidate) -> String?)] = [
            ("AcquisitionNumber", "acquisition", { headers[$0.image].acquisitionNumber.map(String.init) }),
            ("TemporalPosition", "phase", { $0.temporalPosition.map(String.init) }),
            ("EchoNumbers", "echo", { headers[$0.image].echoNumber.map(String.init) }),
            ("TriggerTime", "trigger", { headers[$0.image].triggerTime.map { String($0) } }),
        ]
        for distinguisher in distinguishers {
            var order: [String] = []
            var members: [String: [SliceCandidate]] = [:]
            for candidate in group.candidates {
                let value = distinguisher.value(candidate) ?? "-"
                if members[value] == nil { order.append(value) }
                members[value, default: []].append(candidate)
            }
            let parts = order.map { members[$0]! }
            if parts.count > 1 && !parts.contains(where: hasRepeats) {
                return group.splitting(
                    into: parts, keyPrefix: distinguisher.key, by: .repeatedPositions, attribute: distinguisher.name
                ) { index, count in
                    "split: repeated slice positions; \(distinguisher.name) \(order[index - 1]) is part \(index) of \(count)"
                }
            }
        }

        // Bucket by position; if every position repeats m times, the n-th occurrence (in instance order) is phase n.
        let byOrder = group.candidates.sorted {
            (headers[$0.image].instanceNumber ?? 0, $0.image, $0.frame)
                < (headers[$1.image].instanceNumber ?? 0, $1.image, $1.frame)
        }
        var buckets: [Int64: [SliceCandidate]] = [:]
        for candidate in byOrder {
            buckets[Int64((candidate.position!.dot(normal) * 100).rounded()), default: []].append(candidate)
        }
        let counts = Set(buckets.values.map(\.count))
        if counts.count == 1, let repeats = counts.first, repeats > 1 {
            let parts = (0..<repeats).map { occurrence in
                byOrder.filter { candidate in
                    let bucket = buckets[Int64((candidate.position!.dot(normal) * 100).rounded())]!
                    return bucket.firstIndex { $0.image == candidate.image && $0.frame == candidate.frame } == occurrence
                }
            }
            return group.splitting(into: parts, keyPrefix: "repeat", by: .repeatedPositions) { index, count in
                "split: every position appears \(count) times with no attribute telling them apart; occurrence \(index) in InstanceNumber order"
            }
        }
        var group = group
        var kept: [SliceCandidate] = []
        for offset in buckets.keys.sorted() {
            let bucket = buckets[offset]!
            kept.append(bucket[0])
            for candidate in bucket.dropFirst() {
                exclude(candidate, .duplicate, "same position as \(headers[bucket[0].image].source.name) and nothing tells the two apart: kept the one with the lower InstanceNumber")
            }
        }
        group.warnings.append(SeriesWarning(
            .duplicateSlices, "\(group.candidates.count - kept.count) slice(s) at repeated positions ignored",
            value: Double(group.candidates.count - kept.count)))
        group.candidates = kept
        return [group]
    }

    /// Sorts by the position's component along the normal (ties by InstanceNumber, then frame).
    private func sortAlongNormal(_ group: CandidateGroup) -> CandidateGroup {
        var group = group
        let normal = group.candidates[0].normal!
        group.candidates.sort {
            let a = $0.position!.dot(normal), b = $1.position!.dot(normal)
            if a != b { return a < b }
            return (headers[$0.image].instanceNumber ?? 0, $0.frame) < (headers[$1.image].instanceNumber ?? 0, $1.frame)
        }
        return group
    }

    /// With the `split` spacing policy, a stack whose gaps change becomes one series per run of equal gaps.
    private func splitIntoEvenRuns(_ group: CandidateGroup) -> [CandidateGroup] {
        let positions = group.candidates.map { $0.position! }
        guard positions.count > 2 else { return [group] }
        var runs: [[SliceCandidate]] = [[group.candidates[0], group.candidates[1]]]
        var runGap = (positions[1] - positions[0]).length
        for index in 2..<positions.count {
            let gap = (positions[index] - positions[index - 1]).length
            if abs(gap - runGap) <= StackLayout.tolerance(forMedianGap: runGap) {
                runs[runs.count - 1].append(group.candidates[index])
            } else {
                runs.append([group.candidates[index]])
                runGap = index + 1 < positions.count ? (positions[index + 1] - positions[index]).length : gap
            }
        }
        return group.splitting(into: runs, keyPrefix: "run", by: .spacingRun) { index, count in
            "split by spacing policy: evenly spaced run \(index) of \(count)"
        }
    }

    // MARK: - Description

    /// Builds the descriptor; `dropped` are the slices of this SeriesInstanceUID that no volume holds.
    private func describe(_ group: CandidateGroup, uid: String, dropped: [ExcludedFile]) -> SeriesDescriptor {
        var imageIndex: [Int: Int] = [:]
        var imageOrder: [Int] = []
        let first = group.candidates[0]
        let orientation = first.orientation!
        let normal = orientation.row.cross(orientation.column)
        let slices = group.candidates.map { candidate -> Slice in
            let local = imageIndex[candidate.image] ?? {
                imageIndex[candidate.image] = imageOrder.count
                imageOrder.append(candidate.image)
                return imageOrder.count - 1
            }()
            return Slice(image: local, frame: candidate.frame, position: candidate.position!,
                         rescaleSlope: candidate.rescaleSlope, rescaleIntercept: candidate.rescaleIntercept,
                         instanceNumber: headers[candidate.image].instanceNumber)
        }
        // A descriptor lives until its series is done, and a run holds every planned one: built by `map`, with no
        // spare capacity.
        let images = imageOrder.map { headers[$0] }
        let layout = StackLayout(sortedPositions: slices.map(\.position), normal: normal)
        let header = images[0]
        let pixelSpacing = first.pixelSpacing ?? (1, 1)
        // A single slice has no measured spacing: SpacingBetweenSlices if given, else 1 mm — never SliceThickness,
        // which is the width of the slice, not the distance to a neighbour (GDCM and SimpleITK agree).
        let zSpacing = layout.meanGap ?? header.spacingBetweenSlices.flatMap { $0 > 0 ? $0 : nil } ?? 1
        let geometry = Geometry(
            origin: slices[0].position,
            spacing: Vector3(pixelSpacing.betweenColumns, pixelSpacing.betweenRows, zSpacing > 0 ? zSpacing : 1),
            direction: Direction(x: orientation.row, y: orientation.column, z: normal))

        var warnings = group.warnings
        if let capture = SecondaryCapture(images) {
            warnings.append(SeriesWarning(
                .secondaryCapture,
                "\(capture.description): a picture of a screen or report, not an acquired volume; `hounsfield run` skips it unless filters.secondary_captures is true"))
        }
        if slices.count == 1, let split = group.splits.last(where: { $0.reason == .repeatedPositions }) {
            warnings.append(SeriesWarning(
                .repeatedPosition,
                "one of \(split.slicesBefore) images at repeated table positions, split into single images by \(split.attribute ?? "order of appearance"): repeated scans at one position (such as bolus-tracking monitor images) are not a volume",
                value: Double(split.parts)))
        }
        if first.pixelSpacing == nil {
            warnings.append(SeriesWarning(.assumedGeometry, "no PixelSpacing: 1 mm assumed"))
        }
        warnings += SeriesInspection.warnings(layout: layout, slices: slices, images: images)
        var notes = group.notes
        notes.append("sorted by position along the slice normal \(format(normal)), not by InstanceNumber")
        let key = ([uid] + group.keyParts).joined(separator: "#")
        return SeriesDescriptor(
            key: key, seriesInstanceUID: uid, studyInstanceUID: header.studyInstanceUID, modality: header.modality,
            seriesDescription: header.seriesDescription, images: images, slices: slices, layout: layout,
            size: GridSize(x: header.columns, y: header.rows, z: slices.count), geometry: geometry,
            warnings: warnings, notes: notes, excluded: dropped, splits: group.splits)
    }

    private mutating func exclude(_ candidate: SliceCandidate, _ kind: ExcludedFile.Kind, _ reason: String) {
        let header = headers[candidate.image]
        let name = header.frames.count > 1 ? "\(header.source.name) [frame \(candidate.frame + 1)]" : header.source.name
        excluded.append(ExcludedFile(file: name, kind: kind, reason: reason))
    }
}

func format(_ vector: Vector3) -> String {
    "(" + vector.array.map { value in
        let rounded = (value * 1e4).rounded() / 1e4
        return rounded == 0 ? "0" : String(rounded)
    }.joined(separator: ", ") + ")"
}

func format(_ orientation: (row: Vector3, column: Vector3)) -> String {
    "row \(format(orientation.row)) column \(format(orientation.column))"
}
