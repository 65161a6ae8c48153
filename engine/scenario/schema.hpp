#pragma once
// The schema: every scenario key is declared once, with its type, unit,
// default, valid range and a one-line doc (STYLE habit 3). The declaration
// parses and validates the key (Field::read) and documents it (reference.cpp);
// the default it shows is read from a default-constructed spec struct, so
// neither the parser nor docs/scenarios.md can drift from engine/scenario.hpp.
#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/scenario.hpp"
#include "engine/scenario/tree.hpp"

namespace entangle::loader {

inline constexpr double infinity = std::numeric_limits<double>::infinity();

struct Range {
    double lower = -infinity;
    double upper = infinity;
    bool lower_open = false;
    bool upper_open = false;

    bool contains(double v) const;
    std::string text() const;         // "[0, 1]", "(0, 1]", ">= 0", "> 0" or "any"
    std::string expectation() const;  // "a value in [0, 1]", "a value >= 0"
    // Distribution draws are clamped to these: a closed bound, or just inside an open one.
    double clamp_lower() const;
    double clamp_upper() const;
};
inline constexpr Range any_value{};
inline constexpr Range non_negative{0, infinity};
inline constexpr Range positive{0, infinity, true};
inline constexpr Range unit_interval{0, 1};
inline constexpr Range positive_share{0, 1, true};  // (0, 1]
constexpr Range at_least(double x) {
    return Range{x, infinity};
}

// The words of an enumerated key and the values they stand for.
template <class E>
using Words = std::vector<std::pair<std::string, E>>;

template <class E>
std::vector<std::string> words_of(const Words<E>& words) {
    std::vector<std::string> out;
    for (const auto& [word, value] : words) out.push_back(word);
    return out;
}

template <class E>
std::string word_of(const Words<E>& words, E value) {
    for (const auto& [word, v] : words)
        if (v == value) return word;
    return "?";
}

// Where a value sits: its dotted key path (for messages and uncertain draws)
// and the owner whose random stream draws it. A Where made by `/` is a link
// to its parent and one key; the path is spelt out only when asked for (a
// problem, an uncertain value), so reading a valid file builds no path
// strings. Such a Where therefore must not outlive the Where it was made from
// nor the text of its key and owner (tree keys, schema keys and literals all
// outlive a build; `/` refuses a temporary string).
class Where {
public:
    Where() = default;
    // A Where with the whole path given, e.g. "parameters.market.lab_power".
    explicit Where(std::string path, std::string_view owner = {}) : root_(std::move(path)), owner_(owner) {}

    Where operator/(std::string_view key) const { return Where(this, key, owner_); }
    Where operator/(const char* key) const { return Where(this, key, owner_); }
    Where operator/(std::string&& key) const = delete;
    Where owned_by(std::string_view new_owner) const {
        Where w = *this;
        w.owner_ = new_owner;
        return w;
    }
    Where owned_by(const char* new_owner) const { return owned_by(std::string_view(new_owner)); }
    Where owned_by(std::string&& new_owner) const = delete;

    std::string path() const;
    std::string_view owner() const { return owner_; }

private:
    void append_path(std::string& out) const;
    Where(const Where* parent, std::string_view key, std::string_view owner)
        : parent_(parent), key_(key), owner_(owner) {}

    const Where* parent_ = nullptr;  // null: the path is root_
    std::string_view key_;
    std::string root_;
    std::string_view owner_;
};

// The names references resolve against, gathered before any section is read.
struct Names {
    std::vector<std::string> firms, chips, regions;  // sorted, so that index = id
    std::vector<std::string> chipmakers;             // firms with a chipmaker role
    std::map<std::string, std::string> chip_vendor;  // chip -> vendor as written
    std::vector<std::string> contracts;              // ids in `contracts` and in events' contracts
};

std::string show_number(double value);      // 5e9 -> "5e9", 0.3 -> "0.3"
bool is_valid_name(std::string_view name);  // [a-z0-9_]+
// Names that name a results file (results/NAME.h5): a scenario's, a sweep's.
inline constexpr std::size_t max_output_name_length = 100;

template <class Spec>
struct Field;

// Reads typed values out of tree nodes. Each reader reports a problem (with
// the node's location and key path) and returns nullopt when the value will
// not do, so that reading carries on and every problem is found.
class Reader {
public:
    Reader(Problems& problems, Names names) : problems_(problems), names_(std::move(names)) {}

