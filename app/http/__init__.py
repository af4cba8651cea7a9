"""HTTP mechanics below the routes: conditional requests, the response cache, response
helpers."""
