import HounsfieldCore

/// Several windows of one volume stacked as channels `(C, z, y, x)`, for 2.5-D models that see brain, subdural
/// and bone windows at once. All channels share the volume's geometry.
public struct ChannelStack: Sendable, Hashable {
    /// One volume per window, in the order the windows were given; never empty.
    public var channels: [Volume<Float32>]

    /// The geometry every channel shares.
    public var geometry: Geometry { channels[0].geometry }
    /// The size every channel shares.
    public var size: GridSize { channels[0].size }

    /// Voxels in C order `[c][z][y][x]`, as a training framework expects.
    public var voxels: [Float32] { channels.flatMap(\.voxels) }
}

extension Window {
    /// Applies each window to the same volume and stacks the results as channels.
    public static func stack(_ windows: [Window], on volume: Volume<Float32>) throws(TransformError) -> ChannelStack {
        guard !windows.isEmpty else {
            throw .invalidParameter(name: "windows", value: "none", expected: "at least one window")
        }
        var channels: [Volume<Float32>] = []
        for window in windows { channels.append(try window.apply(to: volume)) }
        return ChannelStack(channels: channels)
    }
}
