"""The networks: an RNN encoder shared by a language model and a 3-class classifier, and their
optimizer parameter groups (discriminative learning rates, gradual unfreezing)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from model.lexicon import valence_features

N_LEXICON_FEATURES = 4

# What an RNN layer returns: its outputs and its last state ((h, c) for an LSTM, h for a GRU).
RnnResult = tuple[PackedSequence, torch.Tensor | tuple[torch.Tensor, torch.Tensor]]


@dataclass
class NetConfig:
    """Everything needed to rebuild the network; stored in every checkpoint."""

    vocab_size: int
    emb_dim: int = 200
    hidden: int = 256
    layers: int = 1
    cell: str = "lstm"  # "lstm" or "gru"
    bidirectional: bool = False  # classifier only: a language model must not see the next word
    emb_dropout: float = 0.1  # drops whole word vectors (same word dropped everywhere in a batch)
    input_dropout: float = 0.25  # variational (locked) dropout on the embeddings
    weight_dropout: float = 0.3  # DropConnect on the hidden-to-hidden matrices
    hidden_dropout: float = 0.2  # variational dropout between RNN layers
    output_dropout: float = 0.3  # dropout before the LM decoder / classifier head
    n_classes: int = 3
    lexicon: bool = False  # classifier head also sees VADER-lexicon valence features of the tokens
    lm_cutoffs: list[int] = field(default_factory=lambda: [2000, 8000])

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> NetConfig:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})


def locked_dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Variational dropout: one mask per sequence, shared over time steps (x is B×T×D)."""
    if not training or p <= 0:
        return x
    mask = x.new_empty(x.size(0), 1, x.size(2)).bernoulli_(1 - p) / (1 - p)
    return x * mask


