"""A small trained CNN as the classifier of the two-sample test (see realism.py).

Hand-made statistics and random filters summarise a patch; a trained network learns
whatever tells the two sets apart. It needs torch, which the web and the procedural worker
do not install: `pip install torch==2.13.0` (the CPU build) into the venv to run it, else
the benchmark reports it as skipped. Used only by bench_realism.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FOLDS = 5  # leave-groups-out folds (each holds out ~1/5 of the recipes, both sides)
EPOCHS = 6
BATCH = 64
SEED = 0


def torch_missing() -> str | None:
    """Why the CNN cannot run here, or None."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return "torch is not installed (pip install torch==2.13.0)"
    return None


def cnn_c2st(
    patch_sets: Sequence[NDArray[np.float32]],
    labels: Sequence[int],
    groups: Sequence[int],
) -> float:
    """Held-out patch accuracy of a small CNN, leave-groups-out in FOLDS folds.

    `patch_sets[i]` are picture i's standardised (n, P, P, 3) patches, `labels[i]` its side
    and `groups[i]` its recipe: a recipe's render and photo are held out together.
    """
    import torch
    from torch import nn

    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    unique = sorted(set(groups))
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(unique))
    fold_of = {unique[j]: k % FOLDS for k, j in enumerate(order)}

    def net() -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(32, 1),
        )

    def stack(idx: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        x = np.concatenate([patch_sets[i] for i in idx]).transpose(0, 3, 1, 2)
        y = np.concatenate([np.full(len(patch_sets[i]), labels[i], np.float32) for i in idx])
        return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y)

    right = total = 0
    for fold in range(min(FOLDS, len(unique))):
        train = [i for i, g in enumerate(groups) if fold_of[g] != fold]
        test = [i for i, g in enumerate(groups) if fold_of[g] == fold]
        xtr, ytr = stack(train)
        xte, yte = stack(test)
        model = net()
        opt = torch.optim.Adam(model.parameters(), lr=2e-3)
        loss_fn = nn.BCEWithLogitsLoss()
        for _ in range(EPOCHS):
            perm = torch.randperm(len(xtr))
            for start in range(0, len(xtr), BATCH):
                b = perm[start : start + BATCH]
                xb = xtr[b]
                # Flips and quarter turns: orientation is not what tells the sets apart.
                if torch.rand(()) < 0.5:
                    xb = xb.flip(3)
                xb = torch.rot90(xb, int(torch.randint(0, 4, ())), dims=(2, 3))
                opt.zero_grad()
                loss = loss_fn(model(xb)[:, 0], ytr[b])
                loss.backward()
                opt.step()
        with torch.no_grad():
            guess = model(xte)[:, 0] > 0
        right += int((guess == yte.bool()).sum())
        total += len(yte)
    return right / max(total, 1)
