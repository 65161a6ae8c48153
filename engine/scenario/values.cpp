// Typed values out of tree nodes: numbers, whole numbers, months, words,
// references by name, and parameters (constant, time path or distribution).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "engine/scenario/schema.hpp"

namespace entangle::loader {

// ---- ranges and display ---------------------------------------------------

bool Range::contains(double v) const {
    const bool above_lower = lower_open ? v > lower : v >= lower;
    const bool below_upper = upper_open ? v < upper : v <= upper;
    return above_lower && below_upper;
}

namespace {
// A bound as a whole number's key takes it: 1000000, not 1e6.
std::string show_bound(double value) {
    if (std::trunc(value) == value && std::fabs(value) < 1e15)
        return std::to_string(static_cast<long long>(value));
    return show_number(value);
}
}  // namespace

std::string Range::text() const {
    const bool has_lower = std::isfinite(lower), has_upper = std::isfinite(upper);
    if (has_lower && has_upper)
        return (lower_open ? "(" : "[") + show_bound(lower) + ", " + show_bound(upper) +
               (upper_open ? ")" : "]");
    if (has_lower) return (lower_open ? "> " : ">= ") + show_bound(lower);
    if (has_upper) return (upper_open ? "< " : "<= ") + show_bound(upper);
    return "any";
}

std::string Range::expectation() const {
    const bool bounded = std::isfinite(lower) && std::isfinite(upper);
    return bounded ? "a value in " + text() : "a value " + text();
}

double Range::clamp_lower() const {
    return lower_open ? std::nextafter(lower, infinity) : lower;
}
double Range::clamp_upper() const {
    return upper_open ? std::nextafter(upper, -infinity) : upper;
}

std::string show_number(double value) {
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    std::string text(buffer, result.ptr);
    // to_chars writes 5e+09; a scenario file would say 5e9.
    const auto e = text.find('e');
    if (e != std::string::npos) {
        std::string exponent = text.substr(e + 1);
        const bool negative = exponent[0] == '-';
        if (exponent[0] == '+' || negative) exponent.erase(0, 1);
        exponent.erase(0, std::min(exponent.find_first_not_of('0'), exponent.size() - 1));
        text = text.substr(0, e + 1) + (negative ? "-" : "") + exponent;
    }
    return text;
}

std::string show_param(const Param& p) {
    switch (p.kind()) {
        case Param::Kind::constant:
            return show_number(p.constant_value());
        case Param::Kind::path: {
            std::string out;
            for (const PathKnot& k : p.knots())
                out += (out.empty() ? "{" : ", ") + format_month(k.at) + ": " + show_number(k.value);
            return out + "}";
        }
        case Param::Kind::uncertain:
            return "uncertain";
    }
    return "";
}

bool is_valid_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

const std::vector<ShapeKeys>& distribution_shapes() {
    static const std::vector<ShapeKeys> shapes{
        {"normal", DistributionShape::normal, {"mean", "sd"}, "sd >= 0; mean within the key's range"},
        {"lognormal",
         DistributionShape::lognormal,
         {"median", "sigma"},
         "median > 0 and within the key's range; sigma (sd of the log) >= 0"},
        {"uniform", DistributionShape::uniform, {"min", "max"}, "min <= max, both within the key's range"},
        {"triangular",
         DistributionShape::triangular,
         {"min", "mode", "max"},
         "min <= mode <= max, min and max within the key's range"},
    };
    return shapes;
}

// ---- scalars --------------------------------------------------------------

namespace {

std::optional<double> parse_number(std::string_view s) {
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v))
        return std::nullopt;
    return v;
}

std::optional<long long> parse_whole(std::string_view s) {
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    long long v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
}

bool contains(const std::vector<std::string>& words, std::string_view word) {
    return std::find(words.begin(), words.end(), word) != words.end();
}

}  // namespace

void Where::append_path(std::string& out) const {
    if (!parent_) {
        out += root_;
        return;
    }
    parent_->append_path(out);
    if (!out.empty()) out += '.';
    out += key_;
}

std::string Where::path() const {
    std::string out;
    out.reserve(64);  // the longest paths (firms.NAME.cloud.power_online.REGION) in one allocation
    append_path(out);
    return out;
}

void Reader::error_at(const Mark& at, const Where& where, const std::string& message) {
    const std::string path = where.path();
    problems_.add(at, path.empty() ? message : path + ": " + message);
}