class Encoder(nn.Module):
    """Embedding → stacked single-layer RNNs with weight, embedding and variational dropout."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.emb_dim, padding_idx=0)
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        rnn_cls = {"lstm": nn.LSTM, "gru": nn.GRU}[cfg.cell]
        sizes = [cfg.emb_dim] + [cfg.hidden * self.directions] * cfg.layers
        self.rnns = nn.ModuleList(
            rnn_cls(sizes[i], cfg.hidden, batch_first=True, bidirectional=cfg.bidirectional)
            for i in range(cfg.layers)
        )

    @property
    def directions(self) -> int:
        return 2 if self.cfg.bidirectional else 1

    @property
    def width(self) -> int:
        """Size of each output step and of the last state: hidden per direction × directions."""
        return self.cfg.hidden * self.directions

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        weight = self.embedding.weight
        p = self.cfg.emb_dropout
        if self.training and p > 0:
            mask = weight.new_empty(weight.size(0), 1).bernoulli_(1 - p) / (1 - p)
            weight = weight * mask
        return F.embedding(ids, weight, padding_idx=0)

    def _run_rnn(self, rnn: nn.Module, packed: PackedSequence) -> RnnResult:
        p = self.cfg.weight_dropout
        if self.training and p > 0:
            names = ["weight_hh_l0", "weight_hh_l0_reverse"][: self.directions]
            dropped = {n: F.dropout(rnn.get_parameter(n), p, True) for n in names}
            return functional_call(rnn, dropped, (packed,))
        return rnn(packed)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """ids B×T (0 = pad), lengths B (≥1) → outputs B×T×W (zeros at pads), last states B×W (W =
        ``width``; a bidirectional layer's last state is the forward one's end and the backward one's
        start)."""
        x = locked_dropout(self.embed(ids), self.cfg.input_dropout, self.training)
        total = ids.size(1)
        last: torch.Tensor | None = None
        for i, rnn in enumerate(self.rnns):
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, state = self._run_rnn(rnn, packed)
            x, _ = pad_packed_sequence(out, batch_first=True, total_length=total)
            h = state[0] if isinstance(state, tuple) else state
            last = torch.cat(list(h[-self.directions :]), dim=1)
            if i < len(self.rnns) - 1:
                x = locked_dropout(x, self.cfg.hidden_dropout, self.training)
        assert last is not None, "an encoder has at least one RNN layer"
        return x, last


def concat_pool(out: torch.Tensor, last: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """[last state, max over time, mean over time] of the real (non-pad) steps → B×3H."""
    steps = torch.arange(out.size(1), device=out.device)[None, :]
    valid = (steps < lengths.to(out.device)[:, None]).unsqueeze(-1)
    maxed = out.masked_fill(~valid, float("-inf")).amax(dim=1)
    mean = out.sum(dim=1) / lengths.to(out.device, out.dtype)[:, None]
    return torch.cat([last, maxed, mean], dim=1)


class SentimentNet(nn.Module):
    """Encoder → concat pooling → dropout → linear → class logits (no softmax: the loss owns it)."""

    valence: torch.Tensor  # a buffer, only when cfg.lexicon

    def __init__(self, cfg: NetConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        extra = N_LEXICON_FEATURES if cfg.lexicon else 0
        if cfg.lexicon:  # filled from the lexicon when the model is created, then saved with the weights
            self.register_buffer("valence", torch.zeros(cfg.vocab_size))
        self.head = nn.Linear(3 * self.encoder.width + extra, cfg.n_classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        out, last = self.encoder(ids, lengths)
        pooled = F.dropout(concat_pool(out, last, lengths), self.cfg.output_dropout, self.training)
        if self.cfg.lexicon:
            pooled = torch.cat([pooled, valence_features(self.valence, ids)], dim=1)
        return self.head(pooled)

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """Bottom-to-top groups: embedding, each RNN layer, head."""
        enc = self.encoder
        return (
            [list(enc.embedding.parameters())]
            + [list(r.parameters()) for r in enc.rnns]
            + [list(self.head.parameters())]
        )


class LanguageModel(nn.Module):
    """Encoder → next-token prediction with an adaptive softmax (cheap on a CPU with a big vocab)."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        if cfg.bidirectional:
            raise ValueError(
                "a language model reads left to right: a bidirectional one sees the word it predicts"
            )
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        cutoffs = [c for c in cfg.lm_cutoffs if c < cfg.vocab_size - 1]
        self.decoder: nn.AdaptiveLogSoftmaxWithLoss | nn.Linear
        if cutoffs:
            self.decoder = nn.AdaptiveLogSoftmaxWithLoss(cfg.hidden, cfg.vocab_size, cutoffs, div_value=4.0)
        else:
            self.decoder = nn.Linear(cfg.hidden, cfg.vocab_size)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Mean next-token negative log-likelihood of sequences framed by BOS … EOS."""
        inputs, targets = ids[:, :-1], ids[:, 1:]
        out, _ = self.encoder(inputs, (lengths - 1).clamp(min=1))
        out = F.dropout(out, self.cfg.output_dropout, self.training)
        keep = targets != 0
        hidden, gold = out[keep], targets[keep]
        if isinstance(self.decoder, nn.AdaptiveLogSoftmaxWithLoss):
            return self.decoder(hidden, gold).loss
        return F.cross_entropy(self.decoder(hidden), gold)

    def layer_groups(self) -> list[list[nn.Parameter]]:
        enc = self.encoder
        return (
            [list(enc.embedding.parameters())]
            + [list(r.parameters()) for r in enc.rnns]
            + [list(self.decoder.parameters())]
        )


def param_groups(
    model: SentimentNet | LanguageModel, lr: float, decay: float = 2.6, weight_decay: float = 0.01
) -> list[dict]:
    """Discriminative learning rates: each group below the top gets lr / decay**depth.

    Biases and the embedding get no weight decay (decaying rare-word vectors to zero hurts)."""
    groups = model.layer_groups()
    out = []
    for depth, params in enumerate(reversed(groups)):
        group_lr = lr / decay**depth
        decayed = [p for p in params if p.dim() >= 2 and p is not model.encoder.embedding.weight]
        plain = [p for p in params if not (p.dim() >= 2 and p is not model.encoder.embedding.weight)]
        out.append({"params": decayed, "lr": group_lr, "weight_decay": weight_decay})
        out.append({"params": plain, "lr": group_lr, "weight_decay": 0.0})
    return [g for g in out if g["params"]]


def unfreeze_top(model: SentimentNet | LanguageModel, n_groups: int) -> None:
    """Gradual unfreezing: only the top ``n_groups`` layer groups get gradients."""
    groups = model.layer_groups()
    for depth, params in enumerate(reversed(groups)):
        for p in params:
            p.requires_grad_(depth < n_groups)


def load_encoder(target: SentimentNet | LanguageModel, state: dict[str, torch.Tensor]) -> None:
    """Copy the ``encoder.*`` weights of a checkpoint (e.g. the pretrained LM) into a model."""
    enc = {k[len("encoder.") :]: v for k, v in state.items() if k.startswith("encoder.")}
    if not enc:
        raise ValueError("checkpoint has no encoder weights")
    target.encoder.load_state_dict(enc)
