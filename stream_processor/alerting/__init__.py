"""Alerting on negative-sentiment spikes: a pure detector, explanations, the alert cycle and sinks."""
