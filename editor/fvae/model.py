"""The Flow Variational Autoencoder (FVAE) of Yeh, Liu, Goldman & Agarwala, "Semantic Facial Expression
Editing using Autoencoded Flow" (arXiv 1611.09961), in one file.

Given a source face S and a target face T (aligned crops of the same person):

- the encoder f(T) -> (mu, sigma) describes the target in a small spatial latent (4 x 4 x C); training
  samples Z = mu + sigma * eps (the reparameterisation trick), inference uses mu. ``encoder_input="pair"``
  (the CPU-sized default) lets the encoder see the source too, f(S, T): with f(T) alone the latent must
  encode the target's absolute geometry to about a pixel for the decoder to compare it with S, a lot to
  ask of a small network trained for half an hour on a CPU, while the change from S to T is right there
  in the pair. This is a reasoned choice, not a measured one (two-epoch trials of both here had not yet
  learnt to use Z). Z(S) is then f(S, S), "no change", and Algorithm 1 is unchanged;
  ``encoder_input="target"`` is the paper's f(T) (the paper's size uses it);
- the decoder g(S, Z) -> F reads S (through a source encoder whose features it receives at every scale)
  and Z, and outputs a dense BACKWARD flow F in normalised grid_sample coordinates (tanh-bounded), which
  warps S by differentiable bilinear sampling: T_hat = S(p + F(p)) (editor/flow.py's convention);
- the confidence network M(S, Z) -> [0, 1] per pixel says where T_hat can be trusted; it is trained
  afterwards, with the flow model frozen, on the soft labels y = exp(-||T - T_hat||^2 / beta) with
  per-pixel cross-entropy.

Loss of the flow model: L2 reconstruction ||T - T_hat||^2 + lambda1 * KL(q(Z|T) || N(0, I)) + lambda2 *
flow coherence, the last summing ||F(p) - F(q)||^2 over every q in p's 7x7 neighbourhood weighted by the
target's colour similarity exp(-||T(p) - T(q)||^2 / (2 sigma_c^2)) (flow may change only at edges).
All three are sums over pixels / latent units, averaged over the batch, as in the paper's weighting.

``decoder_output="rgb"`` builds the pixel-VAE baseline of the same architecture (the decoder paints T
directly instead of predicting a flow), for the paper's Table 1 comparison.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from editor.errors import ModelFileError
from editor.flow import warp_image_torch

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


#: What the encoder reads (FVAEConfig.encoder_input).
ENCODER_INPUTS = ("target", "pair", "pair_difference")
#: Gain on T - S for the "pair_difference" encoder: a synthetic pair's difference is a few hundredths of
#: the 0..1 range (a 1-pixel shift of soft edges), this brings it to the scale of the images themselves.
DIFFERENCE_GAIN = 8.0


@dataclass(frozen=True)
class FVAEConfig:
    """Architecture and loss settings; saved as config.json next to the weights."""

    image_size: int = 128  # side of the aligned crops (editor.alignment.align_face, EDIT_EXPAND framing)
    latent_size: int = 4  # side of the spatial latent Z (the paper: 4 x 4)
    latent_channels: int = 32  # channels of Z (the paper: 1024; this CPU-sized default: 32)
    base_channels: int = 8  # channels after the first down-sampling; doubled at each level below
    max_channels: int = 128  # cap on the channels of any level (the paper's size: 512)
    mask_channels: int = 4  # width of the confidence network's decoder at its finest level (doubles down)
    flow_stride: int = 2  # g and M predict at image_size / flow_stride, upsampled bilinearly (1 or 2)
    flow_scale: float = 0.25  # tanh output times this = flow in normalised units (0.25 = 1/8 of the crop)
    decoder_output: str = "flow"  # "flow": the FVAE; "rgb": the pixel-VAE baseline of the same shape
    encoder_input: str = "pair"  # "target": the paper's f(T); "pair": f(S, T) (see the module docstring);
    #   "pair_difference": f(S, T, DIFFERENCE_GAIN * (T - S)), the pair with its difference at unit scale
    latent_injection: str = "bottom"  # "bottom": Z enters the decoder at 4 x 4 only (the paper);
    #   "every": Z is also concatenated (upsampled) at every finer decoder level (see editor/data/fvae/README)
    kl_weight: float = 0.003  # lambda1, the paper's weight of the KL prior
    coherence_weight: float = 0.001  # lambda2, the paper's weight of the flow coherence term
    coherence_window: int = 7  # side of the neighbourhood of the coherence term (the paper: 7 x 7)
    flow_supervision: float = 0.01  # weight of the squared error (crop pixels, summed) to the synthetic
    #   pairs' ground-truth flow. NOT in the paper (0 restores its loss): on the CPU budget the paper's
    #   loss alone left Z unused (KL 0.07 nats, validation no better than the identity warp after one
    #   epoch); the generator's exact flows teach the encoder what motion is in a few hundred steps.
    coherence_sigma: float = 0.1  # colour-similarity scale sigma_c of the coherence weights (RGB in 0..1)
    mask_beta: float = 0.01  # beta of the confidence soft labels exp(-||T - T_hat||^2 / beta), RGB in 0..1

    def __post_init__(self) -> None:
        levels = math.log2(self.image_size / self.latent_size)
        assert levels.is_integer() and levels >= 1, (
            f"image_size / latent_size must be a power of two, got {self.image_size} / {self.latent_size}."
        )
        assert self.decoder_output in ("flow", "rgb"), (
            f"decoder_output must be 'flow' or 'rgb', got {self.decoder_output!r}."
        )
        assert self.coherence_window % 2 == 1, "coherence_window must be odd."
        assert self.encoder_input in ENCODER_INPUTS, (
            f"encoder_input must be one of {ENCODER_INPUTS}, got {self.encoder_input!r}."
        )
        assert self.flow_stride in (1, 2), f"flow_stride must be 1 or 2, got {self.flow_stride}."
        assert self.latent_injection in ("bottom", "every"), (
            f"latent_injection must be 'bottom' or 'every', got {self.latent_injection!r}."
        )

    @property
    def levels(self) -> int:
        """Number of stride-2 stages from image_size down to latent_size (5 for 128 -> 4)."""
        return int(math.log2(self.image_size // self.latent_size))

    def widths(self, base: int | None = None) -> list[int]:
        """Channels of each level, finest first (e.g. 16, 32, 64, 128, 128)."""
        base = base or self.base_channels
        return [min(base * 2**i, self.max_channels) for i in range(self.levels)]

    @classmethod
    def paper(cls) -> FVAEConfig:
        """The paper's size: latent 4 x 4 x 1024 at 128 x 128 (needs a GPU to train)."""
        return cls(
            latent_channels=1024,
            base_channels=64,
            max_channels=512,
            mask_channels=32,
            encoder_input="target",
            flow_supervision=0.0,
        )

    @classmethod
    def cpu(cls) -> FVAEConfig:
        """The shipped checkpoint's configuration: the CPU size, with three deviations from the paper that
        the diagnostic runs (editor/data/fvae/README.md) showed it needs on a CPU budget: the encoder reads
        the pair and its difference (f(S, T, T - S)), Z also enters every decoder level, and the synthetic
        pairs' known flows supervise the flow (weight 0.1). (The He initialisation, `_he_init`, is not a
        deviation: every configuration uses it.)"""
        return cls(encoder_input="pair_difference", latent_injection="every", flow_supervision=0.1)


