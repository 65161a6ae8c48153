#!/usr/bin/python3
"""Checks that notebooks are committed without outputs; with --strip, removes them instead.

    /usr/bin/python3 tests/notebooks/check_notebooks.py [--strip] NOTEBOOK.ipynb...

A committed notebook has no cell outputs, no execution counts and no widget state, so that
diffs show code changes only and nothing depends on one machine's results. Exits 1 naming
each notebook that has any (run with --strip to clean them), 0 otherwise.
"""
import json
import sys


def outputs_of(notebook):
    """What a clean notebook must not have: (cell index, what) pairs."""
    found = []
    for i, cell in enumerate(notebook.get("cells", [])):
        if cell.get("outputs"):
            found.append((i, f"{len(cell['outputs'])} outputs"))
        if cell.get("execution_count") is not None:
            found.append((i, "an execution count"))
    if "widgets" in notebook.get("metadata", {}):
        found.append((None, "widget state"))
    return found


def strip(notebook):
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    notebook.get("metadata", {}).pop("widgets", None)


def main(argv):
    do_strip = "--strip" in argv
    paths = [a for a in argv if a != "--strip"]
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    dirty = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            notebook = json.load(f)
        found = outputs_of(notebook)
        if not found:
            continue
        if do_strip:
            strip(notebook)
            with open(path, "w", encoding="utf-8") as f:
                json.dump(notebook, f, indent=1, sort_keys=True, ensure_ascii=False)  # as nbformat writes
                f.write("\n")
            print(f"{path}: stripped")
        else:
            dirty += 1
            where = ", ".join(f"cell {i}: {what}" if i is not None else what for i, what in found[:5])
            print(f"{path}: has outputs ({where}); strip it: "
                  f"/usr/bin/python3 tests/notebooks/check_notebooks.py --strip {path}", file=sys.stderr)
    return 1 if dirty else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
