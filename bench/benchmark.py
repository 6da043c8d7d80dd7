"""What the program costs, and how that grows with the number of services.

    .tools/bin/uv run --group test python bench/benchmark.py [--repeat 5] [--skip-suite | --setup | --first-command]

Prints a Markdown table (medians, with min–max) and exits non-zero only when something
could not be measured. Nothing here asserts a time: these machines are shared and noisy.

1. Overhead: `__main__.py` under the mocks for the three stacks, against the floor (the same
   resources registered straight through the SDK, `bench/floor_program.py`), alternating the
   two in one process. Interpreter start and imports are measured apart.
2. Scaling: 11, 110 and 550 services per environment, each size in its own process (wall
   time of the evaluation, peak RSS), and the marginal cost per resource between sizes.
3. Critical path: the longest chain of resources that must be created one after another,
   from the recorded dependencies (explicit `depends_on` and property dependencies).
4. Provider calls: invokes in one evaluation (the harness refuses any, so a finished run
   proves zero) and the OCI read calls the Kubernetes sync makes per hour per environment.
5. Test suite and offline plan: wall time, cold (no bytecode cache) and warm; the README's first
   command run again where it already ran (uv installed, .venv synced) against the plan alone.
6. Set-up (`--setup`, minutes and network): the README's first command in a fresh clone, with
   empty uv and pip caches and with warm ones, against the plan's own time and against the old
   pip set-up (a venv and `pip install` of the same pins, exported from the lock); and `.ci/run`.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from components.naming import PROJECT  # noqa: E402
from offline.doc_commands import readme_commands  # noqa: E402
from offline.harness import STACKS, ProgramRun, run_program, run_stack, stack_file_config  # noqa: E402
from offline.uv import uv_executable  # noqa: E402

TODAY = date(2026, 1, 1)
SIZES = (11, 110, 550)
PLAN_ALONE = ".venv/bin/python -m offline.plan all"


def spread(values: list[float], unit: str = "s", scale: float = 1.0) -> str:
    values = [v * scale for v in values]
    return f"{statistics.median(values):.3f} {unit} ({min(values):.3f}–{max(values):.3f})"


def ratio_spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def run_real(stack: str, config: dict[str, Any] | None = None) -> ProgramRun:
    return run_stack(stack, today=TODAY, config=config)


def floor_file(run: ProgramRun) -> Path:
    """The recording the floor program replays: every provider and resource, with its dependencies."""
    name_of = {r.urn: r.name for r in (*run.reads, *(r for r in run.registrations if r.custom))}
    recorded = [{"type": r.type, "name": r.name, "id": r.id, "read": True} for r in run.reads] + [
        {
            "type": r.type,
            "name": r.name,
            "inputs": r.inputs,
            "provider": r.provider.split("::")[-2] if r.provider else None,
            "dependsOn": sorted(
                {name_of[u] for u in (*r.depends_on, *(u for us in r.property_dependencies.values() for u in us)) if u in name_of}
            ),
            "afterCreateHooks": list(r.after_create_hooks),
        }
        for r in run.registrations
        if r.custom
    ]
    handle = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(recorded, handle)
    handle.close()
    return Path(handle.name)


@dataclass
class Timings:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, runs: list[ProgramRun]) -> None:
        self.wall.append(sum(r.evaluation_seconds for r in runs))
        self.cpu.append(sum(r.evaluation_cpu_seconds for r in runs))


def alternate(stacks: dict[str, dict[str, Any]], repeat: int) -> tuple[Timings, Timings, int]:
    """Evaluation times of the program and of its floor, alternated, summed over `stacks` (name → config)."""
    recordings = {stack: run_real(stack, config) for stack, config in stacks.items()}  # also warms up imports
    floors = {stack: floor_file(run) for stack, run in recordings.items()}
    program, floor = Timings(), Timings()
    for _ in range(repeat):
        program.add([run_real(stack, config) for stack, config in stacks.items()])
        floor_runs = []
        for stack, config in stacks.items():
            os.environ["BENCH_FLOOR_FILE"] = str(floors[stack])
            floor_runs.append(run_program(stack, config, None, program=PROJECT_DIR / "bench" / "floor_program.py"))
        floor.add(floor_runs)
    del os.environ["BENCH_FLOOR_FILE"]
    for path in floors.values():
        path.unlink()
    return program, floor, sum(len(run.resources) for run in recordings.values())


def overhead(repeat: int) -> list[tuple[str, str]]:
    program, floor, _ = alternate({stack: stack_file_config(stack) for stack in STACKS}, repeat)
    ratios = [p / f for p, f in zip(program.wall, floor.wall)]
    cpu_ratios = [p / f for p, f in zip(program.cpu, floor.cpu)]
    start = [_command_seconds([sys.executable, "-c", "pass"]) for _ in range(repeat)]
    imports = [
        _command_seconds(
            [sys.executable, "-c", "import pulumi, pulumi_oci, pulumi_kubernetes, pydantic, components.environment_vault"]
        )
        for _ in range(repeat)
    ]
    return [
        ("Evaluation, 3 stacks, program: wall; CPU", f"{spread(program.wall)}; {spread(program.cpu)}"),
        ("Evaluation, 3 stacks, floor (same resources, dependencies and SDK classes; nothing else): wall; CPU",
         f"{spread(floor.wall)}; {spread(floor.cpu)}"),
        ("Ratio program / floor per alternated pair (target ≤ 1.15): wall; CPU",
         f"{ratio_spread(ratios)}; {ratio_spread(cpu_ratios)}"),
        ("Interpreter start", spread(start)),
        ("Interpreter start + imports (pulumi, pulumi-oci, pulumi-kubernetes, pydantic, component)", spread(imports)),
    ]


def user_environment() -> dict[str, str]:
    """This environment as a user's machine has it, where Python caches bytecode: a sandbox that
    sets PYTHONDONTWRITEBYTECODE (this one does) would make every start a cold one."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def _command_seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=PROJECT_DIR, env=user_environment(), check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def scale_child(size: int, repeat: int) -> dict[str, Any]:
    """One size, in its own process so that peak memory is its own."""
    config = stack_file_config("staging")
    config[f"{PROJECT}:services"] = [f"svc{i:03d}-service" for i in range(size)]
    program, floor, resources = alternate({"staging": config}, repeat)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"program": asdict(program), "floor": asdict(floor), "resources": resources, "peak_rss_mib": peak}


