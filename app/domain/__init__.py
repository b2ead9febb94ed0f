"""The bottom layer: the vocabularies and reference data every other layer shares.

Nothing here imports from the rest of the application, so the parser, the search
engine, the store, the services and the HTTP layer can all depend on it.
"""
