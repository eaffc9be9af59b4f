"""/api/v1/model: the shipped beat classifier's model card (`ml.classifier.read_card`), the
figures the /model page shows: version, classes, weights' SHA-256, data, results per
database, floors and limitations."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from portal.access import roles, scopes
from portal.api.core import Blueprint
from portal.models import Role

bp = Blueprint(
    "model", __name__, tag="Model",
    description="The ECG analysis model: what it is, what it was tested on, its limits.",
)  # fmt: skip


class ModelInfoSchema(ma.Schema):
    version = ma.fields.String(required=True, allow_none=True)
    classes = ma.fields.List(ma.fields.String(), required=True)
    weights_sha256 = ma.fields.String(required=True, allow_none=True)
    training = ma.fields.Raw(required=True, allow_none=True, metadata={"description": "data"})
    test = ma.fields.Raw(required=True, allow_none=True, metadata={"description": "data"})
    protocol = ma.fields.List(ma.fields.String(), required=True)
    figures = ma.fields.Dict(
        keys=ma.fields.String(), required=True,
        metadata={"description": "where -> metric -> value (fractions 0..1)"},
    )  # fmt: skip
    floors = ma.fields.List(ma.fields.Dict(keys=ma.fields.String()), required=True)
    ds2_metrics = ma.fields.Dict(keys=ma.fields.String(), required=True)
    limitations = ma.fields.List(ma.fields.String(), required=True)


@bp.route("/model", methods=["GET"])
@roles(*Role)
@scopes()
@bp.response(200, ModelInfoSchema)
def model_info() -> dict[str, Any]:
    """Read the model card.

    The beat classifier's version, data, results and limitations (as the /model page)."""
    from ml.classifier import read_card
    from ml.model_card import figure_rows

    card = read_card()
    data = card.get("data", {})
    ds2 = card.get("ds2_metrics", {})
    return {
        "version": card.get("version"),
        "classes": card.get("classes", []),
        "weights_sha256": card.get("weights_sha256"),
        "training": data.get("train"),
        "test": data.get("test"),
        "protocol": card.get("protocol", {}).get("rules", []),
        "figures": figure_rows(card),
        "floors": card.get("floors", []),
        "ds2_metrics": {k: v for k, v in ds2.items() if k in ("per_class", "accuracy")},
        "limitations": card.get("limitations", []),
    }
