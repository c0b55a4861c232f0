"""The book's benchmarks (`make bench`): speed and memory goals measured, never asserted in timed tests."""
