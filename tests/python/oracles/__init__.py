"""Naive oracles the kernel tests compare against, one module per segment."""
