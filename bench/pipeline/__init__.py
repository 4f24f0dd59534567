"""`sentimon bench pipeline`: throughput, latency, lag and memory of the whole stream on the real stack."""
