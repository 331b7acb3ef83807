"""HTTP routes, request-body middleware and the dependencies they share."""
