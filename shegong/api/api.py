from ninja import NinjaAPI

api = NinjaAPI(title="Shegong API", version="1")
