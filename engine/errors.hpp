#pragma once
#include <stdexcept>
#include <string>

namespace entangle {

// A scenario the loader accepted but the engine cannot run as given (exit code 2).
class ModelInputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// An accounting invariant broke (MODEL.md 10): the run stops (exit code 1).
class InvariantViolation : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace entangle
