"""Validates a JSON document against the published schema it claims.

    python validate.py cyclonedx|spdx FILE

Prints each violation (its JSON path and message) and exits 1 when there is one. The schemas
beside this file are the published ones (see README.md); jsonschema comes from PyPI.
"""

import json
import pathlib
import sys

from jsonschema import Draft7Validator, Draft201909Validator
from referencing import Registry, Resource

HERE = pathlib.Path(__file__).parent


def load(name):
    return json.loads((HERE / name).read_text())


def main():
    kind, path = sys.argv[1], sys.argv[2]
    doc = json.loads(pathlib.Path(path).read_text())
    registry = Registry().with_resources(
        (load(n)["$id"], Resource.from_contents(load(n)))
        for n in ["spdx.schema.json", "jsf-0.82.schema.json"]
    )
    if kind == "cyclonedx":
        validator = Draft7Validator(load("bom-1.6.schema.json"), registry=registry)
    else:
        validator = Draft201909Validator(load("spdx-2.3.schema.json"))
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errors[:20]:
        print(f"{'/'.join(str(p) for p in e.absolute_path) or '(document)'}: {e.message}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
