// TurboJPEG's 2.1 API, for QC preview encoding in HounsfieldHDF5 (8-bit grayscale JPEG).
#include <turbojpeg.h>
