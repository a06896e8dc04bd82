"""Shared by the tests: the seed example and the JSON document docs/json.md gives for it."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_PATH = "examples/seed.expr"
SEED = (ROOT / SEED_PATH).read_text()

# docs/json.md, "JSON out": the seed document, with its key order.
SEED_DOC = {
    "schema": 1,
    "file": "examples/seed.expr",
    "target": "L",
    "dtype": "float64",
    "value": -254.0,
    "nodes": {
        "a1": {"kind": "input", "expr": "4", "shape": [], "value": 4.0, "grad": -41.0},
        "a2": {"kind": "input", "expr": "3", "shape": [], "value": 3.0, "grad": -35.0},
        "w": {
            "kind": "param",
            "expr": "[2, 5, 9, 7, 3]",
            "shape": [5],
            "value": [2.0, 5.0, 9.0, 7.0, 3.0],
            "grad": [-28.0, -21.0, -12.0, -23.0, -36.0],
        },
        "b1": {
            "kind": "node",
            "expr": "w[0] * a1 + w[1] * a2",
            "shape": [],
            "value": 23.0,
            "grad": -7.0,
        },
        "b2": {"kind": "node", "expr": "w[2] * a1", "shape": [], "value": 36.0, "grad": -3.0},
        "c": {
            "kind": "node",
            "expr": "w[3] * b1 + w[4] * b2",
            "shape": [],
            "value": 269.0,
            "grad": -1.0,
        },
        "L": {"kind": "node", "expr": "15 - c", "shape": [], "value": -254.0, "grad": 1.0},
    },
    "warnings": [],
}