    void error(const Tree& at, const Where& where, const std::string& message) {
        error_at(at.mark, where, message);
    }
    void error_at(const Mark& at, const Where& where, const std::string& message);
    // Reports every key of `map` not in `valid`, suggesting the nearest valid one.
    void check_keys(const Tree& map, const std::vector<std::string>& valid, const Where& where);

    std::optional<double> number(const Tree& t, const Where& w, const Range& range);
    std::optional<long long> whole(const Tree& t, const Where& w, const Range& range) {
        return whole(t, w, range, range);
    }
    // As above; a whole number past 64 bits is reported with `holds`, the range the key's
    // type holds (whole_fitting), rather than with `range`.
    std::optional<long long> whole(const Tree& t, const Where& w, const Range& range, const Range& holds);
    // Reports `value` (written at `at`) unless `range` contains it.
    bool in_range(double value, const Tree& at, const Where& w, const Range& range,
                  std::string_view what = "");
    std::optional<bool> boolean(const Tree& t, const Where& w);
    std::optional<Month> month(const Tree& t, const Where& w);
    std::optional<std::string> text(const Tree& t, const Where& w);
    std::optional<std::string> name(const Tree& t, const Where& w);  // an id: [a-z0-9_]+
    // A scenario's or sweep's name, the default results file's name: [a-z0-9_]+, at most
    // max_output_name_length characters, so that it can name no other place than results/NAME.h5.
    std::optional<std::string> output_name(const Tree& t, const Where& w);
    // A constant, a time path or a distribution (registered in uncertain()).
    std::optional<Param> param(const Tree& t, const Where& w, const Range& range);
    // A distribution whose draws are clamped to `range`.
    std::optional<Distribution> distribution(const Tree& t, const Where& w, const Range& range);
    template <class E>
    std::optional<E> choice(const Tree& t, const Where& w, const Words<E>& words);

    std::optional<FirmId> firm(const Tree& t, const Where& w) {
        return reference(t, w, "firm", names_.firms);
    }
    std::optional<ChipId> chip(const Tree& t, const Where& w) {
        return reference(t, w, "chip", names_.chips);
    }
    std::optional<RegionId> region(const Tree& t, const Where& w) {
        return reference(t, w, "region", names_.regions);
    }
    std::optional<std::uint16_t> reference(const Tree& t, const Where& w, std::string_view kind,
                                           const std::vector<std::string>& valid);
    // A list of distinct references, e.g. [openai, anthropic].
    std::optional<std::vector<std::uint16_t>> references(const Tree& t, const Where& w, std::string_view kind,
                                                         const std::vector<std::string>& valid);
    std::optional<std::vector<FirmId>> firms(const Tree& t, const Where& w) {
        return references(t, w, "firm", names_.firms);
    }

    const Names& names() const { return names_; }
    std::vector<UncertainParam>& uncertain() { return uncertain_; }
    // Every parameter key path of the scenario, written or defaulted: what set/scale/shock events may target.
    // Noted as read (one parameter, or every parameter key of a spec's schema) and spelt out on first
    // use: only a file with set, scale or shock events needs them.
    void note_param_path(const Where& w) { noted_params_.push_back(NotedParams{w.path(), nullptr, nullptr}); }
    template <class Spec>
    void note_param_fields(const Where& w, const std::vector<Field<Spec>>& schema);
    const std::set<std::string>& param_paths();
    // Records the id written at `id` for a kind of thing (contract, event); reports a duplicate
    // and returns false.
    bool unique_id(std::string_view kind, const Tree& id, const Where& w);

private:
    std::optional<Param> path(const Tree& t, const Where& w, const Range& range);

