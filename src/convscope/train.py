"""One training loop for every experiment: seeded, with a rich progress bar, on CPU or CUDA."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .data import Split


@dataclass
class Trained:
    model: nn.Module
    test_accuracy: float
    train_accuracy: float
    losses: list[float] = field(default_factory=list)


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray, device: torch.device, batch: int = 1000) -> float:
    model.eval()
    right = 0
    with torch.no_grad():
        for start in range(0, len(x), batch):
            logits = model(torch.from_numpy(x[start:start + batch]).to(device))
            right += int((logits.argmax(1).cpu().numpy() == y[start:start + batch]).sum())
    return right / max(1, len(x))


def predict(model: nn.Module, x: np.ndarray, device: torch.device) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(x).to(device)).argmax(1).cpu().numpy()


def train(build: Callable[[], nn.Module], data: Split, steps: int, seed: int = 0, lr: float = 1e-2, batch: int = 100,
          weight_decay: float = 0.0, device: torch.device | str = "cpu", progress: Callable[[int], None] | None = None
          ) -> Trained:
    """Adam on cross-entropy for ``steps`` minibatches; the model is built after seeding, so the
    same seed gives the same weights and the same batches."""
    device = torch.device(device)
    torch.manual_seed(seed)
    model = build().to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    x, y = torch.from_numpy(data.x_train).to(device), torch.from_numpy(data.y_train).to(device)
    losses = []
    for step in range(steps):
        model.train()
        index = torch.from_numpy(rng.integers(0, len(x), min(batch, len(x)))).to(device)
        loss = nn.functional.cross_entropy(model(x[index]), y[index])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
        if progress:
            progress(step + 1)
    return Trained(model, accuracy(model, data.x_test, data.y_test, device),
                   accuracy(model, data.x_train, data.y_train, device), losses)
