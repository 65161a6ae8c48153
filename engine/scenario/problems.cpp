#include "engine/scenario/problems.hpp"

#include <algorithm>
#include <cctype>
#include <tuple>

namespace entangle::loader {

void Problems::add(const Mark& at, std::string message) {
    problems_.push_back(InputProblem{at.file, at.line, at.column, std::move(message)});
}

void Problems::throw_if_any() const {
    if (problems_.empty()) return;
    std::vector<InputProblem> sorted = problems_;
    const auto position = [](const InputProblem& p) { return std::tie(p.file, p.line, p.column); };
    std::stable_sort(sorted.begin(), sorted.end(),
                     [&](const InputProblem& a, const InputProblem& b) { return position(a) < position(b); });
    // The same node can be reached twice (a base file and its extension); say it once.
    const auto same = [&](const InputProblem& a, const InputProblem& b) {
        return position(a) == position(b) && a.message == b.message;
    };
    sorted.erase(std::unique(sorted.begin(), sorted.end(), same), sorted.end());
    throw InputError(std::move(sorted));
}

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Optimal string alignment distance: insertions, deletions, substitutions and
// transpositions of neighbours (the usual typing slips) each cost one.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    const std::size_t n = a.size(), m = b.size();
    std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
    for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= n; ++i)
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[n][m];
}

}  // namespace

std::optional<std::string> nearest(std::string_view word, std::span<const std::string> candidates) {
    const std::string w = lower(word);
    // A third of the word may be wrong, at least two characters, but never all of it.
    const std::size_t tolerance = std::max<std::size_t>(2, w.size() / 3);
    std::optional<std::string> best;
    std::size_t best_distance = tolerance + 1;
    for (const std::string& c : candidates) {
        const std::size_t d = edit_distance(w, lower(c));
        if (d < best_distance && d < std::max(w.size(), c.size())) best = c, best_distance = d;
    }
    return best;
}

std::string did_you_mean(std::string_view word, std::span<const std::string> candidates) {
    const auto near = nearest(word, candidates);
    return near ? "; did you mean " + in_quotes(*near) + "?" : "";
}

std::string join(std::span<const std::string> words, std::string_view separator) {
    std::string out;
    for (const std::string& w : words) {
        if (!out.empty()) out += separator;
        out += w;
    }
    return out;
}

std::string in_quotes(std::string_view word) {
    return "'" + std::string(word) + "'";
}

}  // namespace entangle::loader

namespace entangle {

std::string InputProblem::format() const {
    if (line <= 0) return file + ": " + message;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

namespace {
std::string summary(const std::vector<InputProblem>& problems) {
    std::string text;
    for (const InputProblem& p : problems) {
        if (!text.empty()) text += '\n';
        text += p.format();
    }
    return text;
}
}  // namespace

InputError::InputError(std::vector<InputProblem> problems)
    : std::runtime_error(summary(problems)), problems_(std::move(problems)) {}

}  // namespace entangle
