// Standard workloads (issue 3) live here.
