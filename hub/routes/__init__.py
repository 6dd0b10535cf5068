"""The hub's HTTP routes, one module per concern; each adds its routes to the app.

``context`` holds what every route needs (the database, the settings, the
clock, the change watch) and the bearer-token dependency ``Auth``.
"""
