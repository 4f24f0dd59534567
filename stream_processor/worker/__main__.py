"""`python -m stream_processor.worker [options]`: the same as `sentimon worker [options]`."""

import sys

from stream_processor.cli import app

if __name__ == "__main__":
    app(["worker", *sys.argv[1:]])
