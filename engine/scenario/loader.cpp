// Scenario files -> Scenario: read the file and the files it extends, merge
// them, apply --set overrides, then validate everything at once (build.cpp).
#include "engine/scenario/loader.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "engine/scenario/build.hpp"
#include "engine/scenario/tree.hpp"

namespace fs = std::filesystem;

namespace entangle {

namespace loader {

std::optional<std::string> read_text(const fs::path& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

namespace {

const char* const set_file = "--set";


std::string cannot_open(const fs::path& path) {
    std::error_code ec;
    // Only regular files are read: /dev/zero or a pipe would never end.
    const std::string why = !fs::exists(path, ec)           ? "no such file"
                            : fs::is_directory(path, ec)    ? "a directory"
                            : !fs::is_regular_file(path, ec) ? "not a regular file: a device, pipe or socket"
                                                            : "unreadable";
    return "cannot open scenario file " + in_quotes(path.string()) + " (" + why + ")";
}

// The files being loaded, outermost first: an `extends` back into one of them is a cycle.
struct Chain {
    std::vector<fs::path> canonical;
    std::vector<std::string> shown;

    std::optional<std::string> cycle_to(const fs::path& path, const std::string& shown_as) const {
        const fs::path c = fs::weakly_canonical(path);
        for (std::size_t i = 0; i < canonical.size(); ++i)
            if (canonical[i] == c) {
                std::string text;
                for (std::size_t j = i; j < shown.size(); ++j) text += shown[j] + " -> ";
                return text + shown_as;
            }
        return std::nullopt;
    }
};

std::optional<Tree> load_tree(std::string_view text, const std::string& file, Problems& problems,
                              Chain& chain);

void strip_inheritance(Tree& tree) {
    tree.erase("remove_events");
    tree.erase("add_events");
    if (Tree* header = tree.find("scenario"); header && header->is_map()) header->erase("extends");
}

// remove_events: [id, ...] deletes events of the base by id.
void remove_events(Tree& base, const Tree& ids, Problems& problems) {
    if (!ids.is_list()) {
        problems.add(ids.mark, "remove_events: expected a list of event ids, found " + ids.describe());
        return;
    }
    Tree* events = base.find("events");
    std::vector<std::string> known;
    if (events && events->is_list())
        for (const Tree& e : events->items)
            if (const Tree* id = e.is_map() ? e.find("id") : nullptr; id && id->is_scalar())
                known.push_back(id->text);
    for (const Tree& id : ids.items) {
        const auto found = std::find(known.begin(), known.end(), id.text);
        if (!id.is_scalar() || found == known.end()) {
            problems.add(id.mark, "remove_events: the base scenario has no event " + id.describe() +
                                      (id.is_scalar() ? did_you_mean(id.text, known) : "") +
                                      " (events: " + (known.empty() ? "none" : join(known)) + ")");
            continue;
        }
        std::erase_if(events->items, [&](const Tree& e) {
            const Tree* eid = e.is_map() ? e.find("id") : nullptr;
            return eid && eid->text == id.text;
        });
    }
}

// add_events: [event, ...] appends events to the base's list (a plain
// `events:` list would replace it, dropping every deal of the base).
void add_events(Tree& merged, const Tree& added, Problems& problems) {
    if (!added.is_list()) {
        problems.add(added.mark, "add_events: expected a list of events, found " + added.describe());
        return;
    }
    Tree* events = merged.find("events");
    if (!events) {
        merged.entries.push_back(TreeEntry{"events", added.mark, added});
        return;
    }
    if (events->is_null()) {
        *events = added;
        return;
    }
    if (!events->is_list()) return;  // reported when the events section is read
    for (const Tree& e : added.items) events->items.push_back(e);
}

std::optional<Tree> load_base(const Tree& extends, const std::string& file, Problems& problems,
                              Chain& chain) {
    if (!extends.is_scalar()) {
        problems.add(extends.mark, "scenario.extends: expected a file path, found " + extends.describe());
        return std::nullopt;
    }
    const fs::path path = (fs::path(file).parent_path() / extends.text).lexically_normal();
    const std::string shown = path.string();
    if (const auto cycle = chain.cycle_to(path, shown)) {
        problems.add(extends.mark, "scenario.extends: cycle of extends: " + *cycle);
        return std::nullopt;
    }
    const auto text = read_text(path);
    if (!text) {
        problems.add(extends.mark, "scenario.extends: " + cannot_open(path));
        return std::nullopt;
    }
    chain.canonical.push_back(fs::weakly_canonical(path));
    chain.shown.push_back(shown);
    auto base = load_tree(*text, shown, problems, chain);
    chain.canonical.pop_back();
    chain.shown.pop_back();
    return base;
}

// The tree of one file with everything it extends merged in.
std::optional<Tree> load_tree(std::string_view text, const std::string& file, Problems& problems,
                              Chain& chain) {
    auto tree = parse_yaml(text, Mark{file, 1, 1}, problems, "a scenario file");
    if (!tree) return std::nullopt;
    if (!tree->is_map()) {
        problems.add(Mark{file, 1, 1},
                     tree->is_null()
                         ? std::string("the scenario file is empty")
                         : "expected a map of sections (scenario, firms, ...), found " + tree->describe());
        return std::nullopt;
    }
    const Tree* header = tree->find("scenario");
    const Tree* extends = header && header->is_map() ? header->find("extends") : nullptr;
    const TreeEntry* removes = tree->find_entry("remove_events");
    const TreeEntry* adds = tree->find_entry("add_events");
    if (!extends || extends->is_null()) {
        for (const TreeEntry* inherited : {removes, adds})
            if (inherited)
                problems.add(inherited->key_mark,
                             inherited->key + " changes the events of the scenario this one extends, but "
                                              "scenario.extends is not given");
        strip_inheritance(*tree);
        return tree;
    }
    auto base = load_base(*extends, file, problems, chain);
    if (!base) return std::nullopt;
    if (removes) remove_events(*base, removes->value, problems);
    const std::optional<Tree> added = adds ? std::optional<Tree>(adds->value) : std::nullopt;
    merge_into(*base, *tree);
    if (added) add_events(*base, *added, problems);
    strip_inheritance(*base);
    return base;
}

// ---- --set ----------------------------------------------------------------

struct PathStep {
    std::string key;
    Mark mark;  // where the key sits inside the --set argument
};

std::vector<PathStep> split_path(std::string_view path) {
    std::vector<PathStep> steps;
    std::size_t begin = 0;
    while (true) {
        const std::size_t dot = std::min(path.find('.', begin), path.size());
        steps.push_back(PathStep{std::string(path.substr(begin, dot - begin)),
                                 Mark{set_file, 1, static_cast<int>(begin) + 1}});
        if (dot == path.size()) return steps;
        begin = dot + 1;
    }
}

// The sections whose keys are names: --set may change firms, chips and regions, not invent them.
std::optional<std::string> named_section(const std::string& walked) {
    if (walked == "firms") return "firm";
    if (walked == "chips") return "chip";
    if (walked == "regions") return "region";
    return std::nullopt;
}

// What an override walks through, and the first change it makes to the tree,
// recorded (when `changes` is given) so that the change can be undone. Every
// later change of the same override lies inside the first one's subtree.
struct Walk {
    std::vector<TreeChange>* changes;
    std::vector<std::uint32_t> route;  // child indices from the root to the node reached
    bool changed = false;

    void into(const Tree& parent, const Tree& child) {
        route.push_back(static_cast<std::uint32_t>(parent.is_map() ? child_index(parent, child)
                                                                    : &child - parent.items.data()));
    }
    static std::ptrdiff_t child_index(const Tree& map, const Tree& child) {
        const auto it = std::find_if(map.entries.begin(), map.entries.end(),
                                     [&](const TreeEntry& e) { return &e.value == &child; });
        return it - map.entries.begin();
    }
    // Before `node` (the node reached) is overwritten or turned from null into a map.
    void replacing(Tree& node) {
        if (!changes || std::exchange(changed, true)) return;
        changes->push_back(TreeChange{route, TreeChange::Kind::replaced, Tree(node)});
    }
    // Before a key is appended to the map reached.
    void adding_key() {
        if (!changes || std::exchange(changed, true)) return;
        changes->push_back(TreeChange{route, TreeChange::Kind::key_added, {}});
    }
};

// The item of a list (contracts, events) whose id is the step's key.
Tree* item_by_id(Tree& list, const PathStep& step, const std::string& walked, const std::string& prefix,
                 Problems& problems) {
    std::vector<std::string> ids;
    for (Tree& item : list.items)
        if (Tree* id = item.is_map() ? item.find("id") : nullptr; id && id->is_scalar()) {
            if (id->text == step.key) return &item;
            ids.push_back(id->text);
        }
    problems.add(step.mark, prefix + walked + " has no item with id " + in_quotes(step.key) +
                                did_you_mean(step.key, ids) + " (ids: " + (ids.empty() ? "none" : join(ids)) +
                                ")");
    return nullptr;
}

// The value of a map's key, created unless the map is one of named firms, chips or regions.
Tree* child_of_map(Tree& map, const PathStep& step, const std::string& walked, const std::string& prefix,
                   Problems& problems, Walk& walk) {
    if (Tree* child = map.find(step.key)) return child;
    if (const auto kind = named_section(walked)) {
        std::vector<std::string> names = map.keys();
        std::sort(names.begin(), names.end());
        problems.add(step.mark, prefix + "unknown " + *kind + " " + in_quotes(step.key) +
                                    did_you_mean(step.key, names) + " (" + *kind +
                                    "s: " + (names.empty() ? "none" : join(names)) + ")");
        return nullptr;
    }
    walk.adding_key();
    map.entries.push_back(
        TreeEntry{step.key, step.mark, Tree{Tree::Kind::null, "", false, step.mark, {}, {}}});
    return &map.entries.back().value;
}

// The child of `node` at `step`, created when allowed; nullptr after reporting why not.
Tree* step_into(Tree& node, const PathStep& step, const std::string& walked, const Override& o,
                Problems& problems, Walk& walk) {
    const std::string prefix = "--set " + o.path + ": ";
    if (node.is_list() || walked == "contracts" || walked == "events")
        return item_by_id(node, step, walked, prefix, problems);
    if (node.is_null()) {  // an absent section or key: created
        walk.replacing(node);
        node.kind = Tree::Kind::map;
    }
    if (!node.is_map()) {
        problems.add(step.mark, prefix + walked + " is " + node.describe() + ", not a map with keys");
        return nullptr;
    }
    return child_of_map(node, step, walked, prefix, problems, walk);
}

void apply_override(Tree& root, const Override& o, Problems& problems, std::vector<TreeChange>* changes) {
    const Mark value_start{set_file, 1, static_cast<int>(o.path.size()) + 2};
    auto value = parse_yaml(o.value, value_start, problems, "a --set value");
    if (!value) return;
    if (value->is_null()) value->mark = value_start;
    Tree* node = &root;
    std::string walked;
    Walk walk{changes, {}};
    for (const PathStep& step : split_path(o.path)) {
        if (step.key.empty()) {
            problems.add(step.mark, "--set " + o.path + ": empty key in the path");
            return;
        }
        Tree* child = step_into(*node, step, walked, o, problems, walk);
        if (!child) return;
        walk.into(*node, *child);
        node = child;
        walked += (walked.empty() ? "" : ".") + step.key;
    }
    if (changes && !walk.changed) {
        // Nothing created on the way: keep the old value itself rather than a copy of it.
        changes->push_back(TreeChange{walk.route, TreeChange::Kind::replaced, std::move(*node)});
        walk.changed = true;
    }
    *node = std::move(*value);
}

Tree merged_tree(std::string_view text, const std::string& file_name) {
    Problems problems;
    Chain chain{{fs::weakly_canonical(file_name)}, {file_name}};
    auto tree = load_tree(text, file_name, problems, chain);
    // A file that does not parse, or whose bases do not, cannot be validated.
    problems.throw_if_any();
    return std::move(*tree);
}

}  // namespace

void apply_overrides(Tree& tree, std::span<const Override> overrides, Problems& problems,
                     std::vector<TreeChange>* changes) {
    for (const Override& o : overrides) apply_override(tree, o, problems, changes);
}

void undo_changes(Tree& tree, std::vector<TreeChange>& changes) {
    // Last change first: each finds the tree as its override left it.
    for (auto change = changes.rbegin(); change != changes.rend(); ++change) {
        Tree* node = &tree;
        for (const std::uint32_t i : change->route)
            node = node->is_map() ? &node->entries[i].value : &node->items[i];
        if (change->kind == TreeChange::Kind::key_added)
            node->entries.pop_back();  // an added key is the map's last until undone
        else
            *node = std::move(change->before);
    }
    changes.clear();
}

Scenario validated_scenario(const Tree& tree, const std::string& file_name, Problems& problems) {
    Scenario sc = build_scenario(tree, problems);
    problems.throw_if_any();
    sc.source_path = file_name;
    return sc;
}

Scenario scenario_from_tree(Tree& tree, const std::string& file_name, std::span<const Override> overrides) {
    Problems problems;
    apply_overrides(tree, overrides, problems);
    Scenario sc = validated_scenario(tree, file_name, problems);
    sc.resolved_yaml = emit_yaml(tree);
    return sc;
}

Tree load_file_tree(const fs::path& file) {
    const auto text = read_text(file);
    if (!text) throw InputError({InputProblem{file.string(), 0, 0, cannot_open(file)}});
    return merged_tree(*text, file.string());
}

namespace {
Scenario load(std::string_view text, const std::string& file_name, std::span<const Override> overrides) {
    Tree tree = merged_tree(text, file_name);
    return scenario_from_tree(tree, file_name, overrides);
}
}  // namespace
}  // namespace loader

Override parse_override(std::string_view argument) {
    const std::size_t equals = argument.find('=');
    if (equals == std::string_view::npos || equals == 0)
        throw InputError(
            {InputProblem{loader::set_file, 1, 1,
                          "expected PATH=VALUE (e.g. firms.openai.lab.training_growth=4), found " +
                              loader::in_quotes(argument)}});
    return Override{std::string(argument.substr(0, equals)), std::string(argument.substr(equals + 1))};
}

Scenario load_scenario(const fs::path& file, std::span<const Override> overrides) {
    const auto text = loader::read_text(file);
    if (!text) throw InputError({InputProblem{file.string(), 0, 0, loader::cannot_open(file)}});
    return loader::load(*text, file.string(), overrides);
}

Scenario load_scenario_text(std::string_view yaml, const std::string& file_name,
                            std::span<const Override> overrides) {
    return loader::load(yaml, file_name, overrides);
}

}  // namespace entangle
