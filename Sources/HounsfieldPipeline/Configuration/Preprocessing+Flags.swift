import HounsfieldTransforms

extension RunConfiguration.Preprocessing {
    /// Sets `window` from `LEVEL,WIDTH` as people write it on a command line (`40,400` is [-160, 240] HU).
    ///
    /// `hounsfield run --window` and any service that takes the same text call this, so a window given both ways
    /// gives the same configuration key (the per-study result then equals the batch run's, byte for byte).
    public mutating func setWindow(levelAndWidth text: String) throws(ConfigurationError) {
        let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == 2, let level = values[0], let width = values[1], width > 0, level.isFinite, width.isFinite else {
            throw .invalid(path: "--window", reason: "'\(text)' is not LEVEL,WIDTH with a positive width, e.g. 40,400")
        }
        window = [level - width / 2, level + width / 2]
    }

    /// Sets `window` from a named preset (`abdomen`, `lung`, …; see `Window.Preset`).
    public mutating func setWindow(_ preset: Window.Preset) {
        let named = Window(preset)
        window = [named.minimum, named.maximum]
    }

    /// Sets `spacing` from `X` (all three axes) or `X,Y,Z`, in mm.
    public mutating func setSpacing(_ text: String) throws(ConfigurationError) {
        let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == 1 || values.count == 3, values.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0).isFinite }) else {
            throw .invalid(path: "--spacing", reason: "'\(text)' is not X or X,Y,Z in mm (positive numbers)")
        }
        spacing = values.compactMap { $0 }
    }
}

extension RunConfiguration {
    /// Refuses `preprocessing` settings given on a command line (`flags`, named as the user wrote them, e.g.
    /// `["--spacing"]`) when the chain is spelled out as `transforms`: the chain would ignore them, and the run
    /// would silently do something other than what was asked. A recorded `configuration.json` always has
    /// `transforms`.
    public func requireShortcutsApply(_ flags: [String]) throws(ConfigurationError) {
        guard transforms != nil, let flag = flags.first else { return }
        throw .invalid(path: "transforms", reason: "\(flag) sets `preprocessing`, which this configuration does not use: it spells out its chain as `transforms` (as a recorded configuration.json does). To change the chain, copy the transforms (of a configuration.json, its `configuration` section) into a file of your own and edit them there")
    }
}
