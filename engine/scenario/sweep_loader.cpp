// Sweep files: the `sweep`, `parameters` and `outputs` sections, read with
// the scenario loader's Reader so that problems read the same way.
#include "engine/scenario/sweep_loader.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>

#include "engine/record.hpp"
#include "engine/scenario/build.hpp"
#include "engine/scenario/schema.hpp"
#include "engine/scenario/tree.hpp"

namespace fs = std::filesystem;

namespace entangle {

namespace {

using namespace loader;


const Words<DesignMethod> design_words{{"grid", DesignMethod::grid},
                                       {"random", DesignMethod::random},
                                       {"lhs", DesignMethod::lhs},
                                       {"sobol", DesignMethod::sobol}};

std::vector<std::string> all_series_names() {
    std::vector<std::string> names;
    for (const SeriesInfo& s : firm_series_info) names.emplace_back(s.name);
    for (const SeriesInfo& s : market_series_info) names.emplace_back(s.name);
    for (const SeriesInfo& s : chip_series_info) names.emplace_back(s.name);
    return names;
}

bool is_number(const Tree& t) {
    if (!t.is_scalar() || t.quoted || t.text.empty()) return false;
    char* end = nullptr;
    (void)std::strtod(t.text.c_str(), &end);
    return end == t.text.c_str() + t.text.size();
}
bool is_boolean(const Tree& t) { return t.is_scalar() && !t.quoted && (t.text == "true" || t.text == "false"); }

void read_parameter(SweepParameter& sp, const Tree& t, const Where& w, Reader& r, DesignMethod method) {
    sp.line = t.mark.line;
    sp.column = t.mark.column;
    if (!t.is_map()) {
        r.error(t, w, "expected {values: [...]}, {min: .., max: ..} or a distribution {dist: ..., ...}, found " +
                          t.describe());
        return;
    }
    if (const Tree* values = t.find("values")) {
        sp.kind = SweepParameter::Kind::values;
        r.check_keys(t, {"values"}, w);
        if (!values->is_list() || values->items.empty()) {
            r.error(*values, w / "values", "expected a non-empty list of values, found " + values->describe());
            return;
        }
        const bool numbers = std::all_of(values->items.begin(), values->items.end(), is_number);
        const bool booleans = std::all_of(values->items.begin(), values->items.end(), is_boolean);
        sp.type = numbers ? SweepParameter::Type::number
                          : booleans ? SweepParameter::Type::boolean : SweepParameter::Type::text;
        std::set<std::string> seen;
        for (const Tree& item : values->items) {
            std::string text = item.is_scalar() ? item.text : emit_yaml(item);
            if (!text.empty() && text.back() == '\n') text.pop_back();  // one line in messages and labels
            if (item.is_null()) r.error(item, w / "values", "expected a value, found nothing");
            if (!seen.insert(text).second) r.error(item, w / "values", "the value " + in_quotes(text) + " is listed twice");
            sp.values.push_back(std::move(text));
        }
        return;
    }
    if (t.find("dist")) {
        sp.kind = SweepParameter::Kind::distribution;
        if (method == DesignMethod::grid)
            r.error(t, w, "a grid design needs {values: [...]} or {min, max, levels}, not a distribution");
        if (const auto d = r.distribution(t, w, any_value)) sp.distribution = *d;
        return;
    }
    if (t.find("min") || t.find("max")) {
        sp.kind = SweepParameter::Kind::range;
        r.check_keys(t, {"min", "max", "log", "levels"}, w);
        const Tree* min = t.find("min");
        const Tree* max = t.find("max");
        if (!min || !max) {
            r.error(t, w, std::string("a range needs both min and max; ") + (min ? "max" : "min") + " is missing");
            return;
        }
        const auto lo = r.number(*min, w / "min", any_value);
        const auto hi = r.number(*max, w / "max", any_value);
        if (const Tree* log = t.find("log"))
            if (const auto b = r.boolean(*log, w / "log")) sp.log = *b;
        if (lo && hi) {
            sp.min = *lo, sp.max = *hi;
            if (*lo > *hi) r.error(t, w, "min " + min->text + " is above max " + max->text);
            if (sp.log && *lo <= 0) r.error(*min, w / "min", "a log range needs min > 0, found " + min->text);
        }
        if (const Tree* levels = t.find("levels")) {
            if (const auto n = whole_fitting<int>(r, *levels, w / "levels", at_least(1), "")) sp.levels = *n;
        } else if (method == DesignMethod::grid) {
            r.error(t, w, "a range in a grid design needs levels: N (N evenly spaced values from min to max)");
        }
        return;
    }
    r.error(t, w, "expected {values: [...]}, {min: .., max: ..} or a distribution {dist: ..., ...}");
}

SweepSpec read_sweep(const Tree& root, const std::string& file, std::string text) {
    Problems problems;
    Reader r(problems, Names{});
    SweepSpec spec;
    spec.file = file;
    spec.sweep_yaml = std::move(text);
    spec.name = fs::path(file).stem().string();
    r.check_keys(root, {"sweep", "parameters", "outputs"}, Where{});

    const Tree* header = root.find("sweep");
    const Where hw("sweep");
    if (!header || !header->is_map()) {
        problems.add(header ? header->mark : Mark{file, 1, 1},
                     "sweep: expected a map with base, design, replications and seed");
        problems.throw_if_any();
    }
    r.check_keys(*header, {"name", "base", "design", "replications", "seed"}, hw);
    if (const Tree* name = header->find("name"))
        if (const auto n = r.output_name(*name, hw / "name")) spec.name = *n;
    if (const Tree* base = header->find("base")) {
        if (const auto b = r.text(*base, hw / "base"))
            spec.base = (fs::path(file).parent_path() / *b).lexically_normal().string();
        spec.base_line = base->mark.line, spec.base_column = base->mark.column;
    } else {
        r.error(*header, hw, "base: the scenario file the sweep varies is required");
    }
    if (const Tree* reps = header->find("replications"))
        if (const auto n = whole_fitting<int>(r, *reps, hw / "replications", Range{1, max_replications}, "")) spec.replications = *n;
    if (const Tree* seed = header->find("seed"))
        if (const auto s = r.whole(*seed, hw / "seed", at_least(0))) spec.seed = static_cast<std::uint64_t>(*s);
    const Tree* design = header->find("design");
    const Tree* points_node = nullptr;
    if (design && design->is_map()) {
        r.check_keys(*design, {"method", "points"}, hw / "design");
        if (const Tree* method = design->find("method")) {
            if (const auto m = r.choice(*method, hw / "design" / "method", design_words)) spec.method = *m;
        } else {
            r.error(*design, hw / "design", "method: expected one of grid, random, lhs, sobol");
        }
        points_node = design->find("points");
        if (points_node)
            if (const auto n = r.whole(*points_node, hw / "design" / "points", Range{1, 4294967295.0}))
                spec.points = static_cast<std::uint32_t>(*n);
        if (!points_node && spec.method != DesignMethod::grid)
            r.error(*design, hw / "design", std::string("points: a ") + design_method_name(spec.method) +
                                                 " design needs the number of points");
    } else if (design) {
        r.error(*design, hw / "design", "expected {method: grid | random | lhs | sobol, points: N}, found " +
                                            design->describe());
    }

    const Tree* parameters = root.find("parameters");
    if (!parameters || !parameters->is_map() || parameters->entries.empty()) {
        problems.add(parameters ? parameters->mark : Mark{file, 1, 1},
                     "parameters: expected a map of scenario key paths to the values they take, e.g. "
                     "firms.openai.lab.training_growth: {min: 2, max: 5}");
    } else {
        for (const TreeEntry& e : parameters->entries) {
            // Every point shares the run's months, step, seed, replications and recorded
            // outputs: the results file has one shape, and the seed and replications are
            // the sweep's own (sweep.seed, sweep.replications).
            const std::string section = e.key.substr(0, e.key.find('.'));
            if (section == "scenario" || section == "outputs") {
                problems.add(e.key_mark, "parameters." + e.key + ": a sweep varies the model, not the run: " +
                                             in_quotes(section) +
                                             " keys (months, step, seed, replications, what is recorded) are shared "
                                             "by every point; set them in the base scenario, with --set, or in the "
                                             "sweep's own sections");
                continue;
            }
            SweepParameter sp;
            sp.path = e.key;
            read_parameter(sp, e.value, Where("parameters." + e.key), r, spec.method);
            sp.line = e.key_mark.line, sp.column = e.key_mark.column;
            spec.parameters.push_back(std::move(sp));
        }
    }
    if (spec.method == DesignMethod::grid && problems.empty()) {
        std::uint64_t n = 1;
        for (const SweepParameter& sp : spec.parameters)
            n *= sp.kind == SweepParameter::Kind::values ? sp.values.size() : static_cast<std::uint64_t>(sp.levels);
        if (n > 4294967295ull) {
            r.error(*parameters, Where("parameters"), "the grid has " + std::to_string(n) + " points, too many");
        } else if (points_node && spec.points != n) {
            r.error(*points_node, hw / "design" / "points",
                    "the grid has " + std::to_string(n) + " points (the product of the levels), not " +
                        points_node->text + "; leave points out or give " + std::to_string(n));
        }
        spec.points = static_cast<std::uint32_t>(n);
    }

    if (const Tree* outputs = root.find("outputs")) {
        const Where ow("outputs");
        if (!outputs->is_map()) {
            r.error(*outputs, ow, "expected a map with series, keep_replications, statistics, network");
        } else {
            r.check_keys(*outputs, {"series", "keep_replications", "statistics", "network"}, ow);
            if (const Tree* series = outputs->find("series")) {
                if (series->is_scalar() && series->text == "all") {
                    spec.series.reset();
                } else if (series->is_list()) {
                    const std::vector<std::string> valid = all_series_names();
                    spec.series.emplace();
                    for (const Tree& s : series->items) {
                        if (!s.is_scalar() || std::find(valid.begin(), valid.end(), s.text) == valid.end()) {
                            r.error(s, ow / "series", "unknown series " + s.describe() +
                                                          (s.is_scalar() ? did_you_mean(s.text, valid) : ""));
                            continue;
                        }
                        spec.series->push_back(s.text);
                    }
                } else {
                    r.error(*series, ow / "series", "expected all or a list of series names, found " + series->describe());
                }
            }
            if (const Tree* keep = outputs->find("keep_replications"))
                if (const auto b = r.boolean(*keep, ow / "keep_replications")) spec.keep_replications = *b;
            if (const Tree* network = outputs->find("network"))
                if (const auto b = r.boolean(*network, ow / "network")) spec.network = *b;
            if (const Tree* stats = outputs->find("statistics")) {
                if (!stats->is_list() || stats->items.empty()) {
                    r.error(*stats, ow / "statistics", "expected a non-empty list such as [mean, std, p05, p50, p95]");
                } else {
                    spec.statistics.clear();
                    for (const Tree& s : stats->items) {
                        if (!s.is_scalar() || !parse_statistic(s.text)) {
                            r.error(s, ow / "statistics",
                                    "unknown statistic " + s.describe() +
                                        "; expected mean, std, min, max or pNN (a percentile: p05, p50, p95, p100)");
                            continue;
                        }
                        if (std::find(spec.statistics.begin(), spec.statistics.end(), s.text) != spec.statistics.end())
                            r.error(s, ow / "statistics", "statistic " + in_quotes(s.text) + " is listed twice");
                        spec.statistics.push_back(s.text);
                    }
                }
            }
        }
    }
    problems.throw_if_any();
    return spec;
}

std::string series_list(const std::vector<std::string>& names) {
    std::string text = "[";
    for (std::size_t i = 0; i < names.size(); ++i) text += (i ? ", " : "") + names[i];
    return text + "]";
}

}  // namespace

bool is_sweep_file(const fs::path& file) {
    const auto text = read_text(file);
    if (!text) return false;
    Problems problems;
    const auto tree = parse_yaml(*text, Mark{file.string(), 1, 1}, problems, "a sweep file");
    return tree && tree->is_map() && tree->find("sweep") != nullptr;
}

SweepSpec load_sweep_text(std::string_view yaml, const std::string& file_name) {
    Problems problems;
    auto tree = parse_yaml(yaml, Mark{file_name, 1, 1}, problems, "a sweep file");
    problems.throw_if_any();
    if (!tree || !tree->is_map()) {
        problems.add(Mark{file_name, 1, 1}, "expected a sweep file: a map with sweep, parameters and outputs");
        problems.throw_if_any();
    }
    return read_sweep(*tree, file_name, std::string(yaml));
}

SweepSpec load_sweep(const fs::path& file) {
    const auto text = read_text(file);
    if (!text) throw InputError({InputProblem{file.string(), 0, 0, "cannot open sweep file " + in_quotes(file.string())}});
    return load_sweep_text(*text, file.string());
}

// The tree every point starts from, and copies of it that points borrow: a point
// applies its overrides to a borrowed copy, builds its scenario and undoes the
// overrides before the copy is lent again, so that building a point copies
// only what its overrides replace. There are at most as many copies as points
// ever built at once.
class SweepScenarios::PointTrees {
public:
    explicit PointTrees(Tree base) : base_(std::move(base)) {}

