"""Evaluation metrics, one module per concern (parsing, emotion, image quality, ...)."""
