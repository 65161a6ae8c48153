// docs/scenarios.md cannot drift from the loader: its key reference is the
// one rendered from the schema, its example scenario loads, and its example
// error report is what the loader says about tests/data/loader/bad.yaml.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/scenario/loader.hpp"
#include "engine/scenario/reference.hpp"

using namespace entangle;
namespace fs = std::filesystem;

namespace {

const fs::path docs_page = fs::path(ENTANGLE_SOURCE_DIR) / "docs" / "scenarios.md";

std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The text of the first fenced block after `heading` in the page.
std::string block_after(const std::string& page, const std::string& heading) {
    const std::size_t at = page.find(heading);
    if (at == std::string::npos) return "";
    const std::size_t open = page.find("```", at);
    const std::size_t body = page.find('\n', open) + 1;
    return page.substr(body, page.find("```", body) - body);
}

// Replaces the generated section of the page with the current reference.
void update_page(const std::string& page, const std::string& reference) {
    const std::size_t begin = page.find(reference_begin_marker);
    const std::size_t end = page.find(reference_end_marker);
    REQUIRE(begin != std::string::npos);
    REQUIRE(end != std::string::npos);
    const std::size_t after = page.find('\n', end) + 1;
    std::ofstream(docs_page, std::ios::binary) << page.substr(0, begin) + reference + page.substr(after);
}

}  // namespace

TEST_CASE("docs/scenarios.md holds the generated key reference verbatim") {
    const std::string page = read(docs_page);
    REQUIRE_FALSE(page.empty());
    const std::string reference = scenario_reference_markdown();
    if (std::getenv("ENTANGLE_UPDATE_DOCS") && page.find(reference) == std::string::npos) {
        update_page(page, reference);
        MESSAGE("rewrote the key reference in " << docs_page.string());
    }
    CHECK_MESSAGE(
        read(docs_page).find(reference) != std::string::npos,
        "docs/scenarios.md is out of date; regenerate it with ENTANGLE_UPDATE_DOCS=1 entangle_tests "
        "--test-case='docs/scenarios.md*'");
}

TEST_CASE("docs/scenarios.md: the example scenario loads") {
    const std::string example = block_after(read(docs_page), "## A small scenario");
    REQUIRE_FALSE(example.empty());
    const Scenario sc = load_scenario_text(example, "small.yaml");
    CHECK(sc.firms.size() == 3);
    CHECK(sc.uncertain.size() == 1);  // training_growth; a region's delay is drawn per project instead
    CHECK(sc.regions[0].delay.has_value());
}

TEST_CASE("docs/scenarios.md: the example error report is the loader's") {
    const std::string shown = block_after(read(docs_page), "## When something is wrong");
    const fs::path bad = fs::path(ENTANGLE_TEST_DATA_DIR) / "loader" / "bad.yaml";
    std::string reported;
    try {
        load_scenario_text(read(bad), "bad.yaml");
    } catch (const InputError& e) {
        reported = std::string(e.what()) + "\n";
    }
    CHECK(shown == reported);
}
