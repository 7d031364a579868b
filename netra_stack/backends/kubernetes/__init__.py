"""The Kubernetes backend (backend.py), its rendering of a plan (manifests.py) and its reading of pods (pods.py)."""

CONTEXT_VAR = "NETRA_KUBE_CONTEXT"  # the kubeconfig context to use (--kube-context), else its current one