@dataclass
class FVAEOutput:
    """One forward pass.

    Attributes:
        flow: (B, 2, H, W) backward flow in normalised units (None for the rgb baseline).
        prediction: (B, 3, H, W) T_hat in 0..1 (S warped by the flow, or the rgb decoder's image).
        mu, logvar: (B, C, h, w) the posterior's mean and log-variance.
        z: (B, C, h, w) the latent the decoder used.
        native_flow: (B, 2, H / flow_stride, W / flow_stride) the flow as the decoder predicted it.
    """

    flow: torch.Tensor | None
    prediction: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor
    z: torch.Tensor
    native_flow: torch.Tensor | None = None


def _he_init(conv: nn.Conv2d) -> None:
    """He (Kaiming) normal weights for LeakyReLU(0.2), zero biases.

    PyTorch's default (uniform, variance 1 / (3 fan_in)) shrinks the signal about 2.5x per convolution;
    through the ten of the pair encoder its output hardly depended on its input (at initialisation mu
    changed by 3e-6 between two different targets of one source, against 0.05 of reparameterisation noise),
    so the decoder learnt to ignore Z and the encoder got no gradient: the flat full-data runs. With He
    weights the same change is 0.035 (editor/data/fvae/README.md, diagnostics).
    """
    nn.init.kaiming_normal_(conv.weight, a=0.2, nonlinearity="leaky_relu")
    nn.init.zeros_(conv.bias)


