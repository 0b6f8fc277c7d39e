"""Building the platform image and running docker-compose.yml with podman
(``make deploy-test``; see docs/deploy.md)."""
