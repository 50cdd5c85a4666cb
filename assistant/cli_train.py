"""`facechat train-fvae --data DIR --out DIR --seed N`: train the Flow VAE on pair folders."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import replace
from pathlib import Path

from editor.errors import FacechatError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-fvae",
        help="train the Flow VAE on training-pair folders (python -m editor.geometry.pairs makes them)",
        description=(
            "Train the Flow VAE (flow model, then its confidence network, then the label directions) on "
            "one or more pair folders, keep the best epoch on the person-disjoint validation split, and "
            "write config.json, model.safetensors, labels.json, training_log.csv and training.json to OUT."
        ),
    )
    parser.add_argument("--data", action="append", required=True, type=Path, help="pair folder (repeatable)")
    parser.add_argument("--out", required=True, type=Path, help="checkpoint folder to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--paper-size", action="store_true", help="the paper's size (latent 4x4x1024; a GPU)")
    parser.add_argument("--width", type=int, default=None, help="channels of the first level (CPU size: 8)")
    parser.add_argument("--latent-channels", type=int, default=None, help="channels of Z (CPU size: 32)")
    parser.add_argument("--pixel-vae", action="store_true", help="train the rgb-decoding baseline instead")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--patience", type=int, default=None)
    parser.add_argument("--max-minutes", type=float, default=None, help="wall-clock budget of the flow stage")
    parser.add_argument("--mask-epochs", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None, help="Adam learning rate (the paper: 3e-4)")
    parser.add_argument(
        "--real-repeats", type=int, default=None, help="times each real pair is seen per epoch"
    )
    parser.add_argument(
        "--flow-supervision", type=float, default=None, help="weight of the synthetic ground-truth flow term"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default 1)")
    parser.add_argument(
        "--real-weight", type=float, default=None, help="weight of the real pairs' reconstruction term"
    )
    parser.add_argument(
        "--latent-injection",
        choices=("bottom", "every"),
        default=None,
        help="where Z enters the decoder (CPU size: every level; the paper: the bottom)",
    )
    parser.add_argument(
        "--encoder-input",
        choices=("target", "pair", "pair_difference"),
        default=None,
        help="what the encoder reads (the paper: target; CPU size: pair_difference)",
    )
    parser.add_argument(
        "--expression-supervision",
        type=float,
        default=None,
        help="weight of the training-only read-out of the synthetic pairs' blendshape change from Z",
    )
    parser.add_argument(
        "--kl-warmup-steps", type=int, default=None, help="steps over which the KL weight ramps up (0: none)"
    )
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        help="folder for the resumable training state (model, optimiser, position; keep it out of the repo)",
    )
    parser.add_argument("--resume", action="store_true", help="continue the run saved in --state")
    parser.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="start a new run from a Flow VAE folder's weights (e.g. editor/data/fvae), on new pairs",
    )
    parser.add_argument(
        "--finish-only",
        action="store_true",
        help="write a usable checkpoint (confidence network, labels) from --state's best epoch so far",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from editor.fvae.model import FVAEConfig
    from editor.fvae.train import TrainConfig, finish_from_state, train

    for folder in args.data:
        if not (folder / "manifest.jsonl").is_file():
            raise FacechatError(
                f"{folder} has no manifest.jsonl; make pairs first with "
                f"`python -m editor.geometry.pairs --data PHOTOS --out {folder}`."
            )
    model = FVAEConfig.paper() if args.paper_size else FVAEConfig.cpu()
    model_changes = {
        "base_channels": args.width,
        "latent_channels": args.latent_channels,
        "decoder_output": "rgb" if args.pixel_vae else None,
        "flow_supervision": args.flow_supervision,
        "latent_injection": args.latent_injection,
        "encoder_input": args.encoder_input,
    }
    model = replace(model, **{k: v for k, v in model_changes.items() if v is not None})
    train_changes = {
        "seed": args.seed,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "patience": args.patience,
        "max_minutes": args.max_minutes,
        "mask_epochs": args.mask_epochs,
        "lr": args.lr,
        "real_repeats": args.real_repeats,
        "threads": args.threads,
        "real_weight": args.real_weight,
        "expression_supervision": args.expression_supervision,
        "kl_warmup_steps": args.kl_warmup_steps,
    }
    config = replace(TrainConfig(), **{k: v for k, v in train_changes.items() if v is not None})
    if (args.resume or args.finish_only) and args.state is None:
        raise FacechatError("--resume and --finish-only need --state FOLDER (where the run saved its state).")
    if args.resume and args.init_from is not None:
        raise FacechatError("--resume continues a saved run; --init-from starts a new one: use one of them.")
    if args.finish_only:
        summary = finish_from_state(args.data, args.out, args.state, config=config)
    else:
        command = "facechat " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        summary = train(
            args.data,
            args.out,
            model_config=model,
            config=config,
            command=command,
            state_dir=args.state,
            resume=args.resume,
            init_from=args.init_from,
        )
    brief = {k: summary[k] for k in ("best_epoch", "stopped", "seconds", "parameters", "pairs")}
    sys.stdout.write(json.dumps(brief, indent=2) + "\n")
    return 0