    // A copy of the base for one point; given back, with its changes undone, when the lease ends.
    class Lease {
    public:
        explicit Lease(PointTrees& trees) : trees_(trees), tree_(trees.borrow()) {}
        ~Lease() {
            // Changes recorded only partly (an exception while applying) cannot be undone: drop the copy.
            if (!complete_) return;
            undo_changes(*tree_, changes_);
            trees_.give_back(std::move(tree_));
        }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;

        const Tree& apply(std::span<const Override> overrides, Problems& problems) {
            apply_overrides(*tree_, overrides, problems, &changes_);
            complete_ = true;
            return *tree_;
        }

    private:
        PointTrees& trees_;
        std::unique_ptr<Tree> tree_;
        std::vector<TreeChange> changes_;
        bool complete_ = false;
    };

private:
    std::unique_ptr<Tree> borrow() {
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            if (!spare_.empty()) {
                std::unique_ptr<Tree> tree = std::move(spare_.back());
                spare_.pop_back();
                return tree;
            }
        }
        return std::make_unique<Tree>(base_);  // base_ is never changed: copied without the lock
    }
    void give_back(std::unique_ptr<Tree> tree) {
        const std::lock_guard<std::mutex> lock(mutex_);
        spare_.push_back(std::move(tree));
    }

    const Tree base_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Tree>> spare_;
};