def _block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.LeakyReLU(0.2, inplace=True))


class Encoder(nn.Module):
    """Image (B, 3, H, W) in 0..1 -> features at every level, finest (H/2) first, coarsest (latent) last."""

    def __init__(self, widths: list[int], in_channels: int = 3, *, difference: bool = False) -> None:
        super().__init__()
        self.difference = difference  # a pair (6 channels) also gets DIFFERENCE_GAIN * (T - S)
        channels = [in_channels + (3 if difference else 0), *widths]
        self.stages = nn.ModuleList(
            nn.Sequential(_block(channels[i], channels[i + 1], 2), _block(channels[i + 1], channels[i + 1]))
            for i in range(len(widths))
        )

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        x = image * 2 - 1  # (B, 3 or 6, H, W) in -1..1
        if self.difference:  # the pair (S, T) and its difference at unit scale
            x = torch.cat([x, DIFFERENCE_GAIN * (image[:, 3:] - image[:, :3])], dim=1)  # (B, 9, H, W)
        features = []
        for stage in self.stages:
            x = stage(x)  # (B, C_i, H / 2^(i+1), W / 2^(i+1))
            features.append(x)
        return features


class Decoder(nn.Module):
    """(Z, source features) -> a map with ``out_channels`` channels at H / 2^``out_level`` (pre-activation).

    Starts at the latent resolution from concat(Z, coarsest source features) and at each finer level
    upsamples x2 and mixes in the source features of that level (U-Net style skips from S only: what the
    target looks like can only come through Z). ``out_level`` 1 stops at half resolution (the flow and
    the confidence are smooth and are upsampled bilinearly; the full-resolution stage would cost more
    than the rest of the network on a CPU), 0 goes to full resolution (the rgb baseline).
    ``inject_latent`` also concatenates Z (bilinearly upsampled) at every finer level, so it reaches the
    output through a short path and not only through the coarsest block (see FVAEConfig.latent_injection).
    """

    def __init__(
        self,
        latent_channels: int,
        source_widths: list[int],
        widths: list[int],
        out_channels: int,
        out_level: int,
        inject_latent: bool = False,
    ) -> None:
        super().__init__()
        levels = len(widths)
        self.out_level = out_level
        self.inject_latent = inject_latent
        extra = latent_channels if inject_latent else 0
        self.inlet = _block(latent_channels + source_widths[-1], widths[-1])
        self.ups = nn.ModuleList()
        for i in reversed(range(out_level, levels)):  # from the coarsest level up to the output level
            cin = widths[i] + (source_widths[i - 1] if i > 0 else 3) + extra
            cout = widths[i - 1] if i > 0 else widths[0]
            self.ups.append(nn.Sequential(_block(cin, cout), _block(cout, cout)))
        self.outlet = nn.Conv2d(widths[max(out_level - 1, 0)], out_channels, 3, padding=1)

    def forward(self, z: torch.Tensor, source: torch.Tensor, features: list[torch.Tensor]) -> torch.Tensor:
        x = self.inlet(torch.cat([z, features[-1]], dim=1))  # (B, W_L, h, w) at the latent resolution
        skips = [source * 2 - 1, *features[:-1]][self.out_level :]  # finest used first
        for up, skip in zip(self.ups, reversed(skips), strict=True):
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)  # (B, C, 2h, 2w)
            parts = [x, skip]
            if self.inject_latent:  # Z again at this level: (B, C_z, 2h, 2w)
                parts.append(F.interpolate(z, size=x.shape[-2:], mode="bilinear", align_corners=False))
            x = up(torch.cat(parts, dim=1))
        return self.outlet(x)  # (B, out_channels, H / 2^out_level, W / 2^out_level)


