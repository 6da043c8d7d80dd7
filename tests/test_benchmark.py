"""The benchmark measures what it says: an honest floor, the right chain, the right call count (no timings here)."""

import json

from bench.benchmark import PROJECT_DIR, critical_path, floor_file, run_real, sync_reads_per_hour
from offline.harness import run_program, stack_file_config, unwrap_secrets


def test_the_floor_registers_exactly_the_programs_resources(monkeypatch):
    """Same types, names, inputs and dependencies through the same SDK classes: the ratio compares like with like."""
    real = run_real("production")
    path = floor_file(real)
    monkeypatch.setenv("BENCH_FLOOR_FILE", str(path))
    floor = run_program("production", stack_file_config("production"), None, program=PROJECT_DIR / "bench" / "floor_program.py")
    path.unlink()

    def inputs(run):
        return {(r.type, r.name): json.dumps(unwrap_secrets(r.inputs), sort_keys=True) for r in run.registrations if r.custom}

    def dependencies(run):
        return {
            r.name: {u.rsplit("::", 1)[-1] for u in (*r.depends_on, *(u for us in r.property_dependencies.values() for u in us))}
            for r in run.resources
        }

    assert inputs(floor) == inputs(real)
    assert dependencies(floor) == dependencies(real)


def test_critical_path_is_vault_key_secret_external_secret(stack_runs):
    """Each ExternalSecret waits for its secrets, so the longest creation chain is 4."""
    chain, widest = critical_path(stack_runs["production"])
    assert len(chain) == 4
    assert chain[0] in ("Vault", "Namespace") and chain[-1] == "ExternalSecret"
    assert widest >= 22


def test_sync_reads_count_every_item_and_store_check(stack_runs):
    """Per hour: 11 ExternalSecrets × 4 items at 1h (DATABASE_URL, JWT_SECRET, JWT_SECRET_NEXT, and
    JWT_SECRET_PREVIOUS once a rotation happened), plus one store check every 10 minutes; production's standby
    cluster reads from the replicas in its own region (disasterRecovery.standby): in this plan, the update that
    turns recovery on, DATABASE_URL, JWT_SECRET and JWT_SECRET_NEXT (both the primary's next generation: the
    signing one and the one before have no replica, docs/disaster-recovery.md), and as much as the primary
    from the second rotation on."""
    assert sync_reads_per_hour(stack_runs["production"]) == (44 + 6) + (33 + 6)