    Problems& problems_;
    Names names_;
    std::vector<UncertainParam> uncertain_;
    // A spec's path and the schema whose parameter keys extend it, or (add_keys null) one parameter's path.
    struct NotedParams {
        std::string path;
        const void* schema;
        void (*add_keys)(const void* schema, const std::string& path, std::set<std::string>& paths);
    };
    std::vector<NotedParams> noted_params_;
    std::size_t spelt_out_ = 0;  // noted_params_ already in param_paths_
    std::set<std::string> param_paths_;
    // kind -> id -> where first given; the ids' text and marks are the tree's, which outlives the Reader.
    std::map<std::string_view, std::map<std::string_view, const Mark*>> ids_;
};

// The shapes of an uncertain value and their keys, in the order of Distribution's a, b, c.
struct ShapeKeys {
    std::string dist;
    DistributionShape shape;
    std::vector<std::string> keys;
    std::string condition;  // what the keys must satisfy, for the reference
};
const std::vector<ShapeKeys>& distribution_shapes();

template <class E>
std::optional<E> Reader::choice(const Tree& t, const Where& w, const Words<E>& words) {
    if (t.is_scalar())
        for (const auto& [word, value] : words)
            if (t.text == word) return value;
    const std::vector<std::string> valid = words_of(words);
    error(t, w,
          "expected one of " + join(valid, " | ") + ", found " + t.describe() +
              (t.is_scalar() ? did_you_mean(t.text, valid) : ""));
    return std::nullopt;
}

// One key of a section.
template <class Spec>
struct Field {
    std::string key;
    std::string type;  // as the reference shows it: param, integer, true/false, YYYY-MM, a | b, ...
    std::string unit;
    std::string range;  // as the reference shows it
    std::string doc;
    bool required = false;
    std::function<void(Spec&, const Tree&, const Where&, Reader&)> read;
    std::function<std::string(const Spec&)> show_default;
    Param Spec::*param = nullptr;  // set for Param keys: they are tabulated once validated
};

template <class Spec>
using Schema = std::vector<Field<Spec>>;

template <class Spec>
std::vector<std::string> keys_of(const Schema<Spec>& schema) {
    std::vector<std::string> out;
    for (const Field<Spec>& f : schema) out.push_back(f.key);
    return out;
}

namespace detail {
template <class Spec>
void add_param_keys(const void* schema, const std::string& path, std::set<std::string>& paths) {
    for (const Field<Spec>& f : *static_cast<const Schema<Spec>*>(schema))
        if (f.param) paths.insert(path.empty() ? f.key : path + "." + f.key);
}
}  // namespace detail

template <class Spec>
void Reader::note_param_fields(const Where& w, const Schema<Spec>& schema) {
    if (std::any_of(schema.begin(), schema.end(), [](const Field<Spec>& f) { return f.param != nullptr; }))
        noted_params_.push_back(NotedParams{w.path(), &schema, &detail::add_param_keys<Spec>});
}

// Reads a map whose keys `schema` declares into `spec`: reports unknown keys and
// missing required ones; absent keys keep the spec's defaults. An empty value
// (`lab:`) is an empty map.
template <class Spec>
void read_fields(Spec& spec, const Tree& map, const Schema<Spec>& schema, const Where& where, Reader& r) {
    if (!map.is_map() && !map.is_null()) {
        r.error(map, where,
                "expected a map of keys (" + join(keys_of(schema)) + "), found " + map.describe());
        return;
    }
    // Each field's value, found in one pass over the entries; the list of valid
    // keys is built only for a map that has an unknown one.
    std::vector<const Tree*> given(schema.size(), nullptr);
    bool unknown = false;
    for (const TreeEntry& e : map.entries) {
        const auto f =
            std::find_if(schema.begin(), schema.end(), [&](const Field<Spec>& f) { return f.key == e.key; });
        if (f == schema.end())
            unknown = true;
        else
            given[static_cast<std::size_t>(f - schema.begin())] = &e.value;
    }
    if (unknown) r.check_keys(map, keys_of(schema), where);
    r.note_param_fields(where, schema);
    for (std::size_t i = 0; i < schema.size(); ++i) {
        const Field<Spec>& f = schema[i];
        if (given[i])
            f.read(spec, *given[i], where / f.key, r);
        else if (f.required)
            r.error(map, where, "missing required key " + in_quotes(f.key));
    }
}

// ---- field builders -------------------------------------------------------

std::string show_param(const Param& p);

template <class Spec>
Field<Spec> make_field(std::string key, std::string type, std::string unit, std::string range,
                       std::string doc) {
    Field<Spec> f;
    f.key = std::move(key);
    f.type = std::move(type);
    f.unit = std::move(unit);
    f.range = std::move(range);
    f.doc = std::move(doc);
    return f;
}

template <class Spec>
Field<Spec> param_field(std::string key, Param Spec::*member, Range range, std::string unit,
                        std::string doc) {
    auto f = make_field<Spec>(std::move(key), "param", std::move(unit), range.text(), std::move(doc));
    f.param = member;
    f.read = [member, range](Spec& s, const Tree& t, const Where& w, Reader& r) {
        if (auto p = r.param(t, w, range)) s.*member = std::move(*p);
    };
    f.show_default = [member](const Spec& s) { return show_param(s.*member); };
    return f;
}

template <class Spec>
Field<Spec> number_field(std::string key, double Spec::*member, Range range, std::string unit,
                         std::string doc) {
    auto f = make_field<Spec>(std::move(key), "number", std::move(unit), range.text(), std::move(doc));
    f.read = [member, range](Spec& s, const Tree& t, const Where& w, Reader& r) {
        if (auto v = r.number(t, w, range)) s.*member = *v;
    };
    f.show_default = [member](const Spec& s) { return show_number(s.*member); };
    return f;
}

// Month counts beyond 10,000 years are typos, and would overflow the month arithmetic.
inline constexpr double max_months = 120000;

// `range` narrowed to what the integer type holds (and months to max_months), so that a
// huge value is reported, never silently wrapped.
template <class Int>
constexpr Range integer_range(Range range, std::string_view unit) {
    if constexpr (sizeof(Int) < sizeof(long long))
        range.upper = std::min(range.upper, static_cast<double>(std::numeric_limits<Int>::max()));
    if (unit == "months") range.upper = std::min(range.upper, max_months);
    return range;
}

// A whole number for an `Int` key: out of `requested` is reported with that range, and
// past what `Int` (or a month count) holds with the narrowed one.
template <class Int>
std::optional<Int> whole_fitting(Reader& r, const Tree& t, const Where& w, const Range& requested,
                                 std::string_view unit) {
    const Range holds = integer_range<Int>(requested, unit);
    const auto v = r.whole(t, w, requested, holds);
    if (!v || !r.in_range(static_cast<double>(*v), t, w, holds)) return std::nullopt;
    return static_cast<Int>(*v);
}

template <class Spec, class Int>
Field<Spec> integer_field(std::string key, Int Spec::*member, Range requested, std::string unit,
                          std::string doc) {
    auto f = make_field<Spec>(std::move(key), "integer", unit, requested.text(), std::move(doc));
    f.read = [member, requested, unit](Spec& s, const Tree& t, const Where& w, Reader& r) {
        if (const auto v = whole_fitting<Int>(r, t, w, requested, unit)) s.*member = *v;
    };
    f.show_default = [member](const Spec& s) { return std::to_string(s.*member); };
    return f;
}

template <class Spec>
Field<Spec> flag_field(std::string key, bool Spec::*member, std::string doc) {
    auto f = make_field<Spec>(std::move(key), "true/false", "", "", std::move(doc));
    f.read = [member](Spec& s, const Tree& t, const Where& w, Reader& r) {
        if (auto v = r.boolean(t, w)) s.*member = *v;
    };
    f.show_default = [member](const Spec& s) { return std::string(s.*member ? "true" : "false"); };
    return f;
}

template <class Spec, class E>
Field<Spec> choice_field(std::string key, E Spec::*member, Words<E> words, std::string doc) {
    auto f = make_field<Spec>(std::move(key), join(words_of(words), " | "), "", "", std::move(doc));
    f.read = [member, words](Spec& s, const Tree& t, const Where& w, Reader& r) {
        if (auto v = r.choice(t, w, words)) s.*member = *v;
    };
    f.show_default = [member, words](const Spec& s) { return word_of(words, s.*member); };
    return f;
}

template <class Spec>
Field<Spec> month_field(std::string key, Month Spec::*member, std::string default_text, std::string doc) {
    auto f = make_field<Spec>(std::move(key), "YYYY-MM", "", "", std::move(doc));
    f.required = default_text == "required";
    f.read = [member](Spec& s, const Tree& t, const Where& w, Reader& r) {
        if (auto m = r.month(t, w)) s.*member = *m;
    };
    f.show_default = [default_text](const Spec&) { return default_text; };
    return f;
}

// A key read by its own function; `default_text` is what the reference shows.
template <class Spec>
Field<Spec> custom_field(std::string key, std::string type, std::string default_text, std::string doc,
                         std::function<void(Spec&, const Tree&, const Where&, Reader&)> read) {
    auto f = make_field<Spec>(std::move(key), std::move(type), "", "", std::move(doc));
    f.required = default_text == "required";
    f.read = std::move(read);
    f.show_default = [default_text](const Spec&) { return default_text; };
    return f;
}

}  // namespace entangle::loader
