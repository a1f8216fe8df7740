import HounsfieldDICOM
import HounsfieldHDF5

/// Where a series' failure is filed: a DICOM error is decoding's, whichever stage met it (a streamed series decodes
/// inside the transform stage), and names its file; a cancellation is no failure at all; anything else belongs to
/// the stage that met it.
struct StageFailure: Sendable {
    /// `decode`, `transform` or `write`.
    var stage: String
    /// The file at fault, when the error names one.
    var file: String?
    /// The failure in a sentence.
    var message: String
    /// The work was cancelled, not failed: the series is reported `cancelled` and a later run processes it.
    var isCancellation: Bool

    init(_ error: any Error, stage: String) {
        switch error {
        case DICOMError.cancelled:
            self.init(stage: stage, file: nil, message: "\(error)", isCancellation: true)
        case let error as DICOMError:
            self.init(stage: "decode", file: error.file, message: error.description, isCancellation: false)
        case is CancellationError:
            self.init(stage: stage, file: nil, message: "cancelled", isCancellation: true)
        default:
            self.init(stage: stage, file: nil, message: "\(error)", isCancellation: false)
        }
    }

    /// A series not written because the output had failed (a full disk): filed at `write`, naming the output.
    init(outputFailure: OutputFailure) {
        self.init(stage: "write", file: outputFailure.path, message: "not written: \(outputFailure)", isCancellation: false)
    }

    init(stage: String, file: String?, message: String, isCancellation: Bool) {
        self.stage = stage
        self.file = file
        self.message = message
        self.isCancellation = isCancellation
    }
}
