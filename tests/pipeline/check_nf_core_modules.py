#!/usr/bin/env python3
"""Offline checks of the example nf-core modules (examples/nf-core/modules/seqprov/*).

`nf-core modules lint` cannot run here: it calls `nextflow config` and
`nextflow inspect`, and Nextflow cannot be installed on these machines. This checks what
can be checked without it:

- meta.yml and environment.yml validate against nf-core's JSON Schemas (vendored in
  tests/pipeline/nf-core-schemas/, see its README);
- main.nf follows the conventions the linter enforces: conda from environment.yml, a
  container for docker and singularity, `task.ext.args` and `task.ext.prefix`, a `when:`
  block, a `stub:` block, versions through a topic channel with an `eval`;
- every output `emit:` of main.nf is documented in meta.yml's `output:` (and nothing
  else), the versions tuple is in `output:` and `topics.versions` with main.nf's exact
  eval command, and the inputs are documented in order;
- environment.yml pins bioconda::seqprov at the workspace's version (Cargo.toml), the
  version the bioconda recipe builds;
- tests/main.nf.test names the process, its script and the stub.

    check_nf_core_modules.py REPOSITORY_ROOT

Prints one line per check and "N passed, M failed"; exits 1 if any failed.
"""
import json
import re
import sys
from pathlib import Path

import jsonschema
import yaml

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f": {detail}"))


def workspace_version(root):
    text = (root / "Cargo.toml").read_text()
    match = re.search(r'\[workspace\.package\][^\[]*?version\s*=\s*"([^"]+)"', text, re.S)
    return match.group(1)


def emits(main_nf):
    """(emit name, whole output line) for every output declaration."""
    block = main_nf.split("output:", 1)[1].split("when:", 1)[0]
    return [(m.group(1), line) for line in block.splitlines() if (m := re.search(r"emit:\s*(\w+)", line))]


def inputs(main_nf):
    """The input declarations' names, in order (tuple members flattened per channel)."""
    block = main_nf.split("input:", 1)[1].split("output:", 1)[0]
    channels = []
    for line in block.splitlines():
        line = line.strip()
        if not line:
            continue
        names = re.findall(r"(?:val|path)\((\w+)", line)
        if not names:
            names = re.findall(r"^(?:val|path)\s+(\w+)", line)
        channels.append(names)
    return channels


def meta_input_names(meta):
    out = []
    for channel in meta["input"]:
        if isinstance(channel, list):
            out.append([next(iter(item)) for item in channel])
        else:
            out.append([next(iter(channel))])
    return out


def main(root):
    schemas = root / "tests/pipeline/nf-core-schemas"
    meta_schema = json.loads((schemas / "meta-schema.json").read_text())
    env_schema = json.loads((schemas / "environment-schema.json").read_text())
    version = workspace_version(root)
    modules = sorted((root / "examples/nf-core/modules/seqprov").iterdir())
    check("two modules (seal, verify)", [m.name for m in modules] == ["seal", "verify"], modules)

    for module in modules:
        name = f"seqprov/{module.name}"
        process = f"SEQPROV_{module.name.upper()}"
        main_nf = (module / "main.nf").read_text()
        meta = yaml.safe_load((module / "meta.yml").read_text())
        env = yaml.safe_load((module / "environment.yml").read_text())
        test = (module / "tests/main.nf.test").read_text()

        try:
            jsonschema.validate(meta, meta_schema)
            check(f"{name}: meta.yml validates against nf-core's meta-schema.json", True)
        except jsonschema.ValidationError as e:
            check(f"{name}: meta.yml validates against nf-core's meta-schema.json", False, e.message)
        try:
            jsonschema.validate(env, env_schema)
            check(f"{name}: environment.yml validates against environment-schema.json", True)
        except jsonschema.ValidationError as e:
            check(f"{name}: environment.yml validates against environment-schema.json", False, e.message)

        check(f"{name}: meta.yml name", meta["name"] == f"seqprov_{module.name}", meta["name"])
        check(f"{name}: process name", f"process {process} {{" in main_nf)
        check(
            f"{name}: environment pins bioconda::seqprov={version}",
            f"bioconda::seqprov={version}" in env["dependencies"],
            env["dependencies"],
        )
        check(f"{name}: conda from environment.yml", 'conda "${moduleDir}/environment.yml"' in main_nf)
        check(
            f"{name}: containers for singularity/apptainer and docker",
            "workflow.containerEngine in ['singularity', 'apptainer']" in main_nf
            and f"depot.galaxyproject.org/singularity/seqprov:{version}--" in main_nf
            and f"quay.io/biocontainers/seqprov:{version}--" in main_nf,
        )
        check(f"{name}: task.ext.args", "def args = task.ext.args ?: ''" in main_nf and "${args}" in main_nf)
        check(f"{name}: task.ext.prefix", 'task.ext.prefix ?: "${meta.id}"' in main_nf)
        check(f"{name}: when block", "task.ext.when == null || task.ext.when" in main_nf)
        check(f"{name}: stub block", "\n    stub:\n" in main_nf)

        declared = emits(main_nf)
        versions = [line for emit, line in declared if emit == "versions_seqprov"]
        check(f"{name}: versions through a topic channel", len(versions) == 1 and "topic: versions" in versions[0])
        eval_cmd = re.search(r'eval\("([^"]+)"\)', versions[0]).group(1) if versions else None
        check(f"{name}: no versions.yml", "versions.yml" not in main_nf)
        check(
            f"{name}: every emit documented in meta.yml output (and only those)",
            sorted(e for e, _ in declared) == sorted(meta["output"]),
            (sorted(e for e, _ in declared), sorted(meta["output"])),
        )
        for where, entry in [("output", meta["output"]["versions_seqprov"]), ("topics", meta["topics"]["versions"])]:
            keys = [next(iter(item)) for item in entry[0]]
            check(
                f"{name}: meta.yml {where} versions tuple matches main.nf's eval",
                keys == ["${task.process}", "seqprov", eval_cmd],
                (keys, eval_cmd),
            )
        check(
            f"{name}: inputs documented in order",
            inputs(main_nf) == meta_input_names(meta),
            (inputs(main_nf), meta_input_names(meta)),
        )
        check(
            f"{name}: nf-test names the process and script, and tests the stub",
            f'process "{process}"' in test and 'script "../main.nf"' in test and 'options "-stub"' in test,
        )
        check(f"{name}: nf-test tags", f'tag "seqprov/{module.name}"' in test and 'tag "modules_nfcore"' in test)

    recipe = (root / "examples/bioconda/seqprov/meta.yaml").read_text()
    check(
        f"bioconda recipe builds version {version}",
        re.search(r'{%\s*set version = "' + re.escape(version) + r'"\s*%}', recipe) is not None,
    )

    passed = sum(results)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
