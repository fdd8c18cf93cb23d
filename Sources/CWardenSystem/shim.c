// The header holds inline wrappers only; SwiftPM needs one source file in a C target.
#include "CWardenSystem.h"
