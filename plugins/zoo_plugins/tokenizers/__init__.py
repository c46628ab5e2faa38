"""Built-in tokenizers. None of them imports torch."""
