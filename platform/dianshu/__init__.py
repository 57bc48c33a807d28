"""Dianshu (点数): the domain core of the DRG point-method payment platform.

This package holds the domain and its storage. It never imports the API (dianshu_graphql)
or the queue (dianshu_workers).
"""

__version__ = "0.1.0"