SweepScenarios::SweepScenarios(const SweepSpec& spec, std::vector<Override> cli_overrides)
    : spec_(&spec), fixed_(std::move(cli_overrides)) {
    std::optional<Tree> tree;
    try {
        tree = load_file_tree(spec.base);
    } catch (const InputError& e) {
        // A base that cannot be opened is the sweep file's problem: say where it is named.
        std::vector<InputProblem> problems = e.problems();
        for (InputProblem& p : problems)
            if (p.line == 0) p = InputProblem{spec.file, spec.base_line, spec.base_column, "sweep.base: " + p.message};
        throw InputError(std::move(problems));
    }
    if (spec.series) fixed_.push_back(Override{"outputs.series", series_list(*spec.series)});
    fixed_.push_back(Override{"outputs.network", spec.network ? "true" : "false"});
    base_ = scenario_from_tree(*tree, spec.base, fixed_);  // every point's overrides come after these
    trees_ = std::make_unique<PointTrees>(std::move(*tree));
}

SweepScenarios::~SweepScenarios() = default;
SweepScenarios::SweepScenarios(SweepScenarios&&) noexcept = default;

Scenario SweepScenarios::at(const SweepDesign& design, std::uint32_t point) const {
    std::vector<Override> overrides;
    for (std::size_t j = 0; j < design.parameters(); ++j)
        overrides.push_back(Override{design.parameter(j).path, design.text(point, j)});
    try {
        PointTrees::Lease tree(*trees_);
        Problems problems;
        return validated_scenario(tree.apply(overrides, problems), spec_->base, problems);
    } catch (const InputError& e) {
        std::string values;
        for (std::size_t j = 0; j < design.parameters(); ++j)
            values += (j ? ", " : "") + design.parameter(j).path + "=" + design.text(point, j);
        std::vector<InputProblem> problems;
        for (const InputProblem& p : e.problems()) {
            // Problems at --set name a swept path: point at its declaration in the sweep file.
            // (by its full path in the message, else its last key quoted, else the first parameter).
            const SweepParameter* declared = design.parameters() > 0 ? &design.parameter(0) : nullptr;
            for (std::size_t j = 0; j < design.parameters(); ++j) {
                const std::string& path = design.parameter(j).path;
                const std::string last = in_quotes(path.substr(path.rfind('.') + 1));
                if (p.message.find(path) != std::string::npos || p.message.find(last) != std::string::npos) {
                    declared = &design.parameter(j);
                    break;
                }
            }
            const std::string where = p.file == "--set" ? "" : " (" + p.format() + ")";
            problems.push_back(InputProblem{spec_->file, declared ? declared->line : 0, declared ? declared->column : 0,
                                            "at sweep point " + std::to_string(point) + " (" + values + "): " +
                                                p.message + where});
        }
        throw InputError(std::move(problems));
    }
}

void SweepScenarios::check(const SweepDesign& design) const {
    std::set<std::uint32_t> points;
    for (std::size_t j = 0; j < design.parameters(); ++j) {
        std::uint32_t lo = 0, hi = 0;
        double lowest = design.value(0, j), highest = lowest;
        std::map<double, std::uint32_t> each;  // values: one point per value
        for (std::uint32_t p = 0; p < design.points(); ++p) {
            const double v = design.value(p, j);  // computed on demand: once per point
            if (v < lowest) lo = p, lowest = v;
            if (v > highest) hi = p, highest = v;
            if (design.parameter(j).kind == SweepParameter::Kind::values) each.emplace(v, p);
        }
        points.insert(lo), points.insert(hi);
        for (const auto& [v, p] : each) points.insert(p);
    }
    std::vector<InputProblem> problems;
    for (const std::uint32_t p : points) {
        try {
            (void)at(design, p);
        } catch (const InputError& e) {
            // The first failing point says it; the others would mostly repeat it.
            problems.insert(problems.end(), e.problems().begin(), e.problems().end());
            break;
        }
    }
    if (!problems.empty()) throw InputError(std::move(problems));
}

}  // namespace entangle
