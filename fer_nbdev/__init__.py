__version__ = "0.1.0"

# `fer_nbdev.Recognizer` without importing torch, OpenCV or the detectors until it is used (PEP 562).
def __getattr__(name):
    if name == 'Recognizer':
        from .recognize import Recognizer
        return Recognizer
    raise AttributeError(f"module 'fer_nbdev' has no attribute {name!r}")
