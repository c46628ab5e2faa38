"""The zoo's built-in components.

Each subpackage's ``plugin`` module is an entry point in group ``zoo`` and
registers its components through the public hooks, exactly as a third-party
package would. Registration modules never import torch; the factories they
name are imported only when a component is used.
"""