def scaling(repeat: int) -> list[tuple[str, str]]:
    results = {}
    for size in SIZES:
        output = subprocess.run(
            [sys.executable, __file__, "--scale-child", str(size), "--repeat", str(repeat)],
            cwd=PROJECT_DIR, check=True, capture_output=True, text=True,
        ).stdout
        results[size] = json.loads(output.strip().splitlines()[-1])
    rows = [
        (
            f"{size} services ({r['resources']} resources): program wall; floor wall; program CPU",
            f"{spread(r['program']['wall'])}; {spread(r['floor']['wall'])}; {spread(r['program']['cpu'])}; "
            f"peak RSS {r['peak_rss_mib']:.0f} MiB (both)",
        )
        for size, r in results.items()
    ]
    for clock in ("cpu", "wall"):
        marginal: dict[str, dict[int, float]] = {"program": {}, "floor": {}}
        for low, high in zip(SIZES, SIZES[1:]):
            added = results[high]["resources"] - results[low]["resources"]
            for kind in marginal:
                seconds = statistics.median(results[high][kind][clock]) - statistics.median(results[low][kind][clock])
                marginal[kind][high] = seconds / added
            rows.append(
                (f"Marginal {clock.upper()} cost per resource, {low} → {high} services: program; floor",
                 f"{marginal['program'][high] * 1000:.2f} ms; {marginal['floor'][high] * 1000:.2f} ms")
            )
        rows.append(
            (f"Marginal {clock.upper()} at 550 / at 110 (target ≤ 1.2): program; floor",
             f"{marginal['program'][550] / marginal['program'][110]:.2f}; "
             f"{marginal['floor'][550] / marginal['floor'][110]:.2f}")
        )
    return rows


