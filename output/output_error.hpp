#pragma once
// The error types of output/: a results file could not be written or read.
// Public and free of hdf5.h; the message names the file and the object.
#include <stdexcept>

namespace entangle {

class OutputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A results file given to be read is missing, not HDF5, damaged or not an
// entangle results file: the input is wrong (exit 2), nothing failed while working.
class NotResultsFile : public OutputError {
public:
    using OutputError::OutputError;
};

}  // namespace entangle
