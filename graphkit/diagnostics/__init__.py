"""Over-smoothing (and over-squashing) diagnostics."""
from graphkit.diagnostics.oversmoothing import (DiagnosticsRecorder, dirichlet_energy,
                                                hop_distances, mad, mad_gap,
                                                plot_energy_vs_depth)

from graphkit.diagnostics.curvature import (balanced_forman_curvature,  # noqa: E402
                                            ollivier_ricci_curvature)
from graphkit.diagnostics.oversquashing import (effective_resistance,  # noqa: E402
                                                jacobian_sensitivity, oversquashing_measures,
                                                propagation_sensitivity, rewiring_report,
                                                spectral_gap, total_effective_resistance)

__all__ = ["DiagnosticsRecorder", "dirichlet_energy", "hop_distances", "mad", "mad_gap",
           "plot_energy_vs_depth",
           # over-squashing
           "balanced_forman_curvature", "ollivier_ricci_curvature", "effective_resistance",
           "total_effective_resistance", "spectral_gap", "propagation_sensitivity",
           "jacobian_sensitivity", "oversquashing_measures", "rewiring_report"]
