"""The committee dashboard: given against received per province, area and site.

``web.install(app, db, settings)`` mounts it on the hub app under ``/dashboard``;
``auth`` holds its logins (separate from station tokens), ``data`` its numbers,
``view`` the strings, number formats and the SVG chart. See docs/dashboard.md.
"""
