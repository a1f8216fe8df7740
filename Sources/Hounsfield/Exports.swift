// The umbrella module: `import Hounsfield` gives the whole public API.
@_exported import HounsfieldCore
@_exported import HounsfieldDICOM
@_exported import HounsfieldSynthesis
@_exported import HounsfieldTransforms
@_exported import HounsfieldHDF5
@_exported import HounsfieldPipeline
@_exported import HounsfieldNIfTI
