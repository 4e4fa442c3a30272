"""Kernels: pure functions over sorted arrays. No I/O, no DataFrames, no shapely objects."""