def _upsample(x: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize of a (B, C, h, w) map to (B, C, size, size); normalised flows keep their values."""
    if x.shape[-1] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


class FlowVAE(nn.Module):
    """The FVAE: encoder f(T), decoder g(S, Z) -> flow, confidence network M(S, Z). See the module doc."""

    def __init__(self, config: FVAEConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or FVAEConfig()
        widths = config.widths()
        self.target_encoder = Encoder(
            widths,
            3 if config.encoder_input == "target" else 6,
            difference=config.encoder_input == "pair_difference",
        )  # f(T) or f(S, T)
        self.to_posterior = nn.Conv2d(widths[-1], 2 * config.latent_channels, 1)  # -> (mu, logvar)
        self.source_encoder = Encoder(widths)  # features of S for g and M
        flow = config.decoder_output == "flow"
        out_level = int(math.log2(config.flow_stride)) if flow else 0
        every = config.latent_injection == "every"
        self.decoder = Decoder(
            config.latent_channels, widths, widths, 2 if flow else 3, out_level, every
        )  # g(S, Z)
        mask_widths = config.widths(config.mask_channels)
        self.mask_decoder = Decoder(
            config.latent_channels, widths, mask_widths, 1, int(math.log2(config.flow_stride)), every
        )
        for module in self.modules():  # He initialisation for the LeakyReLU convolutions (see _he_init)
            if isinstance(module, nn.Conv2d):
                _he_init(module)
        with torch.no_grad():  # start nearly deterministic (sigma = 0.05): with sigma = 1 at first the
            # decoder sees mostly noise in Z and learns to ignore it (KL fell to 0.05 nats in a trial)
            self.to_posterior.bias[config.latent_channels :].fill_(-6.0)
        if flow:  # start from the identity warp (flow 0): random initial flows cost epochs to unlearn
            nn.init.zeros_(self.decoder.outlet.weight)
            nn.init.zeros_(self.decoder.outlet.bias)

    # ------------------------------------------------------------------ the paper's stages

    def encode(
        self, target: torch.Tensor, source: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """f(T), or f(S, T) when encoder_input is "pair": (B, 3, H, W) in 0..1 -> mu, logvar (B, C, h, w)."""
        self._check(target)
        image = target
        if self.config.encoder_input != "target":
            assert source is not None, "This model's encoder reads the pair: pass the source too."
            self._check(source)
            image = torch.cat([source, target], dim=1)  # (B, 6, H, W)
        features = self.target_encoder(image)[-1]  # (B, W_L, h, w)
        mu, logvar = self.to_posterior(features).chunk(2, dim=1)  # (B, C, h, w) each
        return mu, logvar.clamp(-12.0, 8.0)

    def source_latent(self, source: torch.Tensor) -> torch.Tensor:
        """Z(S) of Algorithm 1: mu of f(S), or of f(S, S) ("no change") for a pair encoder. (B, C, h, w)."""
        return self.encode(source, source)[0]

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """Z = mu + sigma * eps, eps ~ N(0, I): differentiable in mu and logvar."""
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    def source_features(self, source: torch.Tensor) -> list[torch.Tensor]:
        """The source encoder's features of S (compute once, reuse for g and M)."""
        self._check(source)
        return self.source_encoder(source)

    def decode_flow(
        self,
        source: torch.Tensor,
        z: torch.Tensor,
        features: list[torch.Tensor] | None = None,
        *,
        native: bool = False,
    ) -> torch.Tensor:
        """g(S, Z): (B, 2, H, W) backward flow in normalised units, |F| < flow_scale.

        ``native`` returns it at the decoder's own resolution (H / flow_stride) before upsampling.
        """
        assert self.config.decoder_output == "flow", "The rgb baseline decodes images: use decode_rgb."
        features = features if features is not None else self.source_features(source)
        flow = self.config.flow_scale * torch.tanh(self.decoder(z, source, features))  # (B, 2, H/s, W/s)
        return flow if native else _upsample(flow, self.config.image_size)  # (B, 2, H, W)

    def decode_rgb(
        self, source: torch.Tensor, z: torch.Tensor, features: list[torch.Tensor] | None = None
    ) -> torch.Tensor:
        """The pixel-VAE baseline's decoder: (B, 3, H, W) image in 0..1."""
        assert self.config.decoder_output == "rgb", "This model decodes flows: use decode_flow."
        features = features if features is not None else self.source_features(source)
        return torch.sigmoid(self.decoder(z, source, features))  # (B, 3, H, W)

    @staticmethod
    def warp(source: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        """Bilinear backward warp: (B, C, H, W) image, (B, 2, H, W) normalised flow -> (B, C, H, W)."""
        height, width = source.shape[-2:]
        to_pixels = torch.tensor([width / 2.0, height / 2.0], dtype=flow.dtype, device=flow.device)
        return warp_image_torch(source, flow * to_pixels.view(1, 2, 1, 1))  # (B, C, H, W)

    def confidence_logits(
        self, source: torch.Tensor, z: torch.Tensor, features: list[torch.Tensor] | None = None
    ) -> torch.Tensor:
        """M(S, Z) before the sigmoid: (B, 1, H, W)."""
        features = features if features is not None else self.source_features(source)
        return _upsample(self.mask_decoder(z, source, features), self.config.image_size)  # (B, 1, H, W)

    def confidence(self, source: torch.Tensor, z: torch.Tensor, features=None) -> torch.Tensor:
        """M(S, Z): (B, 1, H, W) confidence in 0..1 that the warped source is right there."""
        return torch.sigmoid(self.confidence_logits(source, z, features))

    def forward(self, source: torch.Tensor, target: torch.Tensor, *, sample: bool = True) -> FVAEOutput:
        """Reconstruct T from S through Z(T): sampled when ``sample`` (training), the mean otherwise."""
        mu, logvar = self.encode(target, source)  # (B, C, h, w) each
        z = self.reparameterize(mu, logvar) if sample else mu
        features = self.source_features(source)
        if self.config.decoder_output == "rgb":
            return FVAEOutput(None, self.decode_rgb(source, z, features), mu, logvar, z)
        native = self.decode_flow(source, z, features, native=True)  # (B, 2, H / s, W / s)
        flow = _upsample(native, self.config.image_size)  # (B, 2, H, W)
        return FVAEOutput(flow, self.warp(source, flow), mu, logvar, z, native)

    # ------------------------------------------------------------------ losses

    def losses(
        self,
        source: torch.Tensor,
        target: torch.Tensor,
        flow: torch.Tensor | None = None,
        has_flow: torch.Tensor | None = None,
        weight: torch.Tensor | None = None,
        *,
        kl_scale: float = 1.0,
        return_output: bool = False,
    ) -> dict[str, torch.Tensor] | tuple[dict[str, torch.Tensor], FVAEOutput]:
        """The training loss of the flow model and its terms (per-sample sums, batch means).

        ``flow`` (B, 2, H, W) normalised ground truth where ``has_flow`` (B,) is True (synthetic pairs)
        adds ``flow_supervision`` times its squared error in crop pixels (not in the paper; see the config).
        ``weight`` (B,) scales each pair's reconstruction term (default 1); ``kl_scale`` the KL weight (a
        warm-up). ``return_output`` also returns the forward pass (for auxiliary terms on the latent).
        """
        out = self(source, target, sample=True)
        config = self.config
        per_pair = (out.prediction - target).pow(2).flatten(1).sum(1)  # (B,)
        reconstruction = (per_pair * weight).mean() if weight is not None else per_pair.mean()
        kl = kl_divergence(out.mu, out.logvar)
        total = reconstruction + kl_scale * config.kl_weight * kl
        terms = {"reconstruction": reconstruction, "kl": kl}
        if out.flow is not None and config.coherence_weight > 0:
            coherence = flow_coherence(
                out.native_flow, target, config.coherence_window, config.coherence_sigma
            )
            total = total + config.coherence_weight * coherence
            terms["coherence"] = coherence
        if out.flow is not None and flow is not None and config.flow_supervision > 0:
            known = has_flow.float() if has_flow is not None else torch.ones(len(flow))  # (B,)
            pixels = (out.flow - flow) * (config.image_size / 2)  # (B, 2, H, W) error in crop pixels
            supervision = (pixels.pow(2).flatten(1).sum(1) * known).mean()
            total = total + config.flow_supervision * supervision
            terms["flow_supervision"] = supervision
        terms["loss"] = total
        return (terms, out) if return_output else terms

    def soft_labels(
        self, source: torch.Tensor, target: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """Confidence targets y = exp(-||T - T_hat||^2 / beta) with T_hat from Z = mu(T): (B, 1, H, W),
        that Z (B, C, h, w) and the source features. No gradient: the flow model is frozen while M trains."""
        with torch.no_grad():
            mu, _ = self.encode(target, source)  # (B, C, h, w)
            features = self.source_features(source)
            flow = self.decode_flow(source, mu, features)  # (B, 2, H, W)
            error = (self.warp(source, flow) - target).pow(2).sum(1, keepdim=True)  # (B, 1, H, W)
            return torch.exp(-error / self.config.mask_beta), mu, features

    def mask_loss(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Per-pixel binary cross-entropy of M(S, Z(T)) against the soft labels (mean over pixels)."""
        labels, z, features = self.soft_labels(source, target)
        logits = self.confidence_logits(source, z, features)  # (B, 1, H, W)
        return F.binary_cross_entropy_with_logits(logits, labels)

    def mask_parameters(self) -> list[nn.Parameter]:
        """What trains in the confidence stage (everything else stays frozen)."""
        return list(self.mask_decoder.parameters())

    # ------------------------------------------------------------------ files

    def save_pretrained(self, folder: str | Path) -> Path:
        """Write config.json + model.safetensors into ``folder`` (created if needed).

        The weights are written atomically with the umask's ordinary mode (safetensors' own writer
        leaves them 0600).
        """
        from safetensors.torch import save

        from editor.images import save_bytes

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG_FILE).write_text(json.dumps(asdict(self.config), indent=2) + "\n")
        state = {name: tensor.detach().cpu().contiguous() for name, tensor in self.state_dict().items()}
        save_bytes(save(state, metadata={"format": "pt", "model": "FlowVAE"}), folder / WEIGHTS_FILE)
        return folder

    @classmethod
    def from_pretrained(cls, folder: str | Path, *, device: str | torch.device = "cpu") -> FlowVAE:
        """Load a model saved by `save_pretrained`; eval mode, on ``device`` (CPU by default)."""
        from safetensors.torch import load_file

        folder = Path(folder)
        for name, what in ((CONFIG_FILE, "the model's settings"), (WEIGHTS_FILE, "its weights")):
            if not (folder / name).is_file():
                raise ModelFileError(
                    f"{folder / name} is missing: a Flow VAE folder needs {CONFIG_FILE} and {WEIGHTS_FILE} "
                    f"({what}); train one with `facechat train-fvae` or reinstall facechat."
                )
        raw = json.loads((folder / CONFIG_FILE).read_text())
        known = {f.name for f in fields(FVAEConfig)}
        config = FVAEConfig(**{k: v for k, v in raw.items() if k in known})
        model = cls(config)
        model.load_state_dict(load_file(str(folder / WEIGHTS_FILE), device=str(device)))
        return model.to(device).eval()

    def _check(self, image: torch.Tensor) -> None:
        size = self.config.image_size
        assert image.ndim == 4 and image.shape[1:] == (3, size, size), (
            f"Expected (B, 3, {size}, {size}) images in 0..1, got {tuple(image.shape)}."
        )


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, 1)) summed over the latent, averaged over the batch."""
    return (0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)).flatten(1).sum(1).mean()


def flow_coherence(
    flow: torch.Tensor, target: torch.Tensor, window: int = 7, sigma: float = 0.1
) -> torch.Tensor:
    """The paper's coherence term: sum over p, q in p's window of w_pq ||F(p) - F(q)||^2, batch mean.

    Args:
        flow: (B, 2, h, w) normalised flow at the decoder's resolution (the upsampled field is its bilinear
            interpolation, so its coherence is decided there; 4x cheaper than at full resolution);
            measured in pixels of that resolution here (x w/2, h/2) so the weight is size-independent.
        target: (B, 3, H, W) in 0..1, average-pooled to (h, w); w_pq = exp(-||T(p) - T(q)||^2 / (2 sigma^2)).
    Each unordered pair counts once (half the window's offsets; the other half are the same pairs).
    """
    height, width = flow.shape[-2:]
    if target.shape[-2:] != flow.shape[-2:]:
        target = F.adaptive_avg_pool2d(target, (height, width))  # (B, 3, h, w)
    pixels = flow * torch.tensor([width / 2.0, height / 2.0], dtype=flow.dtype, device=flow.device).view(
        1, 2, 1, 1
    )  # (B, 2, H, W)
    radius = window // 2
    total = flow.new_zeros(())
    for dy in range(0, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy == 0 and dx <= 0:
                continue  # each unordered pair once
            ys, yd = slice(0, height - dy), slice(dy, height)
            xs, xd = (
                (slice(0, width - dx), slice(dx, width))
                if dx >= 0
                else (slice(-dx, width), slice(0, width + dx))
            )
            colour = (target[..., ys, xs] - target[..., yd, xd]).pow(2).sum(1)  # (B, H', W')
            weight = torch.exp(-colour / (2 * sigma**2))
            motion = (pixels[..., ys, xs] - pixels[..., yd, xd]).pow(2).sum(1)  # (B, H', W')
            total = total + (weight * motion).flatten(1).sum(1).mean()
    return total


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (the checkpoint is 4 bytes each in float32)."""
    return sum(p.numel() for p in model.parameters())
