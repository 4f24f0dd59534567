"""Sentimon's retraining service: labels from the database in, a judged and promoted model version out.

It stands on the model package (training, evaluation, registry folders) and the core's storage."""
