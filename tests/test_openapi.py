"""The committed OpenAPI document is the generated one, and every operation is fully described."""

import json
from pathlib import Path

from backend.cli import OPENAPI_PATH, openapi_document

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_WITHOUT_ERRORS = {"health", "getVapidPublicKey"}


def test_committed_document_is_current():
    committed = (ROOT / OPENAPI_PATH).read_text(encoding="utf-8")
    assert committed == openapi_document(), "openapi/openapi.json is stale: run `keng openapi` and commit it"


def test_every_operation_has_id_summary_tags_and_error_responses():
    document = json.loads(openapi_document())
    seen_ids = set()
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            assert op.get("operationId"), f"{where} has no operationId"
            assert op["operationId"] not in seen_ids, f"duplicate operationId {op['operationId']}"
            seen_ids.add(op["operationId"])
            assert op.get("summary"), f"{where} has no summary"
            assert op.get("tags"), f"{where} has no tags"
            if op["operationId"] in PUBLIC_WITHOUT_ERRORS:
                continue
            errors = [code for code in op["responses"] if code.startswith(("4", "5"))]
            assert errors, f"{where} documents no error response"
            for code in errors:
                schema = op["responses"][code]["content"]["application/json"]["schema"]
                assert schema, f"{where} {code} has no error schema"
