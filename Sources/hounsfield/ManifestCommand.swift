import ArgumentParser
import Foundation
import Hounsfield

struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Merge the manifests of several writers, or verify an output folder against its shards.",
        subcommands: [Merge.self, Verify.self]
    )

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write one manifest.jsonl from every writer's manifest and from shards no manifest lists.",
            discussion: "Run it after the writers have finished. A key found in two shards is reported; the first shard by name is kept.")

        @Argument(help: "The output folder.")
        var folder: String

        @Flag(help: "Print the report as JSON.")
        var json = false

        func validate() throws { try ManifestCommand.validate(folder: folder) }

        func run() throws {
            let report = try ManifestMerge(folder: URL(fileURLWithPath: folder)).run()
            if json {
                FileHandle.standardOutput.write(try JSONEncoder.report.encode(report))
                print()
            } else {
                print("manifest.jsonl: \(report.volumes) volumes from \(report.manifests.count) manifest(s)")
                if !report.recovered.isEmpty { print("recovered from shards: \(report.recovered.count)") }
                for duplicate in report.duplicates { print("duplicate (not kept): \(duplicate)") }
                for line in report.unreadable { print("unreadable line (skipped): \(line)") }
                for missing in report.missingShards { print("shard missing (line dropped): \(missing)") }
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every manifest line against its shard: dataset, shape, dtype and the checksum of the stored voxels.",
            discussion: "Exits with status 1 when a problem is found.")

        @Argument(help: "The output folder.")
        var folder: String

        @Flag(help: "Print the report as JSON.")
        var json = false

        func validate() throws { try ManifestCommand.validate(folder: folder) }

        func run() throws {
            let progress = ProgressLine(label: "verifying volumes")
            let report = ManifestVerification(folder: URL(fileURLWithPath: folder)).run(progress: progress.update)
            progress.finish()
            if json {
                FileHandle.standardOutput.write(try JSONEncoder.report.encode(report))
                print()
            } else {
                print("\(report.passed) of \(report.checked) volumes verified")
                for problem in report.problems { print("problem: \(problem)") }
                for line in report.unreadable { print("unreadable manifest line: \(line)") }
                if !report.unlisted.isEmpty {
                    print("\(report.unlisted.count) volume(s) in shards but in no manifest; run `hounsfield manifest merge \(folder)`")
                }
            }
            if !report.isClean { throw ExitCode(1) }
        }
    }

    /// The folder must be an existing folder: the output of `hounsfield run`.
    static func validate(folder: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw ValidationError("no folder at \(folder): give the output folder of `hounsfield run` (the one holding the shards)")
        }
        guard isFolder.boolValue else {
            throw ValidationError("\(folder) is a file: give the output folder of `hounsfield run`, not one of its files")
        }
    }
}
