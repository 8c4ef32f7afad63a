"""The benchmark (`make bench`, `python -m tests.bench`): the real bot process and the real Claude
Code CLI against the local stand-ins, with the machine's own CLI round trip as the anchor.

Not part of the test suite: nothing here is named test_*.py, so pytest never collects it.
"""
