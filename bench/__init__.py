"""On-demand benchmarks (not run in CI); see BENCHMARKS.md at the repository root."""