def critical_path(run: ProgramRun) -> tuple[list[str], int]:
    """Longest chain of resources created one after another, and the widest level of that graph."""
    nodes = {r.urn: r for r in run.resources}
    needs = {
        urn: {d for d in (*r.depends_on, *(u for us in r.property_dependencies.values() for u in us)) if d in nodes}
        for urn, r in nodes.items()
    }
    chain: dict[str, list[str]] = {}

    def longest(urn: str) -> list[str]:
        if urn not in chain:
            before = max((longest(d) for d in needs[urn]), key=len, default=[])
            chain[urn] = [*before, urn]
        return chain[urn]

    longest_chain = max((longest(urn) for urn in nodes), key=len)
    levels: dict[int, int] = {}
    for urn in nodes:
        levels[len(longest(urn))] = levels.get(len(longest(urn)), 0) + 1
    return [nodes[u].type.rsplit(":", 1)[-1] for u in longest_chain], max(levels.values())


def _seconds(duration: str) -> int:
    total, number = 0, ""
    for char in duration:
        if char.isdigit():
            number += char
        else:
            total += int(number) * {"h": 3600, "m": 60, "s": 1}[char]
            number = ""
    return total


def sync_reads_per_hour(run: ProgramRun) -> float:
    """GetSecretBundleByName per ExternalSecret item per refresh, plus GetVault per store revalidation."""
    from components.manifests import STORE_REVALIDATION

    bundles = sum(
        len(e.inputs["spec"]["data"]) * 3600 / _seconds(e.inputs["spec"]["refreshInterval"])
        for e in run.of_type("kubernetes:external-secrets.io/v1:ExternalSecret")
    )
    stores = len(run.of_type("kubernetes:external-secrets.io/v1:SecretStore"))
    return bundles + stores * 3600 / _seconds(STORE_REVALIDATION)


def structure() -> list[tuple[str, str]]:
    run = run_real("production")
    chain, widest = critical_path(run)
    secrets = len(run.of_type("oci:Vault/secret:Secret"))
    return [
        ("Critical path (target ≤ 4)", f"{len(chain)}: {' → '.join(chain)}"),
        ("Widest level", f"{widest} resources"),
        ("Invokes in one evaluation (target 0 per secret)", f"0 for {secrets} secrets (the harness refuses any invoke)"),
        ("OCI read calls by the sync, per hour, production", f"{sync_reads_per_hour(run):.0f}"),
    ]


def _clear_bytecode() -> None:
    for cache in PROJECT_DIR.rglob("__pycache__"):
        if ".venv" not in cache.parts:
            shutil.rmtree(cache)


def cold_and_warm(label: str, command: list[str], repeat: int) -> list[tuple[str, str]]:
    def timed(prepare: Callable[[], None]) -> list[float]:
        values = []
        for _ in range(repeat):
            prepare()
            values.append(_command_seconds(command))
        return values

    cold = timed(_clear_bytecode)
    warm = timed(lambda: None)
    return [(f"{label}, cold (no bytecode cache)", spread(cold)), (f"{label}, warm", spread(warm))]


