"""Conway's Game of Life with a dead border (Examples/GameOfLife.swift)."""
import numpy as np

from common import uniform


def run(n=1024, steps=50, density=0.35):
    board = np.zeros((n + 2, n + 2), dtype=np.int32)
    board[1:-1, 1:-1] = uniform(60, (n, n)) < density
    populations = [int(board.sum())]
    for _ in range(steps):
        neighbours = (board[:-2, :-2] + board[:-2, 1:-1] + board[:-2, 2:]
                      + board[1:-1, :-2] + board[1:-1, 2:]
                      + board[2:, :-2] + board[2:, 1:-1] + board[2:, 2:])
        alive = board[1:-1, 1:-1] == 1
        board[1:-1, 1:-1] = (neighbours == 3) | (alive & (neighbours == 2))
        populations.append(int(board.sum()))
    return {"population_first": populations[0], "population_last": populations[-1],
            "population_max": max(populations), "population_min": min(populations),
            "population_sum": sum(populations)}
