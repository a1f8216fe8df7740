/// Decoding with defaults: every key may be left out of the file and keeps the default the type declares.
/// (Synthesized `Decodable` would require every key.)
extension RunConfiguration {
    enum CodingKeys: String, CodingKey {
        case inputs, filters, loading, transforms, preprocessing, output, privacy, execution, labels
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        inputs = try c.decodeIfPresent([String].self, forKey: .inputs) ?? inputs
        filters = try c.decodeIfPresent(Filters.self, forKey: .filters) ?? filters
        loading = try c.decodeIfPresent(Loading.self, forKey: .loading) ?? loading
        transforms = try c.decodeIfPresent([TransformSpecification].self, forKey: .transforms)
        preprocessing = try c.decodeIfPresent(Preprocessing.self, forKey: .preprocessing) ?? preprocessing
        output = try c.decodeIfPresent(Output.self, forKey: .output) ?? output
        privacy = try c.decodeIfPresent(Privacy.self, forKey: .privacy) ?? privacy
        execution = try c.decodeIfPresent(Execution.self, forKey: .execution) ?? execution
        labels = try c.decodeIfPresent(Labels.self, forKey: .labels) ?? labels
    }
}

extension RunConfiguration.Filters {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        modality = try c.decodeIfPresent([String].self, forKey: .modality) ?? modality
        minimumSlices = try c.decodeIfPresent(Int.self, forKey: .minimumSlices) ?? minimumSlices
        seriesDescription = try c.decodeIfPresent(String.self, forKey: .seriesDescription)
        sliceThickness = try c.decodeIfPresent([Double].self, forKey: .sliceThickness)
        secondaryCaptures = try c.decodeIfPresent(Bool.self, forKey: .secondaryCaptures) ?? secondaryCaptures
        repeatedPositions = try c.decodeIfPresent(Bool.self, forKey: .repeatedPositions) ?? repeatedPositions
    }
}

extension RunConfiguration.Loading {
    enum CodingKeys: String, CodingKey { case tilt, spacing }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        tilt = try c.decodeIfPresent(TiltPolicy.self, forKey: .tilt) ?? tilt
        spacing = try c.decodeIfPresent(SpacingPolicy.self, forKey: .spacing) ?? spacing
    }
}

extension RunConfiguration.Preprocessing {
    enum CodingKeys: String, CodingKey { case window, spacing, interpolation, normalize }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        window = try c.decodeIfPresent([Double].self, forKey: .window)
        spacing = try c.decodeIfPresent([Double].self, forKey: .spacing)
        interpolation = try c.decodeIfPresent(Resample.Interpolation.self, forKey: .interpolation) ?? interpolation
        normalize = try c.decodeIfPresent(String.self, forKey: .normalize) ?? normalize
    }
}

extension RunConfiguration.Output {
    /// `output.layout` is read, never written: it stands for the `chunks` and `compression` recorded instead.
    private enum LayoutKey: String, CodingKey { case layout }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        folder = try c.decodeIfPresent(String.self, forKey: .folder)
        dtype = try c.decodeIfPresent(ShardElementType.self, forKey: .dtype) ?? dtype
        scale = try c.decodeIfPresent(Double.self, forKey: .scale) ?? scale
        // A layout sets the chunks and the codec together; `chunks` or `compression` beside it override its part.
        if let layout = try decoder.container(keyedBy: LayoutKey.self).decodeIfPresent(ShardLayout.self, forKey: .layout) {
            setLayout(layout)
        }
        compression = try c.decodeIfPresent(ShardCompression.self, forKey: .compression) ?? compression
        chunks = try c.decodeIfPresent(ChunkLayout.self, forKey: .chunks) ?? chunks
        shardSize = try c.decodeIfPresent(StorageSize.self, forKey: .shardSize) ?? shardSize
        shardVolumes = try c.decodeIfPresent(Int.self, forKey: .shardVolumes)
        previews = try c.decodeIfPresent(Bool.self, forKey: .previews) ?? previews
        nifti = try c.decodeIfPresent(Bool.self, forKey: .nifti) ?? nifti
    }
}

extension RunConfiguration.Privacy {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        salt = try c.decodeIfPresent(String.self, forKey: .salt) ?? salt
        keepIdentifiers = try c.decodeIfPresent(Bool.self, forKey: .keepIdentifiers) ?? keepIdentifiers
    }
}

extension RunConfiguration.Execution {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        jobs = try c.decodeIfPresent(Int.self, forKey: .jobs) ?? jobs
        decodeJobs = try c.decodeIfPresent(Int.self, forKey: .decodeJobs)
        transformJobs = try c.decodeIfPresent(Int.self, forKey: .transformJobs)
        memoryLimit = try c.decodeIfPresent(StorageSize.self, forKey: .memoryLimit)
        retries = try c.decodeIfPresent(Int.self, forKey: .retries) ?? retries
        resume = try c.decodeIfPresent(Bool.self, forKey: .resume) ?? resume
        shardIndex = try c.decodeIfPresent(Int.self, forKey: .shardIndex) ?? shardIndex
        shardCount = try c.decodeIfPresent(Int.self, forKey: .shardCount) ?? shardCount
        writerName = try c.decodeIfPresent(String.self, forKey: .writerName)
    }
}

import HounsfieldDICOM
import HounsfieldHDF5
import HounsfieldTransforms
