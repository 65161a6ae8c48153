#pragma once
// Collecting input problems: every problem found is kept, located and
// reported at once (STYLE habit 2), and a misspelt word gets the nearest
// valid one as a suggestion.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/scenario/loader.hpp"

namespace entangle::loader {

// Where a node of an input came from; line and column are 1-based (0 = unknown).
struct Mark {
    std::string file;
    int line = 0;
    int column = 0;
};

class Problems {
public:
    void add(const Mark& at, std::string message);
    bool empty() const { return problems_.empty(); }
    // Throws InputError with every problem, sorted by file, line and column.
    void throw_if_any() const;

private:
    std::vector<InputProblem> problems_;
};

// The candidate nearest to `word` by edit distance, when near enough to be a likely misspelling.
std::optional<std::string> nearest(std::string_view word, std::span<const std::string> candidates);
// "; did you mean 'x'?" or "".
std::string did_you_mean(std::string_view word, std::span<const std::string> candidates);
std::string join(std::span<const std::string> words, std::string_view separator = ", ");
std::string in_quotes(std::string_view word);  // 'word'

}  // namespace entangle::loader
