"""The seed loader: read and validate seed/ (dataset.py), write it in one transaction (load.py)."""
