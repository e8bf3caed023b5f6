"""The policykb knowledge base, installed as the resource package ``pyclingo_bridge.kb``.

Only ``.lp`` and ``.yaml`` files live here; this file lets importlib.resources find them.
"""
