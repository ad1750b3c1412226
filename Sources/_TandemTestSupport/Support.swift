import TandemIR
