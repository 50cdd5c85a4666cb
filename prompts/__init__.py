"""Prompt templates and few-shot examples, as data files loaded by `assistant.parsing`."""
