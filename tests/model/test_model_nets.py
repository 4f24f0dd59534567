"""Network shapes, padding invariance, parameter groups and unfreezing."""

from __future__ import annotations

import pytest
import torch

from model.nets import LanguageModel, NetConfig, SentimentNet, param_groups, unfreeze_top


def _batch():
    ids = torch.tensor([[2, 5, 6, 7, 9], [2, 8, 4, 0, 0], [2, 0, 0, 0, 0]])
    return ids, torch.tensor([5, 3, 1])


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_classifier_gives_raw_logits_per_text(cell, layers, bidirectional):
    torch.manual_seed(0)
    cfg = NetConfig(
        vocab_size=40, emb_dim=8, hidden=12, layers=layers, cell=cell, bidirectional=bidirectional
    )
    net = SentimentNet(cfg).eval()
    ids, lengths = _batch()
    logits = net(ids, lengths)
    assert logits.shape == (3, 3)
    assert not torch.allclose(logits.softmax(1).sum(1), logits.sum(1))  # not probabilities
    assert net.head.in_features == 3 * 12 * (2 if bidirectional else 1)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_does_not_change_the_output(bidirectional):
    torch.manual_seed(0)
    net = SentimentNet(
        NetConfig(vocab_size=40, emb_dim=8, hidden=12, layers=2, bidirectional=bidirectional)
    ).eval()
    ids, lengths = _batch()
    together = net(ids, lengths)
    alone = net(ids[1:2, :3], lengths[1:2])
    assert torch.allclose(together[1], alone[0], atol=1e-6)


def test_a_bidirectional_encoder_reads_the_text_backwards_too():
    """The backward direction's state at the first word has read the whole text: changing the last word
    changes it, which a forward-only state at the first word could not."""
    torch.manual_seed(0)
    enc = SentimentNet(NetConfig(vocab_size=40, emb_dim=8, hidden=12, bidirectional=True)).encoder.eval()
    a, b = torch.tensor([[2, 5, 6, 7]]), torch.tensor([[2, 5, 6, 9]])
    out_a, _ = enc(a, torch.tensor([4]))
    out_b, _ = enc(b, torch.tensor([4]))
    assert torch.allclose(out_a[0, 0, :12], out_b[0, 0, :12])  # forward half at word 1: unchanged
    assert not torch.allclose(out_a[0, 0, 12:], out_b[0, 0, 12:])  # backward half: it saw the change


def test_a_language_model_refuses_a_bidirectional_encoder():
    with pytest.raises(ValueError, match="left to right"):
        LanguageModel(NetConfig(vocab_size=40, emb_dim=8, hidden=12, bidirectional=True))


def test_lm_loss_is_a_scalar_near_log_vocab_at_start():
    torch.manual_seed(0)
    lm = LanguageModel(NetConfig(vocab_size=40, emb_dim=8, hidden=12)).eval()
    ids, lengths = _batch()
    loss = lm(ids, lengths)
    assert loss.dim() == 0
    assert abs(float(loss) - torch.log(torch.tensor(40.0))) < 1.0


def test_adaptive_softmax_for_big_vocabularies():
    lm = LanguageModel(NetConfig(vocab_size=9000, emb_dim=8, hidden=12))
    assert isinstance(lm.decoder, torch.nn.AdaptiveLogSoftmaxWithLoss)


def test_discriminative_learning_rates_decrease_downwards():
    net = SentimentNet(NetConfig(vocab_size=40, emb_dim=8, hidden=12, layers=2))
    groups = param_groups(net, lr=1.0, decay=2.0)
    lrs = sorted({g["lr"] for g in groups}, reverse=True)
    assert lrs == [1.0, 0.5, 0.25, 0.125]  # head, top RNN, lower RNN, embedding
    emb = next(g for g in groups if any(p is net.encoder.embedding.weight for p in g["params"]))
    assert emb["lr"] == 0.125 and emb["weight_decay"] == 0.0
    n_params = sum(len(g["params"]) for g in groups)
    assert n_params == len(list(net.parameters()))


def test_gradual_unfreezing_opens_groups_from_the_top():
    net = SentimentNet(NetConfig(vocab_size=40, emb_dim=8, hidden=12, layers=2))
    unfreeze_top(net, 1)
    assert all(p.requires_grad for p in net.head.parameters())
    assert not any(p.requires_grad for p in net.encoder.parameters())
    unfreeze_top(net, 2)
    assert all(p.requires_grad for p in net.encoder.rnns[1].parameters())
    assert not net.encoder.embedding.weight.requires_grad
    unfreeze_top(net, 4)
    assert all(p.requires_grad for p in net.parameters())


def test_weight_dropout_only_while_training():
    torch.manual_seed(0)
    net = SentimentNet(NetConfig(vocab_size=40, emb_dim=8, hidden=12, weight_dropout=0.5))
    ids, lengths = _batch()
    net.train()
    a, b = net(ids, lengths), net(ids, lengths)
    assert not torch.allclose(a, b)
    net.eval()
    assert torch.allclose(net(ids, lengths), net(ids, lengths))
