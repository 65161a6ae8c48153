#pragma once
// The one error type of output/: a results file could not be written or read.
// Public and free of hdf5.h; the message names the file and the object.
#include <stdexcept>

namespace entangle {

class OutputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace entangle
