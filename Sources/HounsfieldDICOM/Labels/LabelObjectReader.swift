import HounsfieldCore

/// Reads a ``LabelObjectDescriptor`` from a label object's header: references and classes, never masks or
/// contour points.
enum LabelObjectReader {
    /// The descriptor of `object`, or nil when its SOP class is not a label object's.
    static func read(_ object: DICOMObject, from source: ImageSource) -> LabelObjectDescriptor? {
        guard let sopClass = object.string(.sopClassUID) ?? object.string(.mediaStorageSOPClassUID),
              let kind = LabelObjectDescriptor.sopClasses[sopClass]
        else { return nil }
        var descriptor = LabelObjectDescriptor(
            source: source, kind: kind, sopClassUID: sopClass, sopInstanceUID: object.string(.sopInstanceUID),
            studyInstanceUID: object.string(.studyInstanceUID), seriesInstanceUID: object.string(.seriesInstanceUID),
            referencedSeriesUIDs: [], referencedInstanceUIDs: [], frameOfReferenceUID: nil, segmentationType: nil,
            classes: [])
        switch kind {
        case .segmentation: readSegmentation(object, into: &descriptor)
        case .structureSet: readStructureSet(object, into: &descriptor)
        }
        return descriptor
    }

    private static func readSegmentation(_ object: DICOMObject, into descriptor: inout LabelObjectDescriptor) {
        descriptor.frameOfReferenceUID = object.string(.frameOfReferenceUID)
        descriptor.segmentationType = object.string(.segmentationType)?.uppercased()
        for series in 0..<(object.itemCount(DICOMPath(.referencedSeriesSequence)) ?? 0) {
            if let uid = object.string(DICOMPath(.referencedSeriesSequence, item: series, .seriesInstanceUID)) {
                descriptor.referencedSeriesUIDs.append(uid)
            }
            let instances = DICOMPath(.referencedSeriesSequence, item: series, .referencedInstanceSequence)
            for instance in 0..<(object.itemCount(instances) ?? 0) {
                if let uid = object.string(DICOMPath(
                    .referencedSeriesSequence, item: series, .referencedInstanceSequence, item: instance,
                    .referencedSOPInstanceUID))
                {
                    descriptor.referencedInstanceUIDs.append(uid)
                }
            }
        }
        for segment in 0..<(object.itemCount(DICOMPath(.segmentSequence)) ?? 0) {
            guard let number = object.numbers(DICOMPath(.segmentSequence, item: segment, .segmentNumber))?.first
            else { continue }
            var properties: [String: String] = [:]
            properties["category"] = object.string(DICOMPath(
                .segmentSequence, item: segment, .segmentedPropertyCategoryCodeSequence, item: 0, .codeMeaning))
            properties["type"] = object.string(DICOMPath(
                .segmentSequence, item: segment, .segmentedPropertyTypeCodeSequence, item: 0, .codeMeaning))
            properties["algorithm_type"] = object.string(
                DICOMPath(.segmentSequence, item: segment, .segmentAlgorithmType))
            let value = Int(number)
            let name = object.string(DICOMPath(.segmentSequence, item: segment, .segmentLabel)) ?? "label \(value)"
            descriptor.classes.append(LabelClass(value: value, name: name, properties: properties))
        }
    }

    private static func readStructureSet(_ object: DICOMObject, into descriptor: inout LabelObjectDescriptor) {
        let frames = DICOMPath(.referencedFrameOfReferenceSequence)
        for frame in 0..<(object.itemCount(frames) ?? 0) {
            let frameStep = (sequence: DICOMTag.referencedFrameOfReferenceSequence, item: frame)
            if descriptor.frameOfReferenceUID == nil {
                descriptor.frameOfReferenceUID = object.string(DICOMPath([frameStep], .frameOfReferenceUID))
            }
            let studies = DICOMPath(.referencedFrameOfReferenceSequence, item: frame, .rtReferencedStudySequence)
            for study in 0..<(object.itemCount(studies) ?? 0) {
                let studyStep = (sequence: DICOMTag.rtReferencedStudySequence, item: study)
                let seriesPath = DICOMPath([frameStep, studyStep], .rtReferencedSeriesSequence)
                for series in 0..<(object.itemCount(seriesPath) ?? 0) {
                    let seriesStep = (sequence: DICOMTag.rtReferencedSeriesSequence, item: series)
                    if let uid = object.string(DICOMPath([frameStep, studyStep, seriesStep], .seriesInstanceUID)) {
                        descriptor.referencedSeriesUIDs.append(uid)
                    }
                    let images = DICOMPath([frameStep, studyStep, seriesStep], .contourImageSequence)
                    for image in 0..<(object.itemCount(images) ?? 0) {
                        if let uid = object.string(DICOMPath(
                            [frameStep, studyStep, seriesStep, (.contourImageSequence, image)],
                            .referencedSOPInstanceUID))
                        {
                            descriptor.referencedInstanceUIDs.append(uid)
                        }
                    }
                }
            }
        }
        var interpretedTypes: [Int: String] = [:]
        for observation in 0..<(object.itemCount(DICOMPath(.rtROIObservationsSequence)) ?? 0) {
            guard let number = object.numbers(
                DICOMPath(.rtROIObservationsSequence, item: observation, .referencedROINumber))?.first,
                let type = object.string(DICOMPath(.rtROIObservationsSequence, item: observation, .rtROIInterpretedType))
            else { continue }
            interpretedTypes[Int(number)] = type
        }
        for roi in 0..<(object.itemCount(DICOMPath(.structureSetROISequence)) ?? 0) {
            let number = object.numbers(DICOMPath(.structureSetROISequence, item: roi, .roiNumber))?.first.map { Int($0) }
            var properties: [String: String] = [:]
            if let number {
                properties["roi_number"] = String(number)
                properties["interpreted_type"] = interpretedTypes[number]
            }
            properties["generation_algorithm"] = object.string(
                DICOMPath(.structureSetROISequence, item: roi, .roiGenerationAlgorithm))
            let name = object.string(DICOMPath(.structureSetROISequence, item: roi, .roiName)) ?? "ROI \(number ?? roi + 1)"
            descriptor.classes.append(LabelClass(value: roi + 1, name: name, properties: properties))
        }
    }
}
