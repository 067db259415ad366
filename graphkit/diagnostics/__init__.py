"""Over-smoothing (and over-squashing) diagnostics."""
from graphkit.diagnostics.curvature import (
    balanced_forman_curvature,
    ollivier_ricci_curvature,
)
from graphkit.diagnostics.oversmoothing import (
    DiagnosticsRecorder,
    dirichlet_energy,
    hop_distances,
    mad,
    mad_gap,
    plot_energy_vs_depth,
)
from graphkit.diagnostics.oversquashing import (
    effective_resistance,
    jacobian_sensitivity,
    oversquashing_measures,
    propagation_sensitivity,
    rewiring_report,
    spectral_gap,
    total_effective_resistance,
)

__all__ = [
    "DiagnosticsRecorder",
    "balanced_forman_curvature",
    "dirichlet_energy",
    "effective_resistance",
    "hop_distances",
    "jacobian_sensitivity",
    "mad",
    "mad_gap",
    "ollivier_ricci_curvature",
    "oversquashing_measures",
    "plot_energy_vs_depth",
    "propagation_sensitivity",
    "rewiring_report",
    "spectral_gap",
    "total_effective_resistance",
]
