from backbone.api.root import api

__all__ = ["api"]