void Reader::check_keys(const Tree& map, const std::vector<std::string>& valid, const Where& where) {
    for (const TreeEntry& e : map.entries) {
        if (contains(valid, e.key)) continue;
        const std::string path = where.path();
        const std::string place = path.empty() ? "at the top level" : "in " + path;
        const auto near = nearest(e.key, valid);
        problems_.add(e.key_mark, "unknown key " + in_quotes(e.key) + " " + place +
                                      (near ? "; did you mean " + in_quotes(*near) + "?"
                                            : "; valid keys: " + join(valid)));
    }
}

bool Reader::in_range(double value, const Tree& at, const Where& w, const Range& range,
                      std::string_view what) {
    if (range.contains(value)) return true;
    error(at, w,
          std::string(what) + (at.is_scalar() ? at.text : show_number(value)) +
              " is out of range; expected " + range.expectation());
    return false;
}

std::optional<double> Reader::number(const Tree& t, const Where& w, const Range& range) {
    const auto v = t.is_scalar() ? parse_number(t.text) : std::nullopt;
    if (!v) {
        error(t, w, "expected a number, found " + t.describe());
        return std::nullopt;
    }
    if (!in_range(*v, t, w, range)) return std::nullopt;
    return v;
}

std::optional<long long> Reader::whole(const Tree& t, const Where& w, const Range& range, const Range& holds) {
    const auto v = t.is_scalar() ? parse_whole(t.text) : std::nullopt;
    if (!v) {
        const auto number = t.is_scalar() ? parse_number(t.text) : std::nullopt;
        const bool past_64_bits = number && std::trunc(*number) == *number &&
                                  std::fabs(*number) >= static_cast<double>(std::numeric_limits<long long>::max());
        if (past_64_bits && !holds.contains(*number))
            in_range(*number, t, w, holds);  // the key's own bound, e.g. [1, 120000]
        else if (past_64_bits)               // a key bounded only by the 64 bits themselves
            error(t, w,
                  t.text + " is out of range; expected " + holds.expectation() +
                      (*number > 0 ? " of at most " + std::to_string(std::numeric_limits<long long>::max())
                                   : " of at least " + std::to_string(std::numeric_limits<long long>::min())));
        else
            error(t, w, "expected a whole number, found " + t.describe());
        return std::nullopt;
    }
    if (!in_range(static_cast<double>(*v), t, w, range)) return std::nullopt;
    return v;
}

std::optional<bool> Reader::boolean(const Tree& t, const Where& w) {
    if (t.is_scalar() && t.text == "true") return true;
    if (t.is_scalar() && t.text == "false") return false;
    error(t, w, "expected true or false, found " + t.describe());
    return std::nullopt;
}

std::optional<Month> Reader::month(const Tree& t, const Where& w) {
    const auto m = t.is_scalar() ? parse_month(t.text) : std::nullopt;
    if (!m) error(t, w, "expected a month as YYYY-MM, found " + t.describe());
    return m;
}

std::optional<std::string> Reader::text(const Tree& t, const Where& w) {
    if (t.is_scalar()) return t.text;
    error(t, w, "expected text, found " + t.describe());
    return std::nullopt;
}

std::optional<std::string> Reader::name(const Tree& t, const Where& w) {
    if (t.is_scalar() && is_valid_name(t.text)) return t.text;
    error(t, w, "expected a name of lowercase letters, digits and '_', found " + t.describe());
    return std::nullopt;
}

namespace {
// A scalar as a message can show it: control characters escaped, a long one cut short.
std::string shown_scalar(std::string_view text) {
    static constexpr std::size_t shown = 40;
    std::string out;
    for (const char c : text.substr(0, shown)) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            out += std::string("\\x") + hex[u >> 4] + hex[u & 15];
        } else {
            out += c;
        }
    }
    if (text.size() <= shown) return in_quotes(out);
    return in_quotes(out + "...") + " (" + std::to_string(text.size()) + " characters)";
}
}  // namespace

std::optional<std::string> Reader::output_name(const Tree& t, const Where& w) {
    if (t.is_scalar() && is_valid_name(t.text) && t.text.size() <= max_output_name_length) return t.text;
    error(t, w,
          "expected a name of lowercase letters, digits and '_', at most " +
              std::to_string(max_output_name_length) + " characters (it names the results file), found " +
              (t.is_scalar() ? shown_scalar(t.text) : t.describe()));
    return std::nullopt;
}

