"""Analysis: looking inside models, novelty of samples, plots, comparing runs and the text and
HTML tables they print."""
