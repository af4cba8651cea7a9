"""The compose file scales out the way the README says: every API container shares its
rate limits through the Redis service, and Prometheus scrapes each replica as a target of
its own (never through the load balancer, which would show a different replica's
numbers on every scrape)."""

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def load(path: str) -> dict[str, Any]:
    document = yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def test_every_api_container_shares_rate_limits_through_redis() -> None:
    services = load("docker-compose.yml")["services"]
    assert "redis" in services
    assert "redis" in services["redis"]["image"]
    for name in ("api", "api-postgres"):
        environment = services[name]["environment"]
        assert environment["ECONFACTS_REDIS_URL"].startswith("redis://redis:6379"), name
        assert "redis" in services[name]["depends_on"], name
    # Several replicas, each serving with its default workers (the CPU count in production).
    replicas = services["api-postgres"]
    assert replicas["deploy"]["replicas"] > 1
    assert replicas["environment"]["ECONFACTS_ENVIRONMENT"] == "production"
    assert "--workers" not in " ".join(replicas.get("command", []))


def test_prometheus_scrapes_each_replica_as_its_own_target() -> None:
    services = load("docker-compose.yml")["services"]
    prometheus = services["prometheus"]
    assert any("deploy/prometheus.yml" in volume for volume in prometheus["volumes"])
    config = load("deploy/prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    job = jobs["econfacts"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    assert "static_configs" not in job  # not one address (the proxy) for all replicas
    (discovery,) = job["dns_sd_configs"]
    assert discovery["names"] == ["api-postgres"]
    assert discovery["type"] == "A"  # one target per replica address
    assert discovery["port"] == 8000
