"""The Docker Compose backend: compose through python-on-whales, the engine through the docker SDK."""