std::optional<std::uint16_t> Reader::reference(const Tree& t, const Where& w, std::string_view kind,
                                               const std::vector<std::string>& valid) {
    if (t.is_scalar()) {
        const auto it = std::lower_bound(valid.begin(), valid.end(), t.text);
        if (it != valid.end() && *it == t.text) return static_cast<std::uint16_t>(it - valid.begin());
    }
    const std::string listing =
        valid.empty() ? "no " + std::string(kind) + "s are defined" : std::string(kind) + "s: " + join(valid);
    if (!t.is_scalar())
        error(t, w,
              "expected a " + std::string(kind) + " name, found " + t.describe() + " (" + listing + ")");
    else
        error(t, w,
              "unknown " + std::string(kind) + " " + in_quotes(t.text) + did_you_mean(t.text, valid) + " (" +
                  listing + ")");
    return std::nullopt;
}

std::optional<std::vector<std::uint16_t>> Reader::references(const Tree& t, const Where& w,
                                                             std::string_view kind,
                                                             const std::vector<std::string>& valid) {
    if (!t.is_list()) {
        error(t, w, "expected a list of " + std::string(kind) + "s, found " + t.describe());
        return std::nullopt;
    }
    std::vector<std::uint16_t> ids;
    bool ok = true;
    for (const Tree& item : t.items) {
        const auto id = reference(item, w, kind, valid);
        const bool repeated = id && std::find(ids.begin(), ids.end(), *id) != ids.end();
        if (repeated)
            error(item, w, std::string(kind) + " " + in_quotes(item.text) + " is listed twice");
        else if (id)
            ids.push_back(*id);
        ok = ok && id && !repeated;
    }
    if (!ok) return std::nullopt;
    return ids;
}

const std::set<std::string>& Reader::param_paths() {
    for (; spelt_out_ < noted_params_.size(); ++spelt_out_) {
        const NotedParams& n = noted_params_[spelt_out_];
        if (n.add_keys)
            n.add_keys(n.schema, n.path, param_paths_);
        else
            param_paths_.insert(n.path);
    }
    return param_paths_;
}

bool Reader::unique_id(std::string_view kind, const Tree& id, const Where& w) {
    const auto [it, inserted] = ids_[kind].emplace(id.text, &id.mark);
    if (inserted) return true;
    const Mark& first = *it->second;
    error(id, w,
          "duplicate " + std::string(kind) + " id " + in_quotes(id.text) + " (first given at " + first.file + ":" +
              std::to_string(first.line) + ":" + std::to_string(first.column) + ")");
    return false;
}

// ---- parameters -----------------------------------------------------------

std::optional<Param> Reader::param(const Tree& t, const Where& w, const Range& range) {
    static const std::string expected = "expected a number, a time path or a distribution, found ";
    if (t.is_map() && t.find("dist")) {
        const auto d = distribution(t, w, range);
        if (!d) return std::nullopt;
        uncertain_.push_back(UncertainParam{w.path(), std::string(w.owner()), *d});
        return Param::uncertain(static_cast<std::uint32_t>(uncertain_.size() - 1));
    }
    if (t.is_map() && !t.entries.empty()) return path(t, w, range);
    const auto v = t.is_scalar() ? parse_number(t.text) : std::nullopt;
    if (!v) {
        error(t, w, expected + t.describe());
        return std::nullopt;
    }
    if (!in_range(*v, t, w, range)) return std::nullopt;
    return Param::constant(*v);
}

std::optional<Param> Reader::path(const Tree& t, const Where& w, const Range& range) {
    // Keys that start with a digit are meant as months, even misspelt ones.
    const bool meant_as_path = std::any_of(t.entries.begin(), t.entries.end(), [](const TreeEntry& e) {
        return !e.key.empty() && e.key[0] >= '0' && e.key[0] <= '9';
    });
    if (!meant_as_path) {
        // Most likely a distribution whose `dist:` was forgotten.
        error(t, w,
              "expected a number, a time path {YYYY-MM: value, ...} or a distribution {dist: ..., ...}, "
              "found a map with keys " +
                  join(t.keys()) + " (a distribution needs 'dist:')");
        return std::nullopt;
    }
    std::vector<PathKnot> knots;
    knots.reserve(t.entries.size());
    bool ok = true;
    for (const TreeEntry& e : t.entries) {
        const auto at = parse_month(e.key);
        if (!at) {
            error_at(e.key_mark, w, "expected a month as YYYY-MM, found " + in_quotes(e.key));
            ok = false;
            continue;
        }
        const auto value = number(e.value, w / e.key, range);
        if (value) knots.push_back(PathKnot{*at, *value});
        ok = ok && value;
    }
    const auto earlier = [](const PathKnot& a, const PathKnot& b) { return a.at < b.at; };
    if (!std::is_sorted(knots.begin(), knots.end(), earlier))  // as usually written: no sort (and its buffer)
        std::stable_sort(knots.begin(), knots.end(), earlier);
    const auto duplicate = std::adjacent_find(
        knots.begin(), knots.end(), [](const PathKnot& a, const PathKnot& b) { return a.at == b.at; });
    if (duplicate != knots.end()) {
        error(t, w, "month " + format_month(duplicate->at) + " is given twice in the time path");
        ok = false;
    }
    if (!ok) return std::nullopt;
    return Param::path(std::move(knots));
}

