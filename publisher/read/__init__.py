"""The read API's pure core: query parsing, the indexed catalogue, the data source and the routes."""
