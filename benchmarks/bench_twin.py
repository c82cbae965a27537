"""Benchmark: generating the national twin (98 municipalities, ~600,000 citizens, ~100,000 respondents).

Run: .venv/bin/python benchmarks/bench_twin.py [--repeat N]

Prints absolute seconds and peak memory, and the ratio to a baseline measured in the same run (the
same machine, the same moment): writing the generated population (600,000 rows) to CSV with pandas,
a fixed amount of plain data work that scales like the machine.
"""

from __future__ import annotations

import argparse
import io
import json
import time
import resource

from survey_lib.demo import generate
from survey_lib.params import load_params
from survey_lib.paths import ProjectPaths


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    params = load_params(ProjectPaths().params)
    gen_times, base_times = [], []
    data = None
    for _ in range(args.repeat):
        t = time.perf_counter()
        data = generate(params, seed=2023, scale=1.0)
        gen_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        data.population.to_csv(io.StringIO(), index=False)
        base_times.append(time.perf_counter() - t)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024   # Linux: kilobytes
    result = {
        "benchmark": "national twin generation",
        "population": len(data.population), "sample": len(data.sample), "respondents": len(data.responses),
        "municipalities": len(data.kommuner),
        "generate_seconds_best": round(min(gen_times), 2),
        "baseline_csv_seconds_best": round(min(base_times), 2),
        "ratio_to_baseline": round(min(gen_times) / min(base_times), 1),
        "peak_rss_mb": round(peak / 2**20),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
