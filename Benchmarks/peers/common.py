"""Helpers shared by the peer scripts (they run as `python peers/<script>.py`, so this folder is on sys.path)."""


def median(values):
    """The median of a list of numbers (the middle one, or the mean of the two middle ones)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
