"""Sentimon's sentiment model: tweet tokenizer, RNN LM + classifier, training, evaluation, serving.

Serving API: ``from model.inference import load``; ``load().classify(texts)``."""