namespace {

std::vector<std::string> shape_names() {
    std::vector<std::string> names;
    for (const ShapeKeys& s : distribution_shapes()) names.push_back(s.dist);
    return names;
}

// The shape named by `dist:`; nullptr after reporting a missing or unknown one.
const ShapeKeys* shape_of(const Tree& t, const Where& w, Reader& r) {
    const std::vector<std::string> names = shape_names();
    if (!t.is_map() || !t.find("dist")) {
        r.error(t, w,
                "expected a distribution {dist: " + join(names, " | ") + ", ...}, found " + t.describe());
        return nullptr;
    }
    const Tree& dist = *t.find("dist");
    for (const ShapeKeys& s : distribution_shapes())
        if (dist.is_scalar() && dist.text == s.dist) return &s;
    r.error(dist, w / "dist",
            "expected one of " + join(names, " | ") + ", found " + dist.describe() +
                (dist.is_scalar() ? did_you_mean(dist.text, names) : ""));
    return nullptr;
}

// The numbers of a shape's keys, in the order of Distribution's a, b, c, with their nodes.
struct ShapeValues {
    double value[3] = {0, 0, 0};
    const Tree* node[3] = {nullptr, nullptr, nullptr};
};

std::optional<ShapeValues> shape_values(const Tree& t, const Where& w, const ShapeKeys& shape, Reader& r) {
    std::vector<std::string> valid{"dist"};
    valid.insert(valid.end(), shape.keys.begin(), shape.keys.end());
    r.check_keys(t, valid, w);
    ShapeValues out;
    bool ok = true;
    for (std::size_t i = 0; i < shape.keys.size(); ++i) {
        out.node[i] = t.find(shape.keys[i]);
        if (!out.node[i])
            r.error(t, w, "a " + shape.dist + " distribution needs " + in_quotes(shape.keys[i]));
        const auto v = out.node[i] ? r.number(*out.node[i], w / shape.keys[i], any_value) : std::nullopt;
        if (v) out.value[i] = *v;
        ok = ok && v;
    }
    if (!ok) return std::nullopt;
    return out;
}

}  // namespace

std::optional<Distribution> Reader::distribution(const Tree& t, const Where& w, const Range& range) {
    const ShapeKeys* shape = shape_of(t, w, *this);
    if (!shape) return std::nullopt;
    const auto given = shape_values(t, w, *shape, *this);
    if (!given) return std::nullopt;
    const Distribution d{shape->shape,    given->value[0],     given->value[1],
                         given->value[2], range.clamp_lower(), range.clamp_upper()};
    const ShapeValues& v = *given;
    bool ok = true;
    const auto need = [&](bool condition, const Tree& at, const std::string& message) {
        if (!condition) error(at, w, "a " + shape->dist + " distribution needs " + message);
        ok = ok && condition;
    };
    // Bounds of the support must lie in the key's range (draws are clamped into it anyway).
    const auto within = [&](int i) {
        ok = in_range(v.value[i], *v.node[i], w, range, shape->keys[i] + " ") && ok;
    };
    switch (d.shape) {
        case DistributionShape::normal:
            need(d.b >= 0, *v.node[1], "sd >= 0, found " + v.node[1]->text);
            within(0);
            break;
        case DistributionShape::lognormal:
            need(d.a > 0, *v.node[0], "median > 0, found " + v.node[0]->text);
            need(d.b >= 0, *v.node[1], "sigma >= 0, found " + v.node[1]->text);
            if (d.a > 0) within(0);
            break;
        case DistributionShape::uniform:
            need(d.a <= d.b, t, "min <= max, found min " + v.node[0]->text + " and max " + v.node[1]->text);
            within(0), within(1);
            break;
        case DistributionShape::triangular:
            need(d.a <= d.b && d.b <= d.c, t,
                 "min <= mode <= max, found min " + v.node[0]->text + ", mode " + v.node[1]->text + ", max " +
                     v.node[2]->text);
            within(0), within(2);
            break;
    }
    if (!ok) return std::nullopt;
    return d;
}

}  // namespace entangle::loader
