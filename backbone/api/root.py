from ninja import NinjaAPI

api = NinjaAPI(title="Backbone API", version="1", urls_namespace="api")
