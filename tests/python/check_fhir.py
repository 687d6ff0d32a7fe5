#!/usr/bin/env python3
"""Validate a `seqprov export --format fhir` Provenance against the FHIR R4 JSON Schema.

The schema is HL7's FHIR R4 JSON Schema (`fhir.schema.json`, draft-06, id
http://hl7.org/fhir/json-schema/4.0); run_interop.sh obtains it (see its comments and
spec/export.md section 5). Validation is done by the `jsonschema` package against the
whole schema (every resource type, as a FHIR server would receive it). On failure the
resource is validated again against the Provenance definition alone, whose errors name
the offending element.

Then what the schema cannot say is checked: the first signature carries the seal's
COSE_Sign1 (sigFormat application/cose), which is verified again with pycose (with
--seal-key), and is byte for byte the bundle's seal (with --bundle), whose Merkle root
is the first target.

    python3 check_fhir.py PROVENANCE.json --schema fhir.schema.json
                          [--bundle B] [--seal-key SEALER.pub]

Exit status: 0 valid, 1 invalid, 2 unreadable input.
"""

import argparse
import base64
import json
import sys
import traceback

import jsonschema

import verify_bundle

R4_SCHEMA_ID = "http://hl7.org/fhir/json-schema/4.0"


def schema_errors(resource, schema):
    validator = jsonschema.Draft6Validator(schema)
    if validator.is_valid(resource):
        return []
    # The whole schema says only "not valid under any of the given schemas"; the
    # resource's own definition says which element is wrong.
    focused = {"$ref": f"#/definitions/{resource.get('resourceType')}"}
    focused["definitions"] = schema["definitions"]
    errors = list(jsonschema.Draft6Validator(focused).iter_errors(resource))
    if not errors:
        return ["not valid under the R4 schema (and not a known resource type)"]
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(resource)'}: {e.message[:300]}"
        for e in sorted(errors, key=lambda e: list(map(str, e.absolute_path)))
    ]


def check(resource, schema, bundle=None, seal_key_path=None):
    if schema.get("id") != R4_SCHEMA_ID:
        verify_bundle.fail(f"the schema is {schema.get('id')!r}, not the FHIR R4 schema")
    errors = schema_errors(resource, schema)
    if errors:
        verify_bundle.fail("not a valid FHIR R4 resource:\n  " + "\n  ".join(errors))
    print("fhir: valid against the FHIR R4 JSON Schema")

    if resource.get("resourceType") != "Provenance":
        verify_bundle.fail("not a Provenance resource")
    # R4 Provenance.recorded is 1..1, which the JSON Schema cannot require (a primitive
    # may come as `_recorded` with extensions only).
    if "recorded" not in resource:
        verify_bundle.fail("Provenance.recorded is missing")
    seal_signature = resource["signature"][0]
    if seal_signature.get("sigFormat") != "application/cose":
        verify_bundle.fail("the first signature is not a COSE signature")
    seal_raw = base64.b64decode(seal_signature["data"], validate=True)
    if seal_key_path is not None:
        seal_key = verify_bundle.load_public_key(seal_key_path)
        verify_bundle.verify_cose(seal_raw, seal_key, "the seal in Provenance.signature")
        print("fhir: the seal carried in Provenance.signature verifies (pycose)")
    if bundle is not None:
        items = verify_bundle.split_sequence(bundle)
        if items[0][1] != seal_raw:
            verify_bundle.fail("Provenance.signature[0] is not the bundle's seal")
        if len(resource["signature"]) != len(items) - 2 + 1:
            verify_bundle.fail("Provenance.signature does not carry every custody event")
        for sig, (_, raw, _) in zip(resource["signature"][1:], items[2:]):
            if base64.b64decode(sig["data"], validate=True) != raw:
                verify_bundle.fail("a custody signature differs from the bundle's event")
        payload = verify_bundle.cbor2.loads(items[0][2].value[2])
        root = resource["target"][0]["identifier"]
        if root != {"system": "urn:seqprov:merkle-root", "value": payload["root"].hex()}:
            verify_bundle.fail("the first target is not the seal's Merkle root")
        print("fhir: signatures are the bundle's exact messages; first target is the root")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("resource", help="the Provenance resource (JSON)")
    parser.add_argument("--schema", required=True, help="FHIR R4 fhir.schema.json")
    parser.add_argument("--bundle", help="the exported bundle, to compare the messages")
    parser.add_argument("--seal-key", help="the sealer's public key, to re-check the seal")
    args = parser.parse_args(argv)
    try:
        with open(args.resource, "rb") as f:
            resource = json.load(f)
        with open(args.schema, "rb") as f:
            schema = json.load(f)
        bundle = None
        if args.bundle:
            with open(args.bundle, "rb") as f:
                bundle = f.read()
    except (OSError, ValueError) as e:
        print(f"check_fhir: error: {e}", file=sys.stderr)
        return 2
    try:
        check(resource, schema, bundle, args.seal_key)
    except (verify_bundle.Failure, KeyError, IndexError, TypeError, ValueError) as e:
        print(f"check_fhir: FAILED: {e}", file=sys.stderr)
        return 1
    print("check_fhir: OK")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # a bug, not a verdict: never let it pass for a failed check
        traceback.print_exc()
        sys.exit(3)
