import Foundation
import Hounsfield
import Testing

/// The TotalSegmentator DICOM series: SeriesInstanceUID, StudyInstanceUID, SOPInstanceUID and SOPClassUID present
/// but empty in all 20 files. They form one series, as dcm2niix and GDCM group them, with a warning.
@Suite("Series with empty UIDs")
struct EmptyUIDGroupingTests {
    @Test("20 files with empty UIDs form one 20-slice series, equal to SimpleITK's volume")
    func groupedAsOneSeries() async throws {
        let scan = try await SeriesScanner().scan([TestSupport.testdata("labels-nifti/totalseg-dicom/ct")])
        #expect(scan.series.count == 1)
        let series = try #require(scan.series.first)
        #expect(series.size == GridSize(x: 512, y: 512, z: 20))
        #expect(series.warnings.contains { $0.kind == .groupedWithoutSeriesUID && $0.value == 20 })
        // SOP instances come from the file meta information.
        #expect(series.images.allSatisfy { $0.sopInstanceUID?.hasPrefix("1.3.12.2.1107.5.1.4.60064.") == true })

        let sets = try #require(TestSupport.reference("labels-nifti")["sets"] as? [String: [String: Any]])
        let ctSeries = try #require(sets["totalseg-dicom"]?["ct_series"] as? [[String: Any]]).first!
        let expectedOrder = ctSeries["sop_instance_uids"] as! [String]
        #expect(series.slices.map { series.images[$0.image].sopInstanceUID! } == expectedOrder)
        let volume = try await series.loadVolume()
        let hu = ctSeries["hu"] as! [String: Any]
        #expect(TestSupport.sha256(volume) == hu["sha256"] as? String)
    }
}