def _shell_seconds(command: str, cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(["bash", "-c", command], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def _fresh_clone(root: Path) -> Path:
    """A clone of HEAD with the shared schemas beside it, as CI and a new user have it."""
    root.mkdir(parents=True)
    subprocess.run(["git", "clone", "-q", str(PROJECT_DIR), str(root / "main")], check=True)
    (root / "shared").symlink_to(PROJECT_DIR.parent / "shared")
    return root / "main"


def first_command_again(repeat: int) -> list[tuple[str, str]]:
    """The README's first command where it already ran (uv in .tools, .venv synced) against the plan
    alone, alternated in this checkout: what a reader pays for running it again."""
    plan_command, _ = readme_commands(PROJECT_DIR)
    env = user_environment()
    _shell_seconds(plan_command, PROJECT_DIR, env)  # as on a reader's second run: everything installed
    again, alone = [], []
    for _ in range(repeat):
        again.append(_shell_seconds(plan_command, PROJECT_DIR, env))
        alone.append(_shell_seconds(PLAN_ALONE, PROJECT_DIR, env))
    ratios = [a / b for a, b in zip(again, alone)]
    return [
        ("README's first command, run again (nothing to install)", spread(again)),
        ("Plan alone (`.venv/bin/python -m offline.plan all`)", spread(alone)),
        ("First command again ÷ plan alone, per alternated pair (target ≤ 1.3)", ratio_spread(ratios)),
    ]


def setup(repeat: int) -> list[tuple[str, str]]:
    """The README's first command from nothing, cold and warm, beside the plan alone and the old pip set-up."""
    plan_command, _ = readme_commands(PROJECT_DIR)
    work = Path(tempfile.mkdtemp(prefix="bench-setup-"))
    requirements = work / "requirements.txt"
    requirements.write_text(subprocess.run(
        [uv_executable(), "export", "--locked", "--no-hashes", "--no-dev", "--format", "requirements-txt"],
        cwd=PROJECT_DIR, check=True, capture_output=True, text=True,
    ).stdout)
    pip_command = f"python3.11 -m venv .venv && .venv/bin/pip install -q -r {requirements} && {PLAN_ALONE}"
    try:
        timings: dict[str, list[float]] = {}
        for label, command in (("uv", plan_command), ("pip", pip_command)):
            caches = {"UV_CACHE_DIR": str(work / f"{label}-uv-cache"), "PIP_CACHE_DIR": str(work / f"{label}-pip-cache")}
            env = user_environment() | caches
            for run in range(repeat):
                for state in ("cold", "warm"):
                    if state == "cold":
                        for cache in caches.values():
                            shutil.rmtree(cache, ignore_errors=True)
                    clone = _fresh_clone(work / f"{label}-{state}-{run}")
                    timings.setdefault(f"{label} {state}", []).append(_shell_seconds(command, clone, env))
                    if label == "uv" and state == "warm":
                        timings.setdefault("plan", []).append(_shell_seconds(PLAN_ALONE, clone, env))
        ci = _fresh_clone(work / "ci")
        ci_seconds = _shell_seconds("bash .ci/run", ci, user_environment() | {"CI": "true", "UV_CACHE_DIR": str(work / "uv-uv-cache")})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    plan = statistics.median(timings["plan"])

    def setup_ratio(key: str) -> str:
        return f"{(statistics.median(timings[key]) - plan) / plan:.2f}"

    return [
        ("README's first command, fresh clone, empty uv and pip caches", spread(timings["uv cold"])),
        ("README's first command, fresh clone, warm caches", spread(timings["uv warm"])),
        ("of which the plan itself (set-up venv, `python -m offline.plan all`)", spread(timings["plan"])),
        ("Set-up ÷ plan, cold; warm (goal ≤ 2)", f"{setup_ratio('uv cold')}; {setup_ratio('uv warm')}"),
        ("Old pip set-up and plan (venv, `pip install` of the same pins), empty caches", spread(timings["pip cold"])),
        ("Old pip set-up and plan, warm pip cache", spread(timings["pip warm"])),
        ("`CI=true bash .ci/run`, fresh clone, warm uv cache (one run)", f"{ci_seconds:.1f} s"),
    ]


def machine() -> str:
    return (
        f"{date.today().isoformat()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}"
    )


def parser() -> argparse.ArgumentParser:
    """The command line (the docs test checks documented benchmark commands against it: they run for minutes)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-suite", action="store_true", help="do not time the test suite (it takes minutes)")
    parser.add_argument("--setup", action="store_true", help="time only the set-up (README command, pip, .ci/run): minutes, network")
    parser.add_argument("--first-command", action="store_true", help="time only the README's first command run again, against the plan alone")
    parser.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)
    return parser


def main() -> int:
    args = parser().parse_args()
    if args.scale_child:
        print(json.dumps(scale_child(args.scale_child, args.repeat)))
        return 0
    repeat = min(args.repeat, 3) if args.setup else args.repeat
    try:
        if args.setup:
            rows = setup(repeat)
        elif args.first_command:
            rows = first_command_again(repeat)
        else:
            rows = overhead(repeat) + scaling(repeat) + structure() + first_command_again(repeat)
            rows += cold_and_warm("Offline plan, 3 stacks", [sys.executable, "-m", "offline.plan", "all"], min(repeat, 3))
            if not args.skip_suite:
                rows += cold_and_warm("Test suite", [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], 1)
    except subprocess.CalledProcessError as error:
        print(f"could not measure: {error}\n{error.stdout or ''}{error.stderr or ''}"[-4000:], file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError) as error:
        print(f"could not measure: {error}", file=sys.stderr)
        return 1
    print(f"Measured {machine()}; medians of {repeat} runs (min–max).\n")
    print("| Measure | Result |\n|---|---|")
    for measure, result in rows:
        print(f"| {measure} | {result} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
