"""zoo's version and the version of its plugin API (no imports: the bottom of the layers)."""

__version__ = "0.1.0"

#: Version of the plugin API: the hook signatures and the component contracts.
#: A plugin module may set ``ZOO_PLUGIN_API = N``; one that needs a newer API
#: than this is refused and listed as broken.
PLUGIN_API_VERSION = 3  # 2: zoo_register_loggers; 3: zoo_register_pretrained
