"""Data-parallel training with ``torch.distributed`` (DDP), started by ``torchrun``.

``torchrun --nproc_per_node=N -m graphkit train CONFIG`` sets ``RANK`` / ``WORLD_SIZE`` /
``LOCAL_RANK``; the trainer then

- splits the training seeds (nodes, links or graphs) of every step across ranks,
- wraps the model in :class:`~torch.nn.parallel.DistributedDataParallel` so gradients are
  all-reduced (averaged) after each backward,
- scores each split from the predictions of all ranks gathered together (never an average of
  per-rank metrics),
- writes results and checkpoints on rank 0 only.

The backend is NCCL on CUDA and gloo on CPU. For graphs beyond one machine, plug a cluster
sampling engine in place of graphkit's loaders: cuGraph-PyG's loaders implement PyG's loader
interface (``batch.n_id``, ``batch.batch_size``, ...), which is all the task adapters read.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor


@dataclass(frozen=True)
class DistEnv:
    """Where this process sits in the job (``world_size == 1``: no distribution)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_from_env(device_name: str = "auto") -> DistEnv:
    """Join the process group when launched by ``torchrun`` (reads ``WORLD_SIZE``)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistEnv()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device_name != "cpu"
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    if use_cuda:
        torch.cuda.set_device(local)
    return DistEnv(rank, world, local)


def shard(index: Tensor, env: DistEnv) -> Tensor:
    """This rank's share ``index[rank::world]`` of a 1-D index (or of the columns of a 2-D one)."""
    if not env.enabled:
        return index
    return index[..., env.rank::env.world_size]


def gather_cat(x: Tensor, env: DistEnv) -> Tensor:
    """Concatenate ``x`` from all ranks along dim 0 (rows may differ in number per rank), in the
    order ``shard`` dealt them out: row ``i`` of rank ``r`` was item ``i * world + r``."""
    if not env.enabled:
        return x
    n = torch.tensor([x.size(0)], device=x.device)
    sizes = [torch.zeros_like(n) for _ in range(env.world_size)]
    dist.all_gather(sizes, n)
    m = int(max(int(s) for s in sizes))
    pad = x.new_zeros((m - x.size(0),) + tuple(x.shape[1:]))
    parts = [x.new_empty((m,) + tuple(x.shape[1:])) for _ in range(env.world_size)]
    dist.all_gather(parts, torch.cat([x, pad]).contiguous())
    total = int(sum(int(s) for s in sizes))
    out = x.new_empty((total,) + tuple(x.shape[1:]))
    for r, (part, s) in enumerate(zip(parts, sizes)):  # loop over ranks only
        out[r::env.world_size] = part[: int(s)]
    return out


def wrap_model(model: torch.nn.Module, env: DistEnv, device: torch.device) -> torch.nn.Module:
    if not env.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP
    ids = [device.index if device.index is not None else env.local_rank] if device.type == "cuda" else None
    return DDP(model, device_ids=ids, find_unused_parameters=False)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    return getattr(model, "module", model)


def barrier(env: DistEnv) -> None:
    if env.enabled:
        dist.barrier()


def broadcast_object(obj, env: DistEnv):
    if not env.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]
