// TandemStart has no API: its one function runs before `main` (see start.c).
#ifndef TANDEM_START_H
#define TANDEM_START_H
#endif
