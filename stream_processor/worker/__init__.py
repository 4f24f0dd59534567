"""The Faust worker: consume posts.raw, process micro-batches, commit, then acknowledge."""
