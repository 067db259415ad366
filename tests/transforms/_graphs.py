"""Small graphs shared by the rewiring tests."""
import networkx as nx
import torch
from torch_geometric.data import Data
from torch_geometric.utils import from_networkx


def graph(G: nx.Graph, features: int = 3, edge_features: int = 0, seed: int = 0) -> Data:
    G = nx.convert_node_labels_to_integers(G)
    d = from_networkx(G)
    gen = torch.Generator().manual_seed(seed)
    d.x = torch.randn(G.number_of_nodes(), features, generator=gen)
    if edge_features:
        d.edge_attr = torch.randn(d.edge_index.size(1), edge_features, generator=gen)
    d.num_nodes = G.number_of_nodes()
    return d


def zoo() -> dict:
    return {"barbell": graph(nx.barbell_graph(5, 3)),
            "path": graph(nx.path_graph(12)),
            "grid": graph(nx.grid_2d_graph(4, 5)),
            "tree": graph(nx.balanced_tree(2, 3)),
            "er_disconnected": graph(nx.gnp_random_graph(30, 0.08, seed=1)),
            "ba": graph(nx.barabasi_albert_graph(40, 2, seed=2)),
            "isolated": graph(nx.empty_graph(4))}
