"""Built-in datasets: text corpora split into training and validation documents."""
