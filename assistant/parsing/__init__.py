"""Understanding requests: the offline parser (rules + sentence embeddings) and the LLM parser."""
