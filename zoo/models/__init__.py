"""Models: the torch side of a run. Choosing a device, saving a model's weights and loading a
trained run's model back. The lowest layer that imports torch."""
