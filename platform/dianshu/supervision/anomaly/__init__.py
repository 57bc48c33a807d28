"""The anomaly ranking: an IsolationForest over case features (features.py reads them in one SQL
query into numpy arrays; model.py fits, scores and explains; service.py is the job and the reads)."""
