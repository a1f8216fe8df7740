/// Who a received DICOM instance is: the UIDs that place it in its study and series, read from its header by the
/// receiver (or the watch folder, or an HTTP upload) before it is handed to the ``Spool``.
public struct InstanceIdentity: Sendable, Hashable {
    /// StudyInstanceUID (0020,000D).
    public var studyInstanceUID: String
    /// SeriesInstanceUID (0020,000E).
    public var seriesInstanceUID: String
    /// SOPInstanceUID (0008,0018): the instance's identity. A second instance with the same one is a repeat.
    public var sopInstanceUID: String
    /// SOPClassUID (0008,0016), such as CT Image Storage.
    public var sopClassUID: String

    /// An identity from its four UIDs.
    public init(study: String, series: String, instance: String, sopClass: String) {
        studyInstanceUID = study
        seriesInstanceUID = series
        sopInstanceUID = instance
        sopClassUID = sopClass
    }
}
