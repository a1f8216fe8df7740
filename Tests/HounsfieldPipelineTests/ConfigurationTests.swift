import Foundation
import Hounsfield
import HounsfieldPipeline
import Testing

@Suite("Configuration files: JSON and YAML, unknown keys and invalid values named by path")
struct ConfigurationTests {
    @Test("configuration errors name the key at fault", arguments: [
        (#"{"output": {"compresion": "gzip:1"}}"#, "output.compresion"),
        (#"{"preprocessing": {"normalize": "maxmin"}}"#, "preprocessing.normalize"),
        (#"{"output": {"compression": "brotli"}}"#, "output.compression"),
        (#"{"output": {"layout": "fast"}}"#, "output.layout"),
        (#"{"output": {"layouts": "training"}}"#, "output.layouts"),
        (#"{"output": {"compression": "blosc:lz4:12"}}"#, "output.compression"),
        (#"{"execution": {"jobs": 0}}"#, "execution.jobs"),
        (#"{"execution": {"decode_jobs": 0}}"#, "execution.decode_jobs"),
        (#"{"output": {"dtype": "float64"}}"#, "output.dtype"),
        (#"{"filters": {"slice_thickness": [5, 1]}}"#, "filters.slice_thickness"),
        (#"{"filters": {"secondary_capture": true}}"#, "filters.secondary_capture"),
        (#"{"filters": {"repeated_positions": "yes"}}"#, "filters.repeated_positions"),
        (#"{"filters": {"minimum_slices": 0}}"#, "filters.minimum_slices"),
        (#"{"transforms": [{"type": "window", "minimum": -1000, "maximum": 1000, "output": "unit", "clamp": true}]}"#,
         "transforms[0].clamp"),
        (#"{"transforms": [{"type": "window", "minimum": -1000, "maximum": 1000, "output": "percent"}]}"#,
         "transforms[0].output"),
        (#"{"transforms": [{"type": "resample", "interpolation": "linear"}]}"#, "transforms[0].target"),
        (#"{"output": {"shard_size": "0"}}"#, "output.shard_size"),
        (#"{"execution": {"worker": "a1"}}"#, "execution.worker"),
        (#"{"execution": {"writer_name": "a-1"}}"#, "execution.writer_name"),
        (#"{"output": {"shard_size": "20000000TB"}}"#, "output.shard_size"),
        (#"{"output": {"nifti": true, "dtype": "float16"}}"#, "output.nifti"),
        (#"{"output": {"nifti": true, "dtype": "uint8", "scale": 255}}"#, "output.nifti"),
        (#"{"output": {"dtype": "uint16"}}"#, "output.dtype"),
        (#"{"transforms": [{"type": "compose", "steps": [{"type": "orient", "code": "LPS", "flip": true}]}]}"#,
         "transforms[0].steps[0].flip"),
    ])
    func configurationErrors(_ json: String, _ path: String) throws {
        do {
            let configuration = try ConfigurationFile.parse(Data(json.utf8))
            try configuration.validate()
            Issue.record("accepted: \(json)")
        } catch {
            #expect(error.description.contains(path), "\(error)")
        }
    }

    @Test("output.layout sets chunks and compression together; chunks or compression beside it override its part")
    func layoutKey() throws {
        let training = try ConfigurationFile.parse(Data(#"{"output": {"layout": "training"}}"#.utf8))
        #expect(training.output.chunks == .cubes(edge: 32) && training.output.compression == .blosc(.lz4, level: 9))
        #expect(training.output.layout == .training)
        let archive = try ConfigurationFile.parse(Data(#"{"output": {"layout": "archive"}}"#.utf8))
        #expect(archive.output.layout == .archive && archive.output == RunConfiguration.Output())
        let mixed = try ConfigurationFile.parse(Data(#"{"output": {"compression": "blosc:lz4hc:9", "layout": "training"}}"#.utf8))
        #expect(mixed.output.chunks == .cubes(edge: 32) && mixed.output.compression == .blosc(.lz4hc, level: 9))
        #expect(mixed.output.layout == nil)
        let yaml = try ConfigurationFile.parse(Data("output:\n  layout: training\n".utf8), file: "c.yaml")
        #expect(yaml.output.layout == .training)
    }

    /// People write only what differs from the defaults: each step's optional fields take its initializer's values.
    @Test("transform steps written with their required fields only take the initializers' defaults")
    func transformDefaults() throws {
        let json = #"""
        {"transforms": [
          {"type": "crop-to-foreground"},
          {"type": "orient", "code": "ras"},
          {"type": "window", "minimum": -1000, "maximum": 1000},
          {"type": "resample", "target": {"spacing": [1, 1, 1]}},
          {"type": "nnunet-resample", "spacing": [0.8, 0.8, 1]},
          {"type": "crop-or-pad", "size": [64, 64, 32]}
        ]}
        """#
        let configuration = try ConfigurationFile.parse(Data(json.utf8))
        try configuration.validate()
        let expected: [TransformSpecification] = [
            .cropToForeground(CropToForeground()),
            .orient(Orient("RAS")),
            .window(Window(minimum: -1000, maximum: 1000)),
            .resample(Resample(to: .spacing(1, 1, 1))),
            .nnUNetResample(NNUNetResample(spacing: [0.8, 0.8, 1])),
            .cropOrPad(CropOrPad(size: GridSize(x: 64, y: 64, z: 32))),
        ]
        #expect(try configuration.transformChain() == expected)
    }

    /// YAML is what people write by hand; it must mean exactly what the same JSON means (same processing key).
    @Test("a YAML file gives the same configuration as the same JSON")
    func yamlEqualsJSON() throws {
        let json = #"""
        {"filters": {"modality": ["CT"], "minimum_slices": 20, "secondary_captures": true, "repeated_positions": false},
         "preprocessing": {"window": [-1000, 1000], "spacing": [1, 1, 1.5], "interpolation": "linear", "normalize": "minmax"},
         "output": {"dtype": "float16", "compression": "zstd:3", "shard_size": "1GiB"},
         "privacy": {"salt": "s"}, "execution": {"jobs": 2, "decode_jobs": 3}}
        """#
        let yaml = """
        # a typical job
        filters:
          modality: [CT]
          minimum_slices: 20
          secondary_captures: true
          repeated_positions: false
        preprocessing:
          window: [-1000, 1000]
          spacing: [1, 1, 1.5]
          interpolation: linear
          normalize: minmax
        output:
          dtype: float16
          compression: "zstd:3"
          shard_size: 1GiB
        privacy:
          salt: s
        execution:
          jobs: 2
          decode_jobs: 3
        """
        let fromJSON = try ConfigurationFile.parse(Data(json.utf8), file: "job.json")
        let fromYAML = try ConfigurationFile.parse(Data(yaml.utf8), file: "job.yaml")
        #expect(fromYAML == fromJSON)
        #expect(fromYAML.key == fromJSON.key)
        #expect(fromYAML.execution.decodeJobs == 3)
        #expect(fromYAML.filters.secondaryCaptures && !fromYAML.filters.repeatedPositions)
    }

    /// The filters added later select, when set to true, what runs selected before they existed: with them and the
    /// earlier `minimum_slices` default, the processing (and so the key) is the one earlier runs recorded, so their
    /// folders can be resumed.
    @Test("the earlier filters' behaviour keeps the earlier configuration key")
    func earlierFiltersKeepTheirKey() throws {
        func filters(_ configuration: RunConfiguration) throws -> [String: Any] {
            let processing = try JSONSerialization.jsonObject(with: configuration.processingJSON) as! [String: Any]
            return processing["filters"] as! [String: Any]
        }
        var earlier = RunConfiguration()
        earlier.filters.minimumSlices = 1
        earlier.filters.secondaryCaptures = true
        earlier.filters.repeatedPositions = true
        let recorded = try filters(earlier)
        #expect(recorded.keys.sorted() == ["minimum_slices", "modality"])
        #expect(recorded["minimum_slices"] as? Int == 1 && recorded["modality"] as? [String] == ["CT"])

        let now = try filters(RunConfiguration())
        #expect(now["secondary_captures"] as? Bool == false && now["repeated_positions"] as? Bool == false)
        #expect(now["minimum_slices"] as? Int == 2)
        #expect(RunConfiguration().key != earlier.key)
        // The configuration file written into a folder keeps every key, so reading it back changes nothing.
        let reread = try ConfigurationFile.parse(earlier.recordedJSON)
        #expect(reread.filters == earlier.filters && reread.key == earlier.key)
    }

    @Test("YAML errors name the file, and unknown keys in YAML are refused like in JSON", arguments: [
        ("output:\n  compresion: gzip:1\n", "output.compresion"),
        ("output: [unclosed\n", "job.yaml"),
        ("- a list\n", "job.yaml"),
    ])
    func yamlErrors(_ yaml: String, _ mention: String) {
        #expect {
            try ConfigurationFile.parse(Data(yaml.utf8), file: "job.yaml")
        } throws: { error in
            "\(error)".contains(mention)
        }
    }
}

extension ConfigurationTests {
    /// The example configurations people copy must stay valid as the schema changes.
    @Test("every configuration in Examples/configurations parses and validates")
    func examplesAreValid() throws {
        let folder = PipelineTestSupport.packageRoot.appendingPathComponent("Examples/configurations")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
            $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json")
        }
        #expect(!names.isEmpty)
        for name in names {
            let configuration = try ConfigurationFile.load(folder.appendingPathComponent(name).path)
            try configuration.validate()
            #expect(try !configuration.transformChain().isEmpty, "\(name)")
        }
    }

    @Test("every key of the documented configuration is read, execution.writer_name included")
    func documentedKeys() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hf-config-\(UUID().uuidString.prefix(8)).json")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(#"""
            {"inputs": ["/data"], "filters": {"modality": ["CT"], "minimum_slices": 2, "secondary_captures": false,
             "repeated_positions": false}, "loading": {"tilt": "correct", "spacing": "resample"},
             "preprocessing": {"window": [-1000, 1000], "spacing": [1, 1, 1], "interpolation": "linear", "normalize": "minmax"},
             "output": {"folder": "/out", "dtype": "float32", "scale": 1, "compression": "zstd:3", "chunks": "cubes:64",
                        "shard_size": "512MiB", "shard_volumes": 8, "previews": false},
             "privacy": {"salt": "s", "keep_identifiers": false},
             "execution": {"jobs": 2, "decode_jobs": 3, "transform_jobs": 1, "memory_limit": "8GB", "retries": 2,
                           "resume": false, "shard_index": 0, "shard_count": 1, "writer_name": "node7"}}
            """#.utf8).write(to: folder)
        let configuration = try ConfigurationFile.load(folder.path)
        #expect(configuration.execution.writerName == "node7")
        #expect(configuration.output.compression == .zstd(level: 3) && configuration.output.chunks == .cubes(edge: 64))
        #expect(configuration.output.shardSize.bytes == 512 << 20 && configuration.execution.memoryLimit?.bytes == 8_000_000_000)
    }
}
