"""The completion stage: after a flow warp, fill in what a warp cannot produce.

Shared by every flow backend (the geometry backend now, the Flow VAE later): given the warped photo,
the flow and the landmarks before and after, `CompletionStage.complete` adds

- a real mouth interior where the lips part (`mouth_interior`, from the shipped `mouth_bank`),
- the shading of the expression's folds, bulges and wrinkles (`detail`: a real smile's ratio image,
  and furrows where the warp compresses skin),
- a lash line over eyes the warp closed (`eyelids`).
"""

from editor.completion.stage import Completion, CompletionConfig, CompletionStage

__all__ = ["Completion", "CompletionConfig", "CompletionStage"]
