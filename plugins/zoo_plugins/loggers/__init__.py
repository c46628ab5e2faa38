"""Built-in loggers: where a run's records go besides metrics.jsonl."""
