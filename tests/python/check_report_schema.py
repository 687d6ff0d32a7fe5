"""Validate seqprov's JSON outputs against the JSON Schemas of spec/report.md §8.

    python check_report_schema.py SPEC_REPORT_MD KIND FILE...

KIND is `report` (verify --json, receive --json), `show` (show --json), `custody`
(custody show --json) or `log-show` (log show --json). The schemas are taken from the
```json blocks of §8 of
spec/report.md, exactly as the spec prints them, and refer to each other by `$id`.
Exits 0 when every FILE validates, 1 otherwise (naming the file and the first error).
"""

import json
import re
import sys

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

IDS = {
    "report": "https://example.invalid/seqprov/spec/report-v1.schema.json",
    "show": "https://example.invalid/seqprov/spec/show-v1.schema.json",
    "custody": "https://example.invalid/seqprov/spec/custody-v1.schema.json",
    "log-show": "https://example.invalid/seqprov/spec/log-show-v1.schema.json",
}


def schemas(spec_path):
    text = open(spec_path, encoding="utf-8").read()
    start = text.index("\n## 8. JSON Schema")
    end = text.index("\n## 9.", start)
    blocks = re.findall(r"```json\n(.*?)\n```", text[start:end], re.S)
    found = {}
    for block in blocks:
        schema = json.loads(block)
        found[schema["$id"]] = schema
    missing = [i for i in IDS.values() if i not in found]
    if missing:
        sys.exit(f"check_report_schema: spec/report.md §8 lacks {missing}")
    return found


def main():
    spec, kind, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    found = schemas(spec)
    registry = Registry().with_resources(
        (i, Resource.from_contents(s)) for i, s in found.items()
    )
    schema = found[IDS[kind]]
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, registry=registry)
    bad = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        if errors:
            bad += 1
            e = errors[0]
            where = "/".join(str(p) for p in e.absolute_path)
            print(f"{path}: {len(errors)} error(s); first at /{where}: {e.message[:300]}")
        else:
            print(f"{path}: valid {kind}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
