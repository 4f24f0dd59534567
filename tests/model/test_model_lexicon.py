"""Lexicon valence features: values, network wiring, survival through save → load."""

from __future__ import annotations

import torch

from model.lexicon import valence_features, valence_vector
from model.nets import NetConfig, SentimentNet
from model.text import SMILE, SPECIALS
from model.vocab import Vocab


def test_valence_vector_scales_lexicon_and_maps_emoticon_markers():
    vocab = Vocab(itos=[*SPECIALS, "good", "bad", "table"])
    vec = valence_vector(vocab, {"good": 2.0, "bad": -4.0, ":)": 1.0})
    assert vec[vocab.stoi["good"]] == 0.5 and vec[vocab.stoi["bad"]] == -1.0
    assert vec[vocab.stoi["table"]] == 0.0 and vec[vocab.stoi[SMILE]] == 0.25
    assert vec[0] == 0.0  # padding is neutral


def test_valence_features_summarise_each_text():
    valence = torch.tensor([0.0, 0.5, -0.25, 0.0])
    feats = valence_features(valence, torch.tensor([[1, 1, 2], [3, 0, 0]]))
    assert feats.tolist() == [[1.0, 0.25, 0.5, -0.25], [0.0, 0.0, 0.0, 0.0]]


def test_lexicon_classifier_has_wider_head_and_uses_the_buffer():
    cfg = NetConfig(vocab_size=10, emb_dim=4, hidden=6, lexicon=True)
    net = SentimentNet(cfg).eval()
    assert net.head.in_features == 3 * 6 + 4
    ids, lengths = torch.tensor([[2, 5, 6]]), torch.tensor([3])
    before = net(ids, lengths)
    net.valence[5] = 1.0
    assert not torch.allclose(before, net(ids, lengths))
    assert "valence" in net.state_dict()
