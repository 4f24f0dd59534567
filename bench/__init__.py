"""Benchmarks that score the product against public labelled data, kept out of the production packages."""
