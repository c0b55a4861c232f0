#!/usr/bin/env bash
# The environment of `make nbval-portable`: the kernels switched to another instruction set than the main pass.
# Three libraries pick their kernels separately (CONTRIBUTING.md, "The portability pass"): ATen, oneDNN and MKL.
if [ "${ATEN_CPU_CAPABILITY:-}" = "default" ]; then
  echo "ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2"
else
  echo "ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 MKL_ENABLE_INSTRUCTIONS=SSE4_2"
fi
