"""Sentimon's stream processor: topic matching, window aggregation, sinks, the Faust worker and the
embedded runner. Importing the package is cheap: nothing connects and nothing heavy loads."""
