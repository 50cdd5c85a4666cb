"""Expression transfer: copy the expression of a reference photo onto the face being edited.

`reference_request` measures a reference photo into an ordinary `EditRequest` (attribute
``"reference"``); the geometry backend renders it with `transfer_weights`. See `editor.transfer.measure`
for how an expression is read relative to an estimate of the person's neutral face.
"""

from editor.transfer.measure import measure_expression
from editor.transfer.reference import reference_face, reference_request, transfer_weights

__all__ = ["measure_expression", "reference_face", "reference_request", "transfer_weights"]
