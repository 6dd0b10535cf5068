"""End-to-end fixtures: the throwaway PostgreSQL cluster and a cluster factory.

In CI (``CI=true``) a missing PostgreSQL is an error, never a skip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Cluster
from tests.pg import PgCluster

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cluster(tmp_path: Path, backend: str, pg: PgCluster | None) -> Iterator[Cluster]:
    """A started hub (no stations yet); every station and the hub are closed afterwards."""
    with Cluster(tmp_path / "e2e", backend, pg) as c:
        yield c


@pytest.fixture
def three(cluster: Cluster) -> Cluster:
    """Three stations across two sites: st1 (A, letter A), st2 (A, letter B), st3 (B, letter A).

    All three are synced once, so each starts with its site's users and lot.
    """
    cluster.add_node("DN-A-01", "A")
    cluster.add_node("DN-A-01", "B")
    cluster.add_node("DN-B-02", "A")
    cluster.sync_all()
    return cluster


ClusterFactory = Callable[..., Cluster]
