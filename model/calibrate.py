"""Post-hoc calibration on held-out data: temperature (+ class bias) for probabilities, and a decision
bias that maximises AvgRec for labels. Pure tensor code, fitted on validation only."""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F


def fit_temperature(
    logits: torch.Tensor, labels: torch.Tensor, steps: int = 200
) -> tuple[float, list[float]]:
    """Temperature T and class bias b minimising the NLL of softmax(logits / T + b).

    The bias undoes the prior shift that class-weighted training puts into the logits."""
    logits, labels = logits.detach().float(), labels.long()
    log_t = torch.zeros(1, requires_grad=True)
    bias = torch.zeros(logits.size(1), requires_grad=True)
    opt = torch.optim.LBFGS([log_t, bias], lr=0.1, max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(logits / log_t.exp() + bias, labels)
        loss.backward()
        return loss

    opt.step(closure)
    b = bias.detach() - bias.detach().mean()
    return float(log_t.detach().exp()), [float(x) for x in b]


def avgrec_of(pred: torch.Tensor, labels: torch.Tensor, k: int = 3) -> float:
    recalls = [(pred[labels == c] == c).float().mean().item() for c in range(k) if (labels == c).any()]
    return sum(recalls) / k


def fit_decision_bias(
    log_probs: torch.Tensor, labels: torch.Tensor, span: float = 2.0, step: float = 0.05
) -> list[float]:
    """Per-class offsets (neutral fixed at 0) added to calibrated log-probabilities before argmax,
    chosen by grid search to maximise AvgRec on the held-out set. Ties prefer small offsets."""
    grid = torch.arange(-span, span + 1e-9, step)
    best, best_key = [0.0, 0.0, 0.0], (-1.0, 0.0)
    onehot = F.one_hot(labels.long(), log_probs.size(1)).bool()
    counts = onehot.sum(0).clamp(min=1)
    for dn, dp in itertools.product(grid.tolist(), grid.tolist()):
        offs = torch.tensor([dn, 0.0, dp])
        pred = (log_probs + offs).argmax(1)
        hit = (F.one_hot(pred, log_probs.size(1)).bool() & onehot).sum(0)
        score = (hit / counts).mean().item()
        key = (round(score, 6), -(abs(dn) + abs(dp)))
        if key > best_key:
            best, best_key = [dn, 0.0, dp], key
    return best


def calibrated(
    logits: torch.Tensor, temperature: float, bias: list[float], decision: list[float]
) -> tuple[torch.Tensor, torch.Tensor]:
    """(probabilities, predicted class ids) from raw logits and fitted calibration."""
    log_probs = F.log_softmax(logits / temperature + torch.tensor(bias, dtype=logits.dtype), dim=1)
    pred = (log_probs + torch.tensor(decision, dtype=logits.dtype)).argmax(1)
    return log_probs.exp(), pred
