import HounsfieldCore

/// Fills closed polygons on one slice by the even-odd rule, one scanline per row of pixel centres (decision 54).
///
/// A pixel is inside when its centre is inside an odd number of the polygons. A centre exactly on an edge counts
/// as inside for a left or lower edge and outside for a right or upper one (half-open), so polygons that share an
/// edge do not share pixels and the count lands on the polygon area. Each row costs its edge crossings, not a test
/// per pixel.
enum ContourFill {
    /// One polygon edge in pixel coordinates, with `y0 < y1`.
    private struct Edge {
        var x0: Double, y0: Double, x1: Double, y1: Double
        /// First and one-past-last row whose centre the edge crosses (rows `y0 <= j < y1`).
        var firstRow: Int, endRow: Int
    }

    /// Sets to 1 the pixels of `slice` (row-major, `width` × `height`) whose centres are inside `polygons`
    /// (vertices in continuous pixel indices, x along columns, y along rows; each polygon closes on itself).
    static func fill(
        _ polygons: [[(x: Double, y: Double)]], width: Int, height: Int, into slice: UnsafeMutableBufferPointer<UInt8>
    ) {
        var edges: [Edge] = []
        for polygon in polygons where polygon.count >= 3 {
            for index in polygon.indices {
                let a = polygon[index], b = polygon[(index + 1) % polygon.count]
                guard a.y != b.y, a.y.isFinite, b.y.isFinite, a.x.isFinite, b.x.isFinite else { continue }
                let (low, high) = a.y < b.y ? (a, b) : (b, a)
                let first = max(0, Int(low.y.rounded(.up)))
                let end = min(height, Int(high.y.rounded(.up)))
                guard first < end else { continue }
                edges.append(Edge(x0: low.x, y0: low.y, x1: high.x, y1: high.y, firstRow: first, endRow: end))
            }
        }
        guard !edges.isEmpty else { return }
        edges.sort { $0.firstRow < $1.firstRow }
        var active: [Edge] = []
        var crossings: [Double] = []
        var next = 0
        let firstRow = edges[0].firstRow
        let lastRow = edges.map(\.endRow).max()!
        for row in firstRow..<lastRow {
            active.removeAll { $0.endRow <= row }
            while next < edges.count, edges[next].firstRow <= row {
                active.append(edges[next])
                next += 1
            }
            guard !active.isEmpty else { continue }
            let y = Double(row)
            crossings.removeAll(keepingCapacity: true)
            for edge in active {
                crossings.append(edge.x0 + (y - edge.y0) * (edge.x1 - edge.x0) / (edge.y1 - edge.y0))
            }
            crossings.sort()
            let base = row * width
            var pair = 0
            while pair + 1 < crossings.count {
                // Centres x with crossings[pair] <= x < crossings[pair + 1].
                let start = max(0, Int(crossings[pair].rounded(.up)))
                let end = min(width, Int(crossings[pair + 1].rounded(.up)))
                if start < end {
                    for column in start..<end { slice[base + column] = 1 }
                }
                pair += 2
            }
        }
    }
}
