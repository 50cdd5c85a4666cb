"""Expression geometry: the ARKit blendshape basis in MediaPipe landmark space, FACS expression
prototypes as ARKit weight vectors, and the motion that turns both into target landmarks on a photo.

Build-time modules (`anny_render`, `build_basis`, `validate_basis`) need the optional `anny` package
(`pip install facechat[build]`); the runtime (`basis`, `prototypes`, `motion`) needs only numpy and the
shipped data files in `editor/data/`.
"""
