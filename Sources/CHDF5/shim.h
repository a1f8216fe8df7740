// HDF5's C headers, for the CHDF5Shim target only: nothing in Swift imports this module directly.
#include <hdf5.h>
